//! `derivationStrict` without the evaluator: from what the evaluator collected out of a
//! derivation's attributes to the `.drv` path, its ATerm text and the output paths.
//!
//! The evaluator walks the attributes (in lexicographic order, as Nix does), coerces them
//! to strings, calls [`check_outputs`] and [`FileIngestionMethod::parse_output_hash_mode`]
//! where Nix checks them, and hands the rest over in a [`DerivationArgs`]. The
//! [`KnownDerivations`] it keeps plays the part of Nix's store and `drvHashes` cache: the
//! hash modulo and references of every derivation and file it has produced.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::derivation::{Derivation, DerivationOutput, DrvHashes, FixedOutputHash};
use crate::error::{Error, Result};
use crate::hash::{Hash, HashAlgo};
use crate::store_path::{FileIngestionMethod, StoreDir, StorePath, DRV_EXTENSION};

/// One element of a string's context, as Nix 2.8 encodes them in strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContextElem {
    /// A store path the string refers to (a source, a `toFile` result, …).
    Path(String),
    /// `=<drv>`: a `.drv` path itself (from `drvPath`): its whole closure becomes input.
    DrvDeep(String),
    /// `!<output>!<drv>`: one output of a derivation.
    Output { drv: String, output: String },
}

impl ContextElem {
    /// Decodes Nix's string form (`/nix/store/…`, `=/nix/store/….drv`, `!out!/nix/store/….drv`).
    pub fn parse(encoded: &str) -> Result<Self> {
        if let Some(drv) = encoded.strip_prefix('=') {
            return Ok(Self::DrvDeep(drv.to_owned()));
        }
        if let Some(rest) = encoded.strip_prefix('!') {
            return match rest.split_once('!') {
                Some((output, drv)) => Ok(Self::Output {
                    drv: drv.to_owned(),
                    output: output.to_owned(),
                }),
                None => Err(Error::InvalidContext(encoded.to_owned())),
            };
        }
        Ok(Self::Path(encoded.to_owned()))
    }

    /// Nix's string form.
    pub fn encode(&self) -> String {
        match self {
            Self::Path(path) => path.clone(),
            Self::DrvDeep(drv) => format!("={drv}"),
            Self::Output { drv, output } => format!("!{output}!{drv}"),
        }
    }
}

/// Validates the `outputs` attribute as Nix does while walking the attributes: no
/// duplicates, none called `drv` (as 2.8) or `drvPath` (as current Nix), not empty.
pub fn check_outputs<S: AsRef<str>>(outputs: &[S]) -> Result<BTreeSet<String>> {
    let mut set = BTreeSet::new();
    for output in outputs {
        let output = output.as_ref();
        if set.contains(output) {
            return Err(Error::DuplicateOutput(output.to_owned()));
        }
        // Outputs become attributes beside `drvPath`: one called so would clash with it.
        if output == "drv" || output == "drvPath" {
            return Err(Error::ReservedOutputName(output.to_owned()));
        }
        set.insert(output.to_owned());
    }
    if set.is_empty() {
        return Err(Error::NoOutputs);
    }
    Ok(set)
}

