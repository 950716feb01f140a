# A curried three-argument call per element.
let f = a: b: c: a + b + c; in builtins.foldl' (acc: x: acc + f x 1 2) 0 (builtins.genList (x: x) 1000000)
