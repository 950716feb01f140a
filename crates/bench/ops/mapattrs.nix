# mapAttrs over a set of 100,000 names, every value forced.
let s = builtins.listToAttrs (map (i: { name = "n${toString i}"; value = i; }) (builtins.genList (x: x) 100000)); in builtins.foldl' (a: v: a + v) 0 (builtins.attrValues (builtins.mapAttrs (n: v: v + 1) s))
