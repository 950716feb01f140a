# replaceStrings on 100,000 numbers as strings, joined.
builtins.stringLength (builtins.concatStringsSep "," (map (i: builtins.replaceStrings ["1" "2"] ["one" "two"] (toString i)) (builtins.genList (x: x) 100000)))
