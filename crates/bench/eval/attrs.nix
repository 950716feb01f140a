# Build a 200,000-attribute set, then fold over it.
let
  n = 200000;
  set = builtins.listToAttrs (builtins.genList (i: { name = "k${toString i}"; value = i; }) n);
in builtins.foldl' (acc: name: acc + set.${name}) 0 (builtins.attrNames set)
