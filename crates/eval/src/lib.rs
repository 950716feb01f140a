//! nixweb-eval: an evaluator for the Nix language that runs inside the nixweb process.
//!
//! It is for evaluating Nix files and expressions with bounded time, steps, memory and
//! depth, with all I/O going through a host-supplied trait. It is not a store or a builder:
//! derivations get their store paths computed (see `nixweb-store`), never built.

pub mod instantiate;
pub mod io;

pub use instantiate::{
    instantiate, ArgValue, InstantiateOptions, InstantiateOutput, OutputFormat, Source,
};
pub use io::{EvalIO, StdIO};
