# An if with a comparison per element.
builtins.foldl' (acc: x: if x < 500000 then acc + 1 else acc) 0 (builtins.genList (x: x) 1000000)
