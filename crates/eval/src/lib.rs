//! nixweb-eval: an evaluator for the Nix language that runs inside the nixweb process.
//!
//! It is for evaluating Nix files and expressions with bounded time, steps, memory and
//! depth, with all I/O going through a host-supplied trait. It is not a store or a builder:
//! derivations get their store paths computed (see `nixweb-store`), never built.
//!
//! Pipeline: `lower` parses with rnix and lowers to `ast` (resolving variables and
//! rejecting what Nix rejects at parse time); `eval` evaluates lazily over `value`s;
//! `builtins` holds the primops by family; `print` and `instantiate` produce
//! `nix-instantiate --eval` output.

pub mod ast;
pub mod builtins;
pub mod coerce;
pub mod error;
pub mod eval;
pub mod gc;
pub mod host;
pub mod instantiate;
pub mod io;
pub mod lower;
pub mod ops;
pub mod print;
pub mod show;
pub mod source;
pub mod value;

pub use error::{ErrorKind, EvalError};
pub use eval::{Evaluator, Limits};
pub use host::{Handle, Session, SessionError};
pub use instantiate::{
    instantiate, ArgValue, InstantiateOptions, InstantiateOutput, OutputFormat, Source,
};
pub use io::{EvalIO, StdIO};
pub use value::Value;
