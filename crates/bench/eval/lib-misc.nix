# nixpkgs lib's own tests, lib/tests/misc.nix (from ../shared/nixpkgs-lib, through
# -I nixpkgs-lib=…): [ ] when every test passes. It needs builtins.readFileType, which
# Nix 2.8 lacks: bench-eval: shim (see shim/post-2.8.nix).
import <nixpkgs-lib/tests/misc.nix>
