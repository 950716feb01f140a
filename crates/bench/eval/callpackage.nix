# 200,000 callPackage-style calls: a function with formals, defaults and `@`, called with
# the attributes of a small package set that it asks for plus overrides, results folded.
let
  pkgs = { a = 1; b = 2; c = 3; stdenv = { name = "stdenv"; }; fetchurl = x: x; };
  callPackage = f: overrides:
    f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
  package = { a, b ? 10, c ? 20, stdenv, fetchurl, extra ? null, ... }@args: {
    name = "${stdenv.name}-${toString a}";
    value = a + b + c + builtins.length (builtins.attrNames args);
  };
  step = acc: i: acc + (callPackage package { a = i; }).value;
in
builtins.foldl' step 0 (builtins.genList (i: i) 200000)
