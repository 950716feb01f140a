# A string interpolation with toString per element, joined.
builtins.stringLength (builtins.concatStringsSep "" (map (x: "a${toString x}b") (builtins.genList (x: x) 1000000)))
