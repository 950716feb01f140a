# How --eval --strict prints values: nesting, special attribute names, repeats.
{ a = 1; }
{ "a b" = 1; "1a" = 2; "a-b" = 3; "a'b" = 4; "_a" = 5; "a_1" = 6; "if" = 7; "rec" = 8; "with" = 9; }
{ "" = 1; }
{ a = { b = { c = { d = 1; }; }; }; }
[ [ [ [ ] ] ] ]
let x = [ 1 ]; in [ x x ]
let x = { a = 1; }; in { b = x; c = x; }
let x = { a = 1; }; in [ x x x ]
"string with \"quotes\" and \\ and \${ and $"
"tab\there"
"unicode ☃"
"\r"
null
true
[ null true false ]
1.0
0.5
(-1)
(-1.5)
123456789012345
1.5e-10
1e15
1e16
1.0e-5
12345678.9
[ 1 2.5 "x" ]
builtins.map
x: x
{ f = x: x; }
[ (x: x) ]
./data
[ ./data ]
{ p = ./data/hello.txt; }
let s = { a = s; }; in 1
let s = { a = 1; self = s; }; in s.self.a
{ a = { }; b = [ ]; }
{ outPath = "o"; }
{ type = "derivation"; name = "fake"; }
{ __toString = s: "x"; }
{ a = "multi\nline"; }
{ "foo.bar" = 1; "ünï" = 2; "A" = 3; "a" = 4; "-x" = 5; "x-" = 6; "x?" = 7; "inherit" = 8; "__x" = 9; }
builtins.attrNames { "b" = 1; "B" = 2; "ä" = 3; "z" = 4; "_" = 5; "0" = 6; "" = 7; }
"\${"
"$\{"
"\$"
''''$''
''$''{''
"${"$"}{"
{ s = "\${x}"; }
[ "a\"b" "c\\d" ]
toString { __toString = s: 1; }
toString { __toString = s: s.outPath; outPath = "op"; }
"${{ outPath = { outPath = "nested"; }; }}"
{ __toString = s: 1; } + ""
builtins.toJSON { __toString = s: "x"; outPath = "y"; }
builtins.toJSON (derivation { name = "j"; system = "s"; builder = "/b"; })
[ true false null ]
{ a = true; b = null; }
builtins.split "(é)" "aéb"
builtins.stringLength (builtins.substring 0 1 "é")
builtins.substring 1 1 "é" == builtins.substring 1 1 "é"
let x = { a = x; }; in x
let x = [ x ]; in x
let x = { a = x; b = 1; }; in [ x x ]
let x = { a = y; }; y = { b = x; }; in x
let x = { a = x; }; in builtins.deepSeq x 1
let x = [ 1 x ]; in builtins.length x
let s = { a = [ s ]; }; in s
let l = [ 1 ]; in { a = l; b = { c = l; }; }
let e = { }; in [ e e ]
let e = [ ]; in [ e e ]
let s = "str"; in [ s s ]
let f = x: x; in [ f f ]
builtins.fromJSON "\"\\u0001\""
builtins.fromJSON "\"\\u007f\""
builtins.add 1
[ builtins.add (builtins.add 1) builtins.map ]
{ f = builtins.map (x: x); }
builtins.toXML (builtins.fromJSON "\"\\u0001\"")
builtins.toJSON (builtins.fromJSON "\"\\u0001\\u001f\"")
builtins.toXML [ (x: x) builtins.add ]
builtins.toXML (builtins.add 1)
# issue 13 cause 14: ANSI escapes are left out of messages when stderr is not a terminal
throw (builtins.fromJSON "\"\\u001b[1mbold\\u001b[0m\"")
