# Gives Nix 2.8 the builtins newer than 2.8 that the benchmark programs reach, for
# everything imported through it: `import ./shim/post-2.8.nix FILE` evaluates FILE with
# `builtins` extended and with `import` and `scopedImport` rebound to do the same for
# what FILE imports. scripts/bench-eval passes programs marked `bench-eval: shim` through
# it for Nix 2.8 only; nixweb evaluates them as they are.
#
# Only what the programs need, with current Nix's meaning:
#   readFileType PATH: "regular", "directory", "symlink" or "unknown" (not for /).
let
  added = {
    readFileType = path: (builtins.readDir (dirOf path)).${baseNameOf (toString path)};
  };
  scope = {
    builtins = builtins // added;
    import = file: scopedImport scope file;
    scopedImport = attrs: scopedImport (scope // attrs);
  };
in
file: scopedImport scope file
