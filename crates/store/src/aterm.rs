//! Reading `.drv` files (the ATerm text Nix writes) back into a [`Derivation`].
//!
//! For derivations the evaluator did not create itself but finds in a real store (e.g.
//! through `builtins.storePath`): their hash modulo can then be computed like any other.
//! Writing the text is [`Derivation::to_aterm`]'s job.

use std::collections::{BTreeMap, BTreeSet};

use crate::derivation::{Derivation, DerivationOutput, FixedOutputHash};
use crate::error::{Error, Result};
use crate::hash::{Hash, HashAlgo};
use crate::store_path::{FileIngestionMethod, StoreDir, StorePath, DRV_EXTENSION};

impl Derivation {
    /// Parses the text of the `.drv` file at `drv_path` (whose name, minus `.drv`, is the
    /// derivation's name, which the text does not contain).
    pub fn from_aterm(store: &StoreDir, drv_path: &StorePath, text: &str) -> Result<Self> {
        let name = drv_path
            .name()
            .strip_suffix(DRV_EXTENSION)
            .unwrap_or(drv_path.name())
            .to_owned();
        let mut p = Parser { text, pos: 0 };
        let drv = p.derivation(store, name)?;
        if p.pos != text.len() {
            return Err(p.error("trailing text"));
        }
        Ok(drv)
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::BadDerivation(format!("{what} at offset {}", self.pos))
    }

    fn expect(&mut self, token: &str) -> Result<()> {
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(self.error(&format!("expected '{token}'")))
        }
    }

    /// Consumes `token` if it is next.
    fn eat(&mut self, token: &str) -> bool {
        let found = self.text[self.pos..].starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    fn string(&mut self) -> Result<String> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, other)) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    /// `[item,item,…]`
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        self.expect("[")?;
        let mut items = Vec::new();
        if self.eat("]") {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat("]") {
                return Ok(items);
            }
            self.expect(",")?;
        }
    }

    fn path(&mut self, store: &StoreDir) -> Result<StorePath> {
        store.parse(&self.string()?)
    }

    fn derivation(&mut self, store: &StoreDir, name: String) -> Result<Derivation> {
        self.expect("Derive(")?;
        let outputs = self.list(|p| {
            p.expect("(")?;
            let output = p.string()?;
            p.expect(",")?;
            let path = p.string()?;
            p.expect(",")?;
            let method_algo = p.string()?;
            p.expect(",")?;
            let hash = p.string()?;
            p.expect(")")?;
            Ok((output, output_kind(store, &path, &method_algo, &hash)?))
        })?;
        self.expect(",")?;
        let input_drvs = self.list(|p| {
            p.expect("(")?;
            let drv = p.path(store)?;
            p.expect(",")?;
            let outputs = p.list(Self::string)?;
            p.expect(")")?;
            Ok((drv, outputs.into_iter().collect::<BTreeSet<_>>()))
        })?;
        self.expect(",")?;
        let input_srcs = self.list(|p| p.path(store))?;
        self.expect(",")?;
        let platform = self.string()?;
        self.expect(",")?;
        let builder = self.string()?;
        self.expect(",")?;
        let args = self.list(Self::string)?;
        self.expect(",")?;
        let env = self.list(|p| {
            p.expect("(")?;
            let key = p.string()?;
            p.expect(",")?;
            let value = p.string()?;
            p.expect(")")?;
            Ok((key, value))
        })?;
        self.expect(")")?;
        Ok(Derivation {
            name,
            outputs: outputs.into_iter().collect::<BTreeMap<_, _>>(),
            input_drvs: input_drvs.into_iter().collect(),
            input_srcs: input_srcs.into_iter().collect(),
            platform,
            builder,
            args,
            env: env.into_iter().collect(),
        })
    }
}

/// An output's kind follows from which fields are set, as in Nix's `parseDerivationOutput`.
fn output_kind(
    store: &StoreDir,
    path: &str,
    method_algo: &str,
    hash: &str,
) -> Result<DerivationOutput> {
    if method_algo.is_empty() {
        return Ok(if path.is_empty() {
            DerivationOutput::Deferred
        } else {
            DerivationOutput::InputAddressed(store.parse(path)?)
        });
    }
    let (method, algo) = match method_algo.strip_prefix("r:") {
        Some(algo) => (FileIngestionMethod::Recursive, algo),
        None => (FileIngestionMethod::Flat, method_algo),
    };
    if hash.is_empty() {
        // Floating content-addressed and impure outputs: experimental, not supported.
        return Err(Error::BadDerivation(format!(
            "unsupported content-addressed output with hash algorithm '{method_algo}'"
        )));
    }
    let hash = Hash::parse_any(hash, Some(HashAlgo::parse(algo)?))?;
    Ok(DerivationOutput::Fixed(FixedOutputHash { method, hash }))
}
