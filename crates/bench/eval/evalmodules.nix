# nixpkgs' lib.evalModules (from ../shared/nixpkgs-lib, through -I nixpkgs-lib=…) on a
# generated module set: 10,000 options of five types, each defined by three modules with
# mkDefault, mkIf, mkMerge, mkForce and plain definitions; every value is forced.
let
  lib = import <nixpkgs-lib>;
  inherit (lib) mkOption mkDefault mkIf mkMerge mkForce types;
  n = 10000;
  ids = builtins.genList (i: i) n;
  name = i: "o${toString i}";
  kind = i: i - (i / 5) * 5;
  type = i: builtins.elemAt [
    types.int
    types.lines
    (types.listOf types.int)
    (types.attrsOf types.int)
    types.bool
  ] (kind i);
  # Three definitions per option, merged as its type merges them.
  definition = m: i: builtins.elemAt (builtins.elemAt [
    [ (mkDefault i) (i + 1) (mkIf false 0) ]
    [ "first ${toString i}" (mkIf true "second") (mkMerge [ "third" "fourth" ]) ]
    [ [ i ] (mkMerge [ [ 1 ] [ 2 ] ]) (mkIf (i > 10) [ 3 ]) ]
    [ { a = i; } { b = 1; } (mkDefault { c = 2; }) ]
    [ (mkDefault false) (mkForce true) false ]
  ] (kind i)) m;
  declarations = {
    options.bench = builtins.listToAttrs (map (i: {
      name = name i;
      value = mkOption { type = type i; description = "option ${toString i}"; };
    }) ids);
  };
  definitions = m: {
    config.bench = builtins.listToAttrs (map (i: { name = name i; value = definition m i; }) ids);
  };
  config = (lib.evalModules { modules = [ declarations (definitions 0) (definitions 1) (definitions 2) ]; }).config;
in
builtins.deepSeq config.bench (builtins.length (builtins.attrNames config.bench))
