# A set of 100,000 names (listToAttrs), then a computed name looked up in it per element.
let s = builtins.listToAttrs (map (i: { name = "n${toString i}"; value = i; }) (builtins.genList (x: x) 100000)); in builtins.foldl' (a: i: a + s."n${toString i}") 0 (builtins.genList (x: x) 100000)
