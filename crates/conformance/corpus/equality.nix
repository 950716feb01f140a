# Equality and ordering, deep and shallow, across types.
1 == 1
1 == 2
1 == 1.0
1.0 == 1
"a" == "a"
"a" == "b"
null == null
null == false
true == true
[ ] == [ ]
{ } == { }
[ 1 [ 2 { a = 3; } ] ] == [ 1 [ 2 { a = 3; } ] ]
[ 1 [ 2 { a = 3; } ] ] == [ 1 [ 2 { a = 4; } ] ]
{ a = [ 1 2 ]; } == { a = [ 1 2 ]; }
(x: x) == (x: x)
let f = x: x; in f == f
let f = x: x; in [ f ] == [ f ]
let f = x: x; in { a = f; } == { a = f; }
builtins.add == builtins.add
./data == ./data
"a" == ./data
1 == "1"
[ 1 ] == 1
{ a = 1; } != { a = 1; }
1 != 2
{ a = throw "x"; } == { b = 1; }
{ a = throw "x"; } == { a = 1; }
[ (throw "x") ] == [ ]
[ (throw "x") ] == [ 1 ]
{ type = "derivation"; outPath = "a"; x = 1; } == { type = "derivation"; outPath = "a"; x = 2; }
{ outPath = "a"; x = 1; } == { outPath = "a"; x = 2; }
1 < 2
2 < 1
1 <= 1
2 >= 3
1.5 > 1
"a" < "b"
"B" < "a"
"" < "a"
"ab" < "b"
"é" > "z"
null < null
true < false
{ } < { }
./a < ./b
./a < "b"
1 < null
[ 1 ] <= [ 1 ]
[ 1 ] >= [ 2 ]
(1 == 1) == true
!true
!1
!(1 == 2)
true && false
true || false
false -> false
1 && true
true && 1
true || 1
false || 1
# issue 13 cause 5: after forcing, the same value compares equal by pointer (functions too)
let f = x: x; in builtins.elem f [ f ]
let f = x: x; in [ f 42 ] > [ f 21 ]
let x = throw "x"; in [ x ] == [ x ]
# … and through variables bound to variables, attributes and builtin arguments alike
let f = x: x; g = f; in [ f ] == [ g ]
let f = x: x; in { a = f; } == { a = f; }
let s = { inherit f; }; f = x: x; in [ s ] == [ s ]
let f = x: x; in [ f ] < [ f 1 ]
let x = throw "y"; in { a = x; } == { a = x; }
builtins.elem (throw "x") [ ]
let f = x: x; in builtins.elem f (map (x: x) [ f ])
