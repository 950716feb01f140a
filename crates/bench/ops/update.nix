# An update (//) of two small sets per element.
builtins.foldl' (acc: x: acc + (({ a = x; b = 2; } // { c = 3; }).c)) 0 (builtins.genList (x: x) 1000000)
