//! nixweb-store: the pure arithmetic of the Nix store.
//!
//! It is for computing what Nix 2.8 computes without a store: hashes in Nix's encodings,
//! NAR serialisation, store paths, derivation ATerms and their hashes. It is not a store:
//! it never writes to /nix/store and never builds anything.
//!
//! Entry points for the evaluator:
//! - `hashString`/`hashFile`: [`Hash::digest`] and [`Hash::to_base16`];
//! - `toFile`: [`to_file()`] (or [`StoreDir::make_text_path`]);
//! - `"${./p}"`: [`StoreDir::copy_path_to_store`]; `filterSource`, `builtins.path`:
//!   [`StoreDir::path_for_source`] over a [`SourceTree`]
//!   ([`StoreDir::path_for_source_expecting`] when a `sha256` is given);
//! - `derivationStrict`: [`instantiate()`] with a [`DerivationArgs`] and a
//!   [`KnownDerivations`] kept for the whole evaluation;
//! - `__structuredAttrs`: [`structured_attrs::structured_attrs_json`] builds `__json`;
//! - `placeholder`: [`placeholder()`]; `storePath`: [`StoreDir::parse_containing`].
//!
//! ```
//! use nixweb_store::{instantiate, DerivationArgs, KnownDerivations, StoreDir};
//!
//! let store = StoreDir::default();
//! let mut known = KnownDerivations::new(); // one per evaluation
//! // derivation { name = "a"; system = "x"; builder = "b"; }
//! let mut args = DerivationArgs::new("a");
//! args.builder = "b".into();
//! args.system = "x".into();
//! for (key, value) in [("name", "a"), ("system", "x"), ("builder", "b")] {
//!     args.env.insert(key.into(), value.into());
//! }
//! let drv = instantiate(&store, &args, &mut known).unwrap();
//! assert_eq!(drv.drv_path, "/nix/store/nnqh7675wghd0xmrywqm2yh9psrkk13q-a.drv");
//! assert!(drv.aterm.starts_with("Derive([(\"out\",\"/nix/store/"));
//! ```

mod aterm;
pub mod base32;
pub mod base64;
pub mod derivation;
mod error;
pub mod hash;
pub mod instantiate;
pub mod nar;
pub mod store_path;
pub mod structured_attrs;

pub use derivation::{Derivation, DerivationOutput, DrvHashes, FixedOutputHash};
pub use error::{Error, Result};
pub use hash::{Encoding, Hash, HashAlgo, Hasher};
pub use instantiate::{
    check_outputs, instantiate, split_outputs_string, to_file, ContextElem, DerivationArgs,
    Instantiated, KnownDerivations,
};
pub use nar::{LocalFs, NodeKind, SourceTree};
pub use store_path::{placeholder, FileIngestionMethod, StoreDir, StorePath};
