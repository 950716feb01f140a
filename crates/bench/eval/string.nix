# Build a long string: 200,000 pieces joined, then its length.
builtins.stringLength (builtins.concatStringsSep "," (builtins.genList (i: "item-${toString i}") 200000))
