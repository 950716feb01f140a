# lib/tests/misc.nix as lib-misc.nix, but through shim/post-2.8.nix for both evaluators,
# so that both run the same program while nixweb has no readFileType of its own.
import ./shim/post-2.8.nix <nixpkgs-lib/tests/misc.nix>
