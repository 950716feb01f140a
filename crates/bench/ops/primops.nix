# Three type-test builtins per element (primop calls through builtins.NAME).
builtins.foldl' (acc: i: if builtins.isAttrs i || builtins.isList i || builtins.typeOf i == "int" then acc + 1 else acc) 0 (builtins.genList (x: x) 1000000)
