# A let of two bindings per element.
builtins.foldl' (acc: x: let y = x + 1; z = y * 2; in acc + z) 0 (builtins.genList (x: x) 1000000)
