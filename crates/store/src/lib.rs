//! nixweb-store: the pure arithmetic of the Nix store.
//!
//! It is for computing what Nix 2.8 computes without a store: hashes in Nix's encodings,
//! NAR serialisation, store paths, derivation ATerms and their hashes. It is not a store:
//! it never writes to /nix/store and never builds anything.