/// Splits a non-structured `outputs` string on whitespace, as Nix's `tokenizeString`.
pub fn split_outputs_string(outputs: &str) -> Vec<String> {
    outputs
        .split([' ', '\t', '\n', '\r'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `derivationStrict` collected from the attributes.
#[derive(Clone, Debug)]
pub struct DerivationArgs {
    pub name: String,
    /// Empty means the attribute was missing.
    pub builder: String,
    /// Empty means the attribute was missing.
    pub system: String,
    pub args: Vec<String>,
    /// Every attribute except `args` (and `__ignoreNulls`, and nulls when that is set),
    /// coerced to a string, including `name`, `builder`, `system`, `outputs`, … With
    /// `__structuredAttrs` only `__json`. Output variables are added here.
    pub env: BTreeMap<String, String>,
    /// Output names in the order given; `["out"]` when there is no `outputs` attribute.
    /// Without structured attrs Nix coerces the `outputs` list to a string and splits it
    /// on whitespace ([`split_outputs_string`]), so `[ "a b" ]` means two outputs.
    pub outputs: Vec<String>,
    pub output_hash: Option<String>,
    /// Empty when absent; an unknown name counts as absent, as in Nix.
    pub output_hash_algo: String,
    pub output_hash_mode: Option<FileIngestionMethod>,
    /// `__contentAddressed = true` / `__impure = true`: experimental in Nix 2.8 and disabled.
    pub content_addressed: bool,
    pub impure: bool,
    /// The contexts of all strings that went into `args` and `env`.
    pub context: BTreeSet<ContextElem>,
}

impl DerivationArgs {
    /// Arguments with the defaults Nix uses before looking at the attributes.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            builder: String::new(),
            system: String::new(),
            args: Vec::new(),
            env: BTreeMap::new(),
            outputs: vec!["out".to_owned()],
            output_hash: None,
            output_hash_algo: String::new(),
            output_hash_mode: None,
            content_addressed: false,
            impure: false,
            context: BTreeSet::new(),
        }
    }
}

/// The result of instantiating a derivation.
#[derive(Clone, Debug)]
pub struct Instantiated {
    /// The full `.drv` path (the `drvPath` attribute).
    pub drv_path: String,
    pub derivation: Derivation,
    /// The text Nix would write to `drv_path`.
    pub aterm: String,
    /// Output name → full store path (the `outPath` of each output).
    pub output_paths: BTreeMap<String, String>,
    /// Warnings Nix would print (without "warning: "), e.g. for an empty `outputHash`.
    pub warnings: Vec<String>,
}

/// What the evaluator's instantiations have put "in the store": the hash modulo and the
/// references of each derivation, and the references of other paths it created (`toFile`
/// results). Nix reads these back from its store; we only have what we were told.
/// Paths never registered are taken to have no references.
#[derive(Clone, Debug, Default)]
pub struct KnownDerivations {
    hashes: HashMap<StorePath, DrvHashes>,
    outputs: HashMap<StorePath, BTreeSet<String>>,
    references: HashMap<StorePath, BTreeSet<StorePath>>,
}

impl KnownDerivations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a derivation (one not produced by [`instantiate`], e.g. parsed from a
    /// `.drv` file) under its path.
    pub fn insert_derivation(
        &mut self,
        store: &StoreDir,
        drv_path: StorePath,
        drv: &Derivation,
    ) -> Result<()> {
        let hashes = drv.hash_modulo(store, false, &mut |p| self.hashes_of(store, p))?;
        let mut references = drv.input_srcs.clone();
        references.extend(drv.input_drvs.keys().cloned());
        self.hashes.insert(drv_path.clone(), hashes);
        self.outputs
            .insert(drv_path.clone(), drv.outputs.keys().cloned().collect());
        self.references.insert(drv_path, references);
        Ok(())
    }

    /// Records a `.drv` file found in a real store, from its text.
    pub fn insert_drv_file(&mut self, store: &StoreDir, drv_path: &str, text: &str) -> Result<()> {
        let path = store.parse(drv_path)?;
        let drv = Derivation::from_aterm(store, &path, text)?;
        self.insert_derivation(store, path, &drv)
    }

    /// How many paths are recorded (derivations and paths with references).
    pub fn len(&self) -> usize {
        self.hashes.len() + self.references.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `drv_path` is known (its hash modulo can be computed).
    pub fn contains(&self, drv_path: &StorePath) -> bool {
        self.hashes.contains_key(drv_path)
    }

    /// Records the references of a non-derivation path (e.g. the context of a `toFile`).
    pub fn insert_references(&mut self, path: StorePath, references: BTreeSet<StorePath>) {
        self.references.insert(path, references);
    }

    /// The hash modulo of a known derivation.
    pub fn hashes_of(&self, store: &StoreDir, drv_path: &StorePath) -> Result<DrvHashes> {
        self.hashes
            .get(drv_path)
            .cloned()
            .ok_or_else(|| Error::UnknownDerivation(store.print(drv_path)))
    }

    /// The closure of `path` under the known references, including `path`.
    pub fn closure(&self, path: &StorePath) -> BTreeSet<StorePath> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![path.clone()];
        while let Some(next) = todo.pop() {
            if let Some(refs) = self.references.get(&next) {
                todo.extend(refs.iter().filter(|r| !seen.contains(*r)).cloned());
            }
            seen.insert(next);
        }
        seen
    }
}

/// `builtins.toFile name contents`: the full store path of the text file. Its context
/// may only hold plain store paths, which become the file's references (recorded in
/// `known`, so a derivation that depends on the file deeply gets them too).
pub fn to_file(
    store: &StoreDir,
    known: &mut KnownDerivations,
    name: &str,
    contents: &[u8],
    context: &BTreeSet<String>,
) -> Result<String> {
    let mut references = BTreeSet::new();
    for elem in context {
        if !elem.starts_with('/') {
            return Err(Error::ToFileRefersToDerivation {
                name: name.to_owned(),
                context: elem.clone(),
            });
        }
        references.insert(store.parse(elem)?);
    }
    let path = store.make_text_path(name, contents, &references)?;
    if !references.is_empty() {
        known.insert_references(path.clone(), references);
    }
    Ok(store.print(&path))
}

/// Nix 2.8's `derivationStrict` after the attribute walk: checks what Nix checks (in
/// Nix's order), computes the output paths, the ATerm and the `.drv` path, and records
/// the new derivation in `known` so later derivations can depend on it.
pub fn instantiate(
    store: &StoreDir,
    args: &DerivationArgs,
    known: &mut KnownDerivations,
) -> Result<Instantiated> {
    let outputs = check_outputs(&args.outputs)?;
    if args.content_addressed {
        return Err(Error::ExperimentalFeatureDisabled("ca-derivations"));
    }
    if args.impure {
        return Err(Error::ExperimentalFeatureDisabled("impure-derivations"));
    }
    let mut drv = Derivation {
        name: args.name.clone(),
        platform: args.system.clone(),
        builder: args.builder.clone(),
        args: args.args.clone(),
        env: args.env.clone(),
        ..Derivation::default()
    };
    add_context_inputs(store, &args.context, known, &mut drv)?;
    if args.builder.is_empty() {
        return Err(Error::MissingBuilder);
    }
    if args.system.is_empty() {
        return Err(Error::MissingSystem);
    }
    if args.name.ends_with(DRV_EXTENSION) {
        return Err(Error::NameEndsInDrv);
    }

    let mut warnings = Vec::new();
    if let Some(output_hash) = &args.output_hash {
        if outputs.len() != 1 || !outputs.contains("out") {
            return Err(Error::FixedOutputWithMultipleOutputs);
        }
        let algo = HashAlgo::parse_opt(&args.output_hash_algo);
        let (hash, warning) = Hash::parse_allow_empty(output_hash, algo)?;
        warnings.extend(warning);
        let method = args.output_hash_mode.unwrap_or(FileIngestionMethod::Flat);
        let path = store.make_fixed_output_path(method, &hash, &args.name)?;
        drv.env.insert("out".to_owned(), store.print(&path));
        drv.outputs.insert(
            "out".to_owned(),
            DerivationOutput::Fixed(FixedOutputHash { method, hash }),
        );
    } else {
        // Hash the derivation with empty output paths and output variables, so the set
        // of output names is part of what the paths depend on.
        for output in &outputs {
            drv.env.insert(output.clone(), String::new());
            drv.outputs
                .insert(output.clone(), DerivationOutput::Deferred);
        }
        let hashes = drv.hash_modulo(store, true, &mut |p| known.hashes_of(store, p))?;
        for output in &outputs {
            let path = store.make_output_path(output, &hashes[output], &args.name)?;
            drv.env.insert(output.clone(), store.print(&path));
            drv.outputs
                .insert(output.clone(), DerivationOutput::InputAddressed(path));
        }
    }

    let aterm = drv.to_aterm(store)?;
    let drv_store_path = drv.drv_path(store, &aterm)?;
    known.insert_derivation(store, drv_store_path.clone(), &drv)?;
    let mut output_paths = BTreeMap::new();
    for output in drv.outputs.keys() {
        if let Some(path) = drv.output_path(store, output)? {
            output_paths.insert(output.clone(), store.print(&path));
        }
    }
    Ok(Instantiated {
        drv_path: store.print(&drv_store_path),
        derivation: drv,
        aterm,
        output_paths,
        warnings,
    })
}

/// Turns string contexts into input derivations and sources, as Nix does: a deep `.drv`
/// reference pulls in its whole closure (every path as a source, every derivation in it
/// with all its outputs).
fn add_context_inputs(
    store: &StoreDir,
    context: &BTreeSet<ContextElem>,
    known: &KnownDerivations,
    drv: &mut Derivation,
) -> Result<()> {
    for elem in context {
        match elem {
            ContextElem::DrvDeep(path) => {
                for member in known.closure(&store.parse(path)?) {
                    if member.is_derivation() {
                        let outputs = known
                            .outputs
                            .get(&member)
                            .cloned()
                            .ok_or_else(|| Error::UnknownDerivation(store.print(&member)))?;
                        drv.input_drvs.insert(member.clone(), outputs);
                    }
                    drv.input_srcs.insert(member);
                }
            }
            ContextElem::Output { drv: path, output } => {
                drv.input_drvs
                    .entry(store.parse(path)?)
                    .or_default()
                    .insert(output.clone());
            }
            ContextElem::Path(path) => {
                drv.input_srcs.insert(store.parse(path)?);
            }
        }
    }
    Ok(())
}
