# `with`, let and rec scoping: lexical bindings always win over `with`.
let a = 1; in with { a = 2; }; a
with { a = 2; }; let a = 1; in a
with { a = 1; }; with { a = 2; }; a
with { a = 1; b = 10; }; with { a = 2; }; a + b
({ a }: with { a = 3; }; a) { a = 4; }
with { x = 1; }; (x: x) 5
let x = 1; in let x = 2; in x
rec { a = 1; b = a + 1; }.b
let a = 5; in rec { a = 1; b = a; }.b
let a = 5; in { a = 1; b = a; }.b
with rec { a = 1; b = a; }; b
with { a = 1; }; rec { a = 2; b = a; }.b
let inherit ({ x = 7; }) x; in x
let x = 1; y = x + 1; in y
let f = n: if n == 0 then 0 else n + f (n - 1); in f 100
with builtins; length [ 1 2 ]
with builtins; let length = x: 99; in length [ 1 2 ]
let builtins = { length = x: 0; }; in builtins.length [ 1 ]
with { true = false; }; true
let true = false; in true
let null = 1; in null
with { null = 1; }; null
with { __add = 1; }; 1 + 2
let __sub = a: b: a * b; in 10 - 3
let __lessThan = a: b: true; in 3 < 2
let __mul = a: b: 0; in 6 * 7
let __div = a: b: 0; in 6 / 2
with { x = 1; }; with { y = x + 1; }; y
with (throw "with never needed"); 1
with (throw "with needed"); x
with { }; x
let x = 1; in with { }; x
(with { a = 1; }; b: a + b) 2
let e = { a = 1; }; in with e; with e; a
with { a = 1; }; { inherit a; }
let a = 2; in with { a = 1; }; { inherit a; }
let rec = 1; in rec
{ a = 1; }.a or 2
{ a = 1; }.b or 2
{ a = { b = 1; }; }.a.c or "default"
let or = 1; in or
(x: x or 5) 3
let v = { or = 1; }; in v.or
rec { x = { y = x; z = 1; }; }.x.y.z
let x = { inherit x; }; in 1
with { inherit (builtins) map; }; map (x: x + 1) [ 1 ]
let f = { a ? b, b ? 2 }: a; in f { }
let f = { a ? b, b ? a }: a; in f { b = 3; }
let f = { a ? b, b ? a }: a; in f { }
let f = args@{ a, ... }: args.b; in f { a = 1; b = 2; }
let f = { a, ... }@args: builtins.attrNames args; in f { a = 1; c = 2; }
let f = args@{ a ? 5 }: args ? a; in f { }
with { a = 1; }; rec { b = a; a = 2; c = b; }
with { a = 1; }; let inherit a; in a
let a = 2; in with { a = 1; }; let inherit a; in a
with { x = 1; }; { inherit x; y = x; }
with { f = x: x + 1; }; f (with { f = 0; }; f)
with { a = 1; }; with { b = a + 1; }; with { a = 10; }; b
with builtins; with { map = 1; }; map
let map = 1; in with builtins; map
with { a = throw "with attrs are lazy"; b = 2; }; b
with rec { a = b; b = 1; }; a
with { __add = 1; }; __add
with { }; with { }; 1
(with { a = 1; }; x: a + x) 1
let f = with { a = 1; }; x: a; in with { a = 2; }; f 0
rec { a = 1; b = with { a = 2; }; a; }.b
rec { a = 1; b = let a = 3; in with { a = 2; }; a; }.b
let x = { y = 1; }; in with x; y
let x = 1; in with { x = 2; }; with { x = 3; }; x
with (import ./data/values.nix); twice
with { a.b = 1; }; a.b
