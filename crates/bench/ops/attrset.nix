# A three-attribute set literal built and selected from per element.
builtins.foldl' (acc: x: acc + ({ a = x; b = x; c = 1; }).b) 0 (builtins.genList (x: x) 1000000)
