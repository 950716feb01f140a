# Functions: patterns, __functor, functionArgs, currying, recursion, callable sets.
(x: x) 1
(x: y: x - y) 10 3
({ a, b }: a + b) { a = 1; b = 2; }
({ a, b }: a + b) { a = 1; }
({ a }: a) { a = 1; b = 2; }
({ a, ... }: a) { a = 1; b = 2; }
({ a ? 10 }: a) { }
({ a ? 10 }: a) { a = null; }
({ }: 1) { }
({ ... }: 1) { x = 1; }
({ a }: a) 1
(x: x) 
(a@{ b }: a) { b = 1; }
builtins.functionArgs ({ a, b ? 1, ... }: a)
builtins.functionArgs (x: x)
builtins.functionArgs ({ }: 1)
builtins.functionArgs builtins.add
builtins.functionArgs { __functor = self: { a }: a; }
builtins.isFunction (x: x)
builtins.isFunction builtins.map
builtins.isFunction { __functor = self: x: x; }
builtins.isFunction (builtins.add 1)
builtins.typeOf builtins.add
builtins.typeOf (builtins.add 1)
x: x
builtins.add
builtins.add 1
{ f = x: x; }
{ __functor = self: x: self.base + x; base = 10; } 5
let f = { __functor = self: x: if x == 0 then self.acc else (self // { acc = self.acc + x; }) (x - 1); acc = 0; }; in f 4
{ __functor = self: 1; } 2
{ __functor = 1; } 2
{ __functor = self: x: y: x + y; } 1 2
builtins.map { __functor = self: x: x * 2; } [ 1 2 ]
builtins.sort { __functor = self: a: b: a < b; } [ 3 1 ]
builtins.filter { __functor = s: x: x > 1; } [ 1 2 ]
1 2
"f" 1
null 1
let fix = f: let x = f x; in x; in (fix (self: { a = 1; b = self.a + 1; })).b
let fact = n: if n == 0 then 1 else n * fact (n - 1); in fact 20
let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 20
let count = n: if n == 0 then 0 else 1 + count (n - 1); in count 10000
let f = a: b: c: a + b + c; g = f 1; in g 2 3
let compose = f: g: x: f (g x); in compose (x: x * 2) (x: x + 1) 5
let apply = f: f 1; in apply apply
(x: x x) (x: 1)
(x: x x) (x: x x)
builtins.functionArgs (builtins.functionArgs)
builtins.isFunction (builtins.functionArgs)
let f = { a, b }@args: args; in f { a = 1; b = 2; }
let f = { a ? b, b ? c, c ? 3 }: a; in f { }
(({ a ? 1 }: b: a + b) { }) 2
({ a, a }: a)
({ a }@a: a)
(a: { a }: a) 1 { a = 2; }
let id = x: x; in id id id 3
({ a ? b, b ? 1 }@args: args) { }
({ a ? 1 }@args: args.a or "missing") { }
(args@{ a ? 1, ... }: builtins.attrNames args) { b = 2; }
({ a ? x, ... }: a) { x = 1; }
(let x = 5; in { a ? x }: a) { }
({ x ? 1, y ? x + 1, z ? y * 2 }: [ x y z ]) { x = 10; }
({ x ? y, y ? 1 }: x) { y = 7; }
let f = a: b: { inherit a b; }; in f 1 2
let f = a: { b ? a }: b; in f 3 { }
let mk = n: x: x + n; adders = builtins.map mk [ 1 2 3 ]; in builtins.map (f: f 10) adders
let counter = { n = 0; inc = self: self // { n = self.n + 1; }; }; in (counter.inc (counter.inc counter)).n
let compose = builtins.foldl' (f: g: x: g (f x)) (x: x); in compose [ (x: x + 1) (x: x * 2) ] 5
let curry = f: a: b: f { inherit a b; }; in curry ({ a, b }: a - b) 10 4
let uncurry = f: { a, b }: f a b; in uncurry (a: b: a * b) { a = 6; b = 7; }
let flip = f: a: b: f b a; in flip builtins.sub 1 10
(x: y: x) 1 2 3
builtins.functionArgs (args@{ a, b ? 1 }: a)
builtins.functionArgs ({ ... }: 1)
builtins.functionArgs (builtins.map)
builtins.isFunction (import ./data/add.nix)
builtins.functionArgs (import ./data/add.nix)
(import ./data/add.nix) { y = 1; z = 2; }
let f = { }: 1; in f { a = 1; }
let f = { a }: a; in f { }
let f = x: x; in f
({ a, b }: a) { b = 1; a = 2; c = 3; }
