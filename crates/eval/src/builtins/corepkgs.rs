//! Files Nix ships inside itself and serves as `<nix/...>` (only `fetchurl.nix` is used
//! in practice). They are read from here, never from the host filesystem.

use std::path::Path;

pub const PREFIX: &str = "/__corepkgs__";

/// A fixed-output derivation fetched by the builder built into Nix (`builtin:fetchurl`),
/// with the same arguments as Nix's corepkgs/fetchurl.nix.
const FETCHURL_NIX: &str = r#"
{ system ? ""
, url
, hash ? ""
, sha256 ? ""
, sha1 ? ""
, sha512 ? ""
, outputHash ?
    if hash != "" then hash else if sha512 != "" then sha512 else if sha1 != "" then sha1 else sha256
, outputHashAlgo ?
    if hash != "" then "" else if sha512 != "" then "sha512" else if sha1 != "" then "sha1" else "sha256"
, executable ? false
, unpack ? false
, name ? baseNameOf (toString url)
}:
derivation {
  builder = "builtin:fetchurl";
  system = "builtin";
  outputHashMode = if unpack || executable then "recursive" else "flat";
  inherit name url executable unpack outputHash outputHashAlgo;
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
  urls = [ url ];
  preferLocalBuild = true;
}
"#;

pub fn lookup(path: &Path) -> Option<&'static str> {
    let rest = path.to_str()?.strip_prefix(PREFIX)?;
    match rest {
        "/fetchurl.nix" => Some(FETCHURL_NIX),
        _ => None,
    }
}
