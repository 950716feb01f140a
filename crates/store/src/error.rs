//! The one error type of this crate. Each message is worded exactly as Nix 2.8 words it
//! (without the leading "error: "), so the evaluator can show it unchanged.

use std::path::PathBuf;

/// Everything that can go wrong while computing hashes, paths and derivations. More
/// variants may come as more of Nix is covered, so matches need a catch-all arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("unknown hash algorithm '{0}'")]
    UnknownHashAlgo(String),
    #[error("hash '{0}' does not include a type, nor is the type otherwise known from context")]
    HashWithoutType(String),
    #[error("hash '{hash}' should have type '{expected}'")]
    HashTypeMismatch { hash: String, expected: String },
    #[error("invalid base-16 hash '{0}'")]
    InvalidBase16(String),
    #[error("invalid base-32 hash '{0}'")]
    InvalidBase32(String),
    #[error("invalid base-64 hash '{0}'")]
    InvalidBase64(String),
    #[error("invalid SRI hash '{0}'")]
    InvalidSri(String),
    /// Nix 2.8 formats the character with `%c`, which its formatter prints as nothing, so
    /// the message really ends in `''`; the character is kept here for callers.
    #[error("invalid character in Base64 string: ''")]
    InvalidBase64Char(char),
    #[error("hash '{hash}' has wrong length for hash type '{algo}'")]
    HashWrongLength { hash: String, algo: String },
    #[error("empty hash requires explicit hash type")]
    EmptyHashWithoutType,

    #[error("store path '{0}' has an empty name")]
    EmptyName(String),
    #[error("store path '{0}' has a name longer than 211 characters")]
    NameTooLong(String),
    #[error("store path '{path}' contains illegal character '{character}'")]
    IllegalNameCharacter { path: String, character: char },
    #[error("store path '{path}' contains illegal base-32 character '{character}'")]
    IllegalHashCharacter { path: String, character: char },
    #[error("'{0}' is too short to be a valid store path")]
    StorePathTooShort(String),
    #[error("path '{0}' is not in the Nix store")]
    NotInStore(String),

    #[error("file '{0}' has an unsupported type")]
    UnsupportedFileType(PathBuf),
    /// A failed read of the source tree, worded as Nix's `SysError`s ("opening file
    /// '/x': No such file or directory").
    #[error("{} '{}': {}", .operation, .path.display(), strerror(.source))]
    FileSystem {
        operation: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other I/O failure (e.g. of a callback); kept for callers that build it.
    #[error("reading '{path}': {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid value '{0}' for 'outputHashMode' attribute")]
    InvalidOutputHashMode(String),
    #[error("duplicate derivation output '{0}'")]
    DuplicateOutput(String),
    /// `drv` (refused by Nix 2.8) or `drvPath` (by current Nix; 2.8 made a malformed
    /// result with two `drvPath` attributes).
    #[error("invalid derivation output name '{0}'")]
    ReservedOutputName(String),
    #[error("derivation cannot have an empty set of outputs")]
    NoOutputs,
    /// For the evaluator: what Nix 2.8 says when `derivationStrict` gets no `name`.
    #[error("attribute 'name' missing for call to 'derivationStrict'")]
    MissingName,
    #[error("required attribute 'builder' missing")]
    MissingBuilder,
    #[error("required attribute 'system' missing")]
    MissingSystem,
    #[error("derivation names are not allowed to end in '.drv'")]
    NameEndsInDrv,
    #[error("multiple outputs are not supported in fixed-output derivations")]
    FixedOutputWithMultipleOutputs,
    #[error("experimental Nix feature '{0}' is disabled; use '--extra-experimental-features {0}' to override")]
    ExperimentalFeatureDisabled(&'static str),
    /// Not a Nix message: Nix would read the .drv from its store, we can only use the
    /// derivations we were told about.
    #[error("derivation '{0}' is unknown, so its hash modulo cannot be computed")]
    UnknownDerivation(String),
    /// Not a Nix message (Nix says "error parsing derivation" with less detail).
    #[error("error parsing derivation: {0}")]
    BadDerivation(String),
    #[error("in 'toFile': the file named '{name}' must not contain a reference to a derivation but contains ({context})")]
    ToFileRefersToDerivation { name: String, context: String },
    #[error("file names are not allowed to end in '.drv'")]
    FileNameEndsInDrv,
    #[error("store path mismatch in (possibly filtered) path added from '{0}'")]
    AddedPathMismatch(PathBuf),
    #[error("invalid string context element '{0}'")]
    InvalidContext(String),
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The C library's wording of an I/O error, without Rust's " (os error N)" suffix.
fn strerror(error: &std::io::Error) -> String {
    let text = error.to_string();
    match (error.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_owned(),
        _ => text,
    }
}
