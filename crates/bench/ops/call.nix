# A one-argument call per element: foldl' calling a two-argument lambda, adding.
builtins.foldl' (a: x: a + x) 0 (builtins.genList (x: x) 1000000)
