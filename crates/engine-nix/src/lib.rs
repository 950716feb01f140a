//! nixweb-engine-nix
