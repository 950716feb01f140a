# `//` in a fold: 200,000 steps over a small record (overlay style: a few attributes
# replaced each time), and 5,000 steps that each add one attribute to a growing set.
let
  small = builtins.foldl'
    (acc: i:
      let count = acc.count + 1; sum = acc.sum + i;
      in builtins.seq count (builtins.seq sum (acc // { inherit count sum; last = i; })))
    { count = 0; last = null; sum = 0; name = "record"; }
    (builtins.genList (i: i) 200000);
  growing = builtins.foldl'
    (acc: i: acc // { "k${toString i}" = i; })
    { }
    (builtins.genList (i: i) 5000);
in
small.count + small.sum + builtins.length (builtins.attrNames growing)
