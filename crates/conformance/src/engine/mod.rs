//! The engines a case can run on, inside a `run-one` child.
//!
//! `reference` shells out to the real `nix-instantiate`; `embedded` calls nixweb-eval in
//! this process. Both take the same [`Invocation`] and return the same [`Outcome`].

mod reference;

#[cfg(feature = "embedded")]
mod embedded;

use crate::invocation::{Invocation, Outcome};
use clap::ValueEnum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// nixweb-eval, in the runner's child process.
    Embedded,
    /// The real `nix-instantiate` (Nix 2.8), the source of truth.
    Reference,
}

impl EngineKind {
    /// The engine used when none is named: the one being tested, if it is built in.
    pub fn default_kind() -> Self {
        if cfg!(feature = "embedded") {
            EngineKind::Embedded
        } else {
            EngineKind::Reference
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Embedded => "embedded",
            EngineKind::Reference => "reference",
        }
    }
}

/// Runs one invocation in the current process. Only the `run-one` child calls this, with
/// its working directory and environment already set up by the parent.
pub fn run_here(kind: EngineKind, invocation: &Invocation) -> Outcome {
    match kind {
        EngineKind::Reference => reference::run(invocation),
        EngineKind::Embedded => run_embedded(invocation),
    }
}

#[cfg(feature = "embedded")]
fn run_embedded(invocation: &Invocation) -> Outcome {
    embedded::run(invocation)
}

#[cfg(not(feature = "embedded"))]
fn run_embedded(_invocation: &Invocation) -> Outcome {
    Outcome::runner_failure(
        "this nixweb-conformance was built without the `embedded` feature".to_owned(),
    )
}

/// Whether `nix-instantiate` can be started here.
pub fn reference_available() -> bool {
    reference::available()
}
