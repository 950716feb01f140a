//! Hashes as Nix 2.8 computes, prints and parses them.
//!
//! Covers the four algorithms Nix knows (md5, sha1, sha256, sha512), the four encodings
//! (base-16, Nix base-32, base-64, SRI), parsing in all the forms `outputHash` and
//! `builtins.path { sha256 }` accept, and `compressHash`. It does not know about files or
//! store paths; see `nar` and `store_path` for those.

use std::fmt;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::error::{Error, Result};
use crate::{base32, base64};

/// A hash algorithm Nix supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlgo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl HashAlgo {
    /// Parses an algorithm name as Nix spells it ("md5", "sha1", "sha256", "sha512").
    pub fn parse(name: &str) -> Result<Self> {
        Self::parse_opt(name).ok_or_else(|| Error::UnknownHashAlgo(name.to_owned()))
    }

    /// Like [`HashAlgo::parse`] but without an error, as Nix's `parseHashTypeOpt`.
    pub fn parse_opt(name: &str) -> Option<Self> {
        match name {
            "md5" => Some(Self::Md5),
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Digest size in bytes.
    pub fn size(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a hash is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Base16,
    /// Nix's base-32 (see [`crate::base32`]).
    Base32,
    Base64,
    /// `<algo>-<base64>`: always carries the algorithm.
    Sri,
}

/// A digest together with its algorithm.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash {
    algo: HashAlgo,
    bytes: Vec<u8>,
}

impl Hash {
    /// Wraps a digest; `None` if its length does not fit the algorithm.
    pub fn from_bytes(algo: HashAlgo, bytes: &[u8]) -> Option<Self> {
        (bytes.len() == algo.size()).then(|| Self {
            algo,
            bytes: bytes.to_vec(),
        })
    }

    /// The all-zero hash Nix substitutes for an empty `outputHash`.
    pub fn zero(algo: HashAlgo) -> Self {
        Self {
            algo,
            bytes: vec![0; algo.size()],
        }
    }

    /// Hashes `data` (what `builtins.hashString` does, before printing in base-16).
    pub fn digest(algo: HashAlgo, data: &[u8]) -> Self {
        let mut hasher = Hasher::new(algo);
        hasher.update(data);
        hasher.finish()
    }

    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Prints the hash as Nix's `Hash::to_string(encoding, includeType)`: the SRI form
    /// always has its `algo-` prefix, the others get `algo:` when `with_algo` is set.
    pub fn encode(&self, encoding: Encoding, with_algo: bool) -> String {
        let body = match encoding {
            Encoding::Base16 => hex::encode(&self.bytes),
            Encoding::Base32 => base32::encode(&self.bytes),
            Encoding::Base64 | Encoding::Sri => base64::encode(&self.bytes),
        };
        match encoding {
            Encoding::Sri => format!("{}-{body}", self.algo),
            _ if with_algo => format!("{}:{body}", self.algo),
            _ => body,
        }
    }

    /// Lower-case hex without prefix (what `hashString`/`hashFile` return).
    pub fn to_base16(&self) -> String {
        self.encode(Encoding::Base16, false)
    }

    /// Nix base-32 without prefix (what `nix-hash --base32` prints).
    pub fn to_base32(&self) -> String {
        self.encode(Encoding::Base32, false)
    }

    /// `sha256-…`.
    pub fn to_sri(&self) -> String {
        self.encode(Encoding::Sri, true)
    }

    /// Folds the digest into `len` bytes by xor, as Nix's `compressHash` (used to make
    /// the 20-byte hash part of store paths).
    pub fn compress(&self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        for (i, b) in self.bytes.iter().enumerate() {
            out[i % len] ^= b;
        }
        out
    }

    /// Parses any form Nix's `Hash::parseAny` accepts: `algo:<base16|base32|base64>`,
    /// SRI `algo-<base64>`, or a bare digest when `algo` is given. If both the text and
    /// `algo` name an algorithm they must agree.
    pub fn parse_any(text: &str, algo: Option<HashAlgo>) -> Result<Self> {
        let (parsed_algo, rest, is_sri) = split_algo_prefix(text)?;
        let algo = match (parsed_algo, algo) {
            (None, None) => return Err(Error::HashWithoutType(rest.to_owned())),
            (Some(parsed), Some(wanted)) if parsed != wanted => {
                return Err(Error::HashTypeMismatch {
                    hash: text.to_owned(),
                    expected: wanted.name().to_owned(),
                })
            }
            (Some(a), _) | (None, Some(a)) => a,
        };
        Self::parse_body(rest, algo, is_sri)
    }

    /// Parses an SRI hash (`sha256-…`) only.
    pub fn parse_sri(text: &str) -> Result<Self> {
        match text.split_once('-') {
            Some((algo, rest)) => Self::parse_body(rest, HashAlgo::parse(algo)?, true),
            None => Err(Error::InvalidSri(text.to_owned())),
        }
    }

    /// As Nix's `newHashAllowEmpty`, used for `outputHash`: an empty string stands for the
    /// all-zero hash of `algo` (which must then be known). The second value is the warning
    /// Nix prints in that case (without "warning: ").
    pub fn parse_allow_empty(text: &str, algo: Option<HashAlgo>) -> Result<(Self, Option<String>)> {
        if !text.is_empty() {
            return Ok((Self::parse_any(text, algo)?, None));
        }
        let algo = algo.ok_or(Error::EmptyHashWithoutType)?;
        let zero = Self::zero(algo);
        let warning = format!("found empty hash, assuming '{}'", zero.to_sri());
        Ok((zero, Some(warning)))
    }

    /// The encoding is recognised by length, as in Nix: base-16, then base-32, then
    /// base-64 (SRI bodies are always base-64).
    fn parse_body(rest: &str, algo: HashAlgo, is_sri: bool) -> Result<Self> {
        let size = algo.size();
        let bytes = if !is_sri && rest.len() == 2 * size {
            hex_decode(rest).ok_or_else(|| Error::InvalidBase16(rest.to_owned()))?
        } else if !is_sri && rest.len() == base32::encoded_len(size) {
            base32::decode(rest, size).ok_or_else(|| Error::InvalidBase32(rest.to_owned()))?
        } else if is_sri || rest.len() == base64::encoded_len(size) {
            let bytes = base64::decode(rest).map_err(Error::InvalidBase64Char)?;
            if bytes.len() != size {
                return Err(if is_sri {
                    Error::InvalidSri(rest.to_owned())
                } else {
                    Error::InvalidBase64(rest.to_owned())
                });
            }
            bytes
        } else {
            return Err(Error::HashWrongLength {
                hash: rest.to_owned(),
                algo: algo.name().to_owned(),
            });
        };
        Ok(Self { algo, bytes })
    }
}

/// Splits `algo:` or `algo-` off the front; the bool says it was the SRI dash.
fn split_algo_prefix(text: &str) -> Result<(Option<HashAlgo>, &str, bool)> {
    if let Some((algo, rest)) = text.split_once(':') {
        return Ok((Some(HashAlgo::parse(algo)?), rest, false));
    }
    if let Some((algo, rest)) = text.split_once('-') {
        return Ok((Some(HashAlgo::parse(algo)?), rest, true));
    }
    Ok((None, text, false))
}

/// Nix accepts upper- and lower-case hex digits.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// Incremental hashing, for NAR streams and large files.
#[derive(Clone)]
pub struct Hasher(HasherState);

#[derive(Clone)]
enum HasherState {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algo: HashAlgo) -> Self {
        Self(match algo {
            HashAlgo::Md5 => HasherState::Md5(Md5::new()),
            HashAlgo::Sha1 => HasherState::Sha1(Sha1::new()),
            HashAlgo::Sha256 => HasherState::Sha256(Sha256::new()),
            HashAlgo::Sha512 => HasherState::Sha512(Sha512::new()),
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherState::Md5(h) => h.update(data),
            HasherState::Sha1(h) => h.update(data),
            HasherState::Sha256(h) => h.update(data),
            HasherState::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Hash {
        let (algo, bytes) = match self.0 {
            HasherState::Md5(h) => (HashAlgo::Md5, h.finalize().to_vec()),
            HasherState::Sha1(h) => (HashAlgo::Sha1, h.finalize().to_vec()),
            HasherState::Sha256(h) => (HashAlgo::Sha256, h.finalize().to_vec()),
            HasherState::Sha512(h) => (HashAlgo::Sha512, h.finalize().to_vec()),
        };
        Hash { algo, bytes }
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
