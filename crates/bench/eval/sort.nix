# Sort 100,000 pseudo-random integers.
let
  xs = builtins.genList (i: (i * 7919 + 104729) - ((i * 7919 + 104729) / 100003) * 100003) 100000;
  sorted = builtins.sort (a: b: a < b) xs;
in builtins.elemAt sorted 50000
