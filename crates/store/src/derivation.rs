//! Store derivations: the structure, its ATerm text (the `.drv` file) and
//! `hashDerivationModulo`, exactly as Nix 2.8 has them.
//!
//! This module knows nothing about Nix values or attribute sets; turning the attributes
//! of a `derivation` call into a [`Derivation`] is [`crate::instantiate()`]'s job.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Result;
use crate::hash::{Encoding, Hash, HashAlgo};
use crate::store_path::{FileIngestionMethod, StoreDir, StorePath, DRV_EXTENSION};

/// The content address of a fixed output: ingestion method and expected hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedOutputHash {
    pub method: FileIngestionMethod,
    pub hash: Hash,
}

impl FixedOutputHash {
    /// `r:sha256`, `sha1`, …: the hashAlgo field of the output in the ATerm.
    pub fn method_algo(&self) -> String {
        format!("{}{}", self.method.prefix(), self.hash.algo())
    }
}

/// One output of a derivation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DerivationOutput {
    /// Input-addressed: the path is computed from the derivation's hash modulo.
    InputAddressed(StorePath),
    /// Fixed-output: the path follows from the expected content hash.
    Fixed(FixedOutputHash),
    /// Path not known yet: used while the masked derivation is hashed.
    Deferred,
}

/// A store derivation. Maps and sets are ordered the way Nix writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derivation {
    pub name: String,
    pub outputs: BTreeMap<String, DerivationOutput>,
    /// Input derivation → the outputs of it that are used.
    pub input_drvs: BTreeMap<StorePath, BTreeSet<String>>,
    pub input_srcs: BTreeSet<StorePath>,
    pub platform: String,
    pub builder: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// The hash modulo of a derivation, per output (Nix's `DrvHash::hashes`). For an
/// input-addressed derivation every output has the same hash; for a fixed-output one it is
/// the hash of `fixed:out:<method algo>:<hash>:<path>`.
pub type DrvHashes = BTreeMap<String, Hash>;

impl Derivation {
    /// The store path of an output, if it is known.
    pub fn output_path(&self, store: &StoreDir, output: &str) -> Result<Option<StorePath>> {
        match self.outputs.get(output) {
            Some(DerivationOutput::InputAddressed(path)) => Ok(Some(path.clone())),
            Some(DerivationOutput::Fixed(fixed)) => {
                Ok(Some(fixed_output_path(store, &self.name, output, fixed)?))
            }
            Some(DerivationOutput::Deferred) | None => Ok(None),
        }
    }

    /// Whether all outputs are fixed (Nix's `DerivationType::isFixed`).
    pub fn is_fixed_output(&self) -> bool {
        !self.outputs.is_empty()
            && self
                .outputs
                .values()
                .all(|o| matches!(o, DerivationOutput::Fixed(_)))
    }

    /// The ATerm text of the `.drv` file.
    pub fn to_aterm(&self, store: &StoreDir) -> Result<String> {
        self.unparse(store, false, None)
    }

    /// The `.drv` store path: a text path whose references are the input sources and
    /// input derivations (outputs are not references).
    pub fn drv_path(&self, store: &StoreDir, aterm: &str) -> Result<StorePath> {
        let mut references = self.input_srcs.clone();
        references.extend(self.input_drvs.keys().cloned());
        store.make_text_path(
            &format!("{}{DRV_EXTENSION}", self.name),
            aterm.as_bytes(),
            &references,
        )
    }

