# Operator precedence and associativity, and less common syntax.
1 + 2 * 3
(1 + 2) * 3
10 - 2 - 3
100 / 10 / 5
2 * 3 + 4 * 5
[ 1 ] ++ [ 2 ] ++ [ 3 ]
{ a = 1; } // { b = 2; } // { a = 3; }
"a" + "b" + "c"
!true || true
!(true || true)
true || false && false
(true || false) && false
false -> true -> false
(false -> true) -> false
1 < 2 == true
1 + 2 == 3
{ a = 1; } ? a == true
[ 1 ] ++ [ 2 ] == [ 1 2 ]
{ a = [ 1 ]; }.a ++ [ 2 ]
{ a.b = 1; }.a.b or 2 + 3
({ a = 1; }.b or 2) + 3
{ a = 1; }.a or null
builtins.length [ 1 2 ] + 1
builtins.length ([ 1 ] ++ [ 2 ])
(x: x + 1) 1 * 2
let f = x: x * 2; in f 2 + f 3
let f = x: y: x - y; in f 5 3
(- 1 - - 1) == 0
0 - -1
(2 - 1) == 1
1 + - 1
"${"a"}b" + "c"
{ a = 1; }.a + { b = 2; }.b
[ (1) (2) ] == [ 1 2 ]
[ 1 - 1 ]
[ (1 - 1) ]
[ -1 ]
[ 1 -1 ]
[ a: a ]
[ { } .a or 1 ]
let a = 1; b = 2; in [ a b ]
let { body = 42; }
let { x = 1; body = x + 1; }
let { x = 1; }
{ a = 1; /* comment */ b = 2; }
# a comment line between cases is skipped
1 /* inline */ + /* comment */ 2
1 # trailing comment
if true then if false then 1 else 2 else 3
if 1 then 2 else 3
if null then 1 else 2
assert 1 == 1; assert true; "asserted twice"
with { a = 1; }; assert a == 1; a
let x = 1; in assert x == 2; x
let a.b = 1; in a
let a.b = 1; a.c = 2; in a
let inherit (builtins) length; in length [ 1 ]
rec { }
let in 1
{ inherit; }
{ a = 1; inherit ({ b = 2; }) b; }.b
import ./data/tree/sub/attrs.nix
(import ./data/tree/sub/attrs.nix).a
builtins.scopedImport { x = 5; } ./data/add.nix
builtins.scopedImport { } ./data/tree/sub/attrs.nix
import ./data/add.nix
(import ./data/add.nix) { x = 1; y = 2; }
__curPos
builtins.typeOf __curPos
x: y: z: x
a @ { b }: b
{ a, b ? a }: b
