# A call with formals, a default and @ per element (callPackage's shape).
let f = { a, b ? 1, ... }@args: a + b; in builtins.foldl' (acc: x: acc + f { a = x; }) 0 (builtins.genList (x: x) 1000000)