    /// Nix's `Derivation::unparse`. With `mask_outputs` the output paths and the
    /// environment variables named after outputs are written empty; `actual_inputs`
    /// replaces the input derivations (by hash modulo, in `hash_modulo`).
    fn unparse(
        &self,
        store: &StoreDir,
        mask_outputs: bool,
        actual_inputs: Option<&BTreeMap<String, BTreeSet<String>>>,
    ) -> Result<String> {
        let mut s = String::with_capacity(1024);
        s.push_str("Derive([");
        for (i, (name, output)) in self.outputs.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let (path, algo, hash) = match output {
                DerivationOutput::InputAddressed(path) => {
                    (store.print(path), String::new(), String::new())
                }
                DerivationOutput::Fixed(fixed) => (
                    store.print(&fixed_output_path(store, &self.name, name, fixed)?),
                    fixed.method_algo(),
                    fixed.hash.encode(Encoding::Base16, false),
                ),
                DerivationOutput::Deferred => Default::default(),
            };
            let path = if mask_outputs { String::new() } else { path };
            s.push('(');
            for (j, field) in [name.as_str(), &path, &algo, &hash].into_iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                push_unquoted(&mut s, field);
            }
            s.push(')');
        }
        s.push_str("],[");
        let printed_inputs: BTreeMap<String, BTreeSet<String>>;
        let inputs = match actual_inputs {
            Some(inputs) => inputs,
            None => {
                printed_inputs = self
                    .input_drvs
                    .iter()
                    .map(|(path, outputs)| (store.print(path), outputs.clone()))
                    .collect();
                &printed_inputs
            }
        };
        for (i, (drv, outputs)) in inputs.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            push_unquoted(&mut s, drv);
            s.push(',');
            push_list(&mut s, outputs.iter().map(String::as_str), push_unquoted);
            s.push(')');
        }
        s.push_str("],");
        let srcs: Vec<String> = self.input_srcs.iter().map(|p| store.print(p)).collect();
        push_list(&mut s, srcs.iter().map(String::as_str), push_unquoted);
        s.push(',');
        // Nix writes the platform without escaping.
        push_unquoted(&mut s, &self.platform);
        s.push(',');
        push_escaped(&mut s, &self.builder);
        s.push(',');
        push_list(&mut s, self.args.iter().map(String::as_str), push_escaped);
        s.push_str(",[");
        for (i, (key, value)) in self.env.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            push_escaped(&mut s, key);
            s.push(',');
            let masked = mask_outputs && self.outputs.contains_key(key);
            push_escaped(&mut s, if masked { "" } else { value });
            s.push(')');
        }
        s.push_str("])");
        Ok(s)
    }

    /// Nix's `hashDerivationModulo`. `input_hashes` gives the (unmasked) hash modulo of
    /// each input derivation, e.g. from [`crate::KnownDerivations::hashes_of`].
    pub fn hash_modulo(
        &self,
        store: &StoreDir,
        mask_outputs: bool,
        input_hashes: &mut dyn FnMut(&StorePath) -> Result<DrvHashes>,
    ) -> Result<DrvHashes> {
        if self.is_fixed_output() {
            let mut hashes = DrvHashes::new();
            for (name, output) in &self.outputs {
                let DerivationOutput::Fixed(fixed) = output else {
                    unreachable!("checked by is_fixed_output")
                };
                let path = fixed_output_path(store, &self.name, name, fixed)?;
                let text = format!(
                    "fixed:out:{}:{}:{}",
                    fixed.method_algo(),
                    fixed.hash.encode(Encoding::Base16, false),
                    store.print(&path)
                );
                hashes.insert(
                    name.clone(),
                    Hash::digest(HashAlgo::Sha256, text.as_bytes()),
                );
            }
            return Ok(hashes);
        }
        // Input derivations are replaced by their hashes so that the hash does not depend
        // on how fixed-output inputs were obtained, only on what they contain.
        let mut inputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (drv_path, outputs) in &self.input_drvs {
            let hashes = input_hashes(drv_path)?;
            for output in outputs {
                let hash = hashes.get(output).ok_or_else(|| {
                    crate::Error::UnknownDerivation(format!(
                        "{} (output '{output}')",
                        store.print(drv_path)
                    ))
                })?;
                inputs
                    .entry(hash.encode(Encoding::Base16, false))
                    .or_default()
                    .insert(output.clone());
            }
        }
        let text = self.unparse(store, mask_outputs, Some(&inputs))?;
        let hash = Hash::digest(HashAlgo::Sha256, text.as_bytes());
        Ok(self
            .outputs
            .keys()
            .map(|name| (name.clone(), hash.clone()))
            .collect())
    }
}

/// The path of a fixed output, named like any output (`name` or `name-<output>`).
fn fixed_output_path(
    store: &StoreDir,
    drv_name: &str,
    output: &str,
    fixed: &FixedOutputHash,
) -> Result<StorePath> {
    store.make_fixed_output_path(
        fixed.method,
        &fixed.hash,
        &crate::store_path::output_path_name(drv_name, output),
    )
}

fn push_unquoted(s: &mut String, text: &str) {
    s.push('"');
    s.push_str(text);
    s.push('"');
}

/// ATerm string escaping as Nix writes it: only `"`, `\`, newline, CR and tab.
fn push_escaped(s: &mut String, text: &str) {
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
}

fn push_list<'a>(
    s: &mut String,
    items: impl Iterator<Item = &'a str>,
    push: fn(&mut String, &str),
) {
    s.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            s.push(',');
        }
        push(s, item);
    }
    s.push(']');
}
