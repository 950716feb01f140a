# A stand-in for nixpkgs in tests (this machine has none): gcc, bash and coreutils as
# derivations whose bin/ links to the host's tools, so that <nixweb/cc.nix> takes its
# `pkgs.gcc` path. The links only resolve inside a sandbox that binds /usr and /bin.
{ ... }:
let
  links = name: tools: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "/bin/mkdir -p $out/bin && for t in ${tools}; do /bin/ln -s /usr/bin/$t $out/bin/$t; done" ];
  };
in
{
  gcc = links "fake-gcc" "gcc g++ as ld" // { version = "0-test"; };
  bash = links "fake-bash" "bash";
  coreutils = links "fake-coreutils" "cat chmod cp mkdir tail timeout tr";
}
