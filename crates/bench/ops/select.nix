# A select of a static name from a small set per element.
let s = { a = 1; b = 2; c = 3; d = 4; }; in builtins.foldl' (a: x: a + s.c) 0 (builtins.genList (x: x) 1000000)
