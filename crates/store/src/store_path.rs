//! Store paths: how Nix 2.8 names things in the store, and checks those names.
//!
//! A [`StorePath`] is the base name (`<32 base-32 chars>-<name>`); a [`StoreDir`] (by default
//! `/nix/store`) turns it into a full path and owns the path-making arithmetic, since the
//! store directory is part of every hashed fingerprint. Nothing here touches a file system.

use std::collections::BTreeSet;
use std::fmt;

use crate::base32;
use crate::error::{Error, Result};
use crate::hash::{Encoding, Hash, HashAlgo};

/// Length of the hash part of a store path's base name.
pub const HASH_PART_LEN: usize = 32;
/// Longest name Nix accepts after the hash part.
pub const MAX_NAME_LEN: usize = 211;

/// The base name of a store path, `<hash part>-<name>`, validated as Nix does.
/// Ordered like Nix's `StorePath` (by base name), which is the order sets of paths are
/// written in derivations and fingerprints.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorePath {
    base_name: String,
}

impl StorePath {
    /// Parses a base name such as `ww6b3nk7fp2iiyhha91yss934sjh0nk9-x`.
    pub fn from_base_name(base_name: &str) -> Result<Self> {
        if base_name.len() < HASH_PART_LEN + 1 {
            return Err(Error::StorePathTooShort(base_name.to_owned()));
        }
        let hash_part = &base_name.as_bytes()[..HASH_PART_LEN];
        if let Some(&c) = hash_part
            .iter()
            .find(|&&c| base32::digit_value(c).is_none())
        {
            return Err(Error::IllegalHashCharacter {
                path: base_name.to_owned(),
                character: c as char,
            });
        }
        // Nix skips the separator without checking it.
        check_name(base_name, &base_name[HASH_PART_LEN + 1..])?;
        Ok(Self {
            base_name: base_name.to_owned(),
        })
    }

    /// Builds the base name from a 20-byte digest and a name, checking the name.
    pub fn from_hash(hash_part: &[u8], name: &str) -> Result<Self> {
        let base_name = format!("{}-{name}", base32::encode(hash_part));
        check_name(&base_name, name)?;
        Ok(Self { base_name })
    }

    pub fn base_name(&self) -> &str {
        &self.base_name
    }

    /// The 32 base-32 characters.
    pub fn hash_part(&self) -> &str {
        &self.base_name[..HASH_PART_LEN]
    }

    /// The name after the dash.
    pub fn name(&self) -> &str {
        &self.base_name[HASH_PART_LEN + 1..]
    }

    /// Whether this is a store derivation (its name ends in `.drv`).
    pub fn is_derivation(&self) -> bool {
        self.name().ends_with(DRV_EXTENSION)
    }
}

impl fmt::Display for StorePath {
    /// Only the base name: a full path needs the [`StoreDir`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_name)
    }
}

/// The suffix of store derivations.
pub const DRV_EXTENSION: &str = ".drv";

/// Checks a store path name as Nix's `checkName`; `path` is only used in the message.
fn check_name(path: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::EmptyName(path.to_owned()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::NameTooLong(path.to_owned()));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || "+-._?=".contains(c);
    match name.chars().find(|&c| !legal(c)) {
        Some(character) => Err(Error::IllegalNameCharacter {
            path: path.to_owned(),
            // Nix prints the first byte of a multi-byte character alone, which is not
            // UTF-8; U+FFFD is what reading its message as UTF-8 gives.
            character: if character.is_ascii() {
                character
            } else {
                char::REPLACEMENT_CHARACTER
            },
        }),
        None => Ok(()),
    }
}

/// How file contents become a content address: the file's bytes, or the NAR of a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileIngestionMethod {
    Flat,
    Recursive,
}

impl FileIngestionMethod {
    /// `"r:"` for recursive, as in Nix's `makeFileIngestionPrefix`.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Flat => "",
            Self::Recursive => "r:",
        }
    }

    /// Parses the `outputHashMode` attribute ("flat" or "recursive").
    pub fn parse_output_hash_mode(mode: &str) -> Result<Self> {
        match mode {
            "flat" => Ok(Self::Flat),
            "recursive" => Ok(Self::Recursive),
            other => Err(Error::InvalidOutputHashMode(other.to_owned())),
        }
    }
}

/// The store directory, and all the arithmetic that depends on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreDir {
    dir: String,
}

impl Default for StoreDir {
    fn default() -> Self {
        Self::new("/nix/store")
    }
}

impl StoreDir {
    /// `dir` must be absolute and without a trailing slash, as Nix's `storeDir` setting.
    pub fn new(dir: impl Into<String>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn as_str(&self) -> &str {
        &self.dir
    }

    /// The full path of a store path.
    pub fn print(&self, path: &StorePath) -> String {
        format!("{}/{}", self.dir, path.base_name)
    }

    /// Parses a full store path (exactly one level below the store directory), as Nix's
    /// `parseStorePath`: `.`/`..`/double slashes are canonicalised first.
    pub fn parse(&self, path: &str) -> Result<StorePath> {
        let canonical = canon_path(path);
        match canonical.rsplit_once('/') {
            Some((dir, base)) if dir == self.dir => StorePath::from_base_name(base),
            _ => Err(Error::NotInStore(canonical)),
        }
    }

    /// Parses a path that is in the store or below a store path (as `builtins.storePath`
    /// and string contexts allow), returning the store path it belongs to.
    pub fn parse_containing(&self, path: &str) -> Result<StorePath> {
        let canonical = canon_path(path);
        let rest = canonical
            .strip_prefix(&self.dir)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| Error::NotInStore(canonical.clone()))?;
        StorePath::from_base_name(rest.split('/').next().unwrap_or(rest))
    }

    /// Nix's `makeStorePath`: the fingerprint `<kind>:<algo>:<base16>:<store dir>:<name>`
    /// is hashed with sha256, folded to 20 bytes and printed in base-32.
    pub fn make_store_path(&self, kind: &str, hash: &Hash, name: &str) -> Result<StorePath> {
        let fingerprint = format!(
            "{kind}:{}:{}:{name}",
            hash.encode(Encoding::Base16, true),
            self.dir
        );
        let digest = Hash::digest(HashAlgo::Sha256, fingerprint.as_bytes());
        StorePath::from_hash(&digest.compress(20), name)
    }

    /// Appends the references (and `:self`) to a path kind, as Nix's `makeType`.
    fn kind_with_references(
        &self,
        kind: &str,
        references: &BTreeSet<StorePath>,
        self_reference: bool,
    ) -> String {
        let mut out = kind.to_owned();
        for reference in references {
            out.push(':');
            out.push_str(&self.print(reference));
        }
        if self_reference {
            out.push_str(":self");
        }
        out
    }

    /// The path of a text file with the given contents and references: what
    /// `builtins.toFile` and writing a `.drv` produce.
    pub fn make_text_path(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath> {
        let hash = Hash::digest(HashAlgo::Sha256, contents);
        self.make_store_path(
            &self.kind_with_references("text", references, false),
            &hash,
            name,
        )
    }

    /// The path of fixed-output content. Recursive sha256 is a "source" path (and may
    /// have references); everything else goes through a second "fixed:out" hash and
    /// cannot have references, so those are not taken here.
    pub fn make_fixed_output_path(
        &self,
        method: FileIngestionMethod,
        hash: &Hash,
        name: &str,
    ) -> Result<StorePath> {
        self.make_fixed_output_path_with_references(method, hash, name, &BTreeSet::new(), false)
    }

    /// [`Self::make_fixed_output_path`] for a recursive sha256 source path with
    /// references; other methods ignore the references, as they must have none.
    pub fn make_fixed_output_path_with_references(
        &self,
        method: FileIngestionMethod,
        hash: &Hash,
        name: &str,
        references: &BTreeSet<StorePath>,
        self_reference: bool,
    ) -> Result<StorePath> {
        if hash.algo() == HashAlgo::Sha256 && method == FileIngestionMethod::Recursive {
            let kind = self.kind_with_references("source", references, self_reference);
            return self.make_store_path(&kind, hash, name);
        }
        let inner = format!(
            "fixed:out:{}{}:",
            method.prefix(),
            hash.encode(Encoding::Base16, true)
        );
        let inner_hash = Hash::digest(HashAlgo::Sha256, inner.as_bytes());
        self.make_store_path("output:out", &inner_hash, name)
    }

    /// The path of an input-addressed derivation output, from the derivation's hash
    /// modulo (see [`crate::derivation`]).
    pub fn make_output_path(
        &self,
        output: &str,
        drv_hash: &Hash,
        drv_name: &str,
    ) -> Result<StorePath> {
        self.make_store_path(
            &format!("output:{output}"),
            drv_hash,
            &output_path_name(drv_name, output),
        )
    }
}

/// The name of an output path: the derivation name, plus `-<output>` unless it is `out`.
pub fn output_path_name(drv_name: &str, output: &str) -> String {
    if output == "out" {
        drv_name.to_owned()
    } else {
        format!("{drv_name}-{output}")
    }
}

/// Lexical canonicalisation of an absolute path (no symlinks are followed): collapses
/// slashes, drops `.`, resolves `..`, removes a trailing slash.
fn canon_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What `builtins.placeholder <output>` returns: `/` and the base-32 sha256 of
/// `nix-output:<output>`. The builder sees it replaced by the real output path.
pub fn placeholder(output: &str) -> String {
    let hash = Hash::digest(HashAlgo::Sha256, format!("nix-output:{output}").as_bytes());
    format!("/{}", hash.to_base32())
}
