//! nixweb-eval: an evaluator for the Nix language (as of Nix 2.8) that runs inside the
//! nixweb process.
//!
//! It is for evaluating Nix files and expressions with bounded time, steps, memory and
//! depth, with all file, environment and network access going through a host-supplied
//! `EvalIO`. It is not a store or a builder: derivations get their store paths computed
//! (see `nixweb-store`), never built, and nothing is written anywhere.
//!
//! Pipeline: `lower` parses with rnix and lowers to `ast` (resolving variables and
//! rejecting what Nix rejects at parse time); `eval` evaluates lazily over `value`s, with
//! `ops` (operators, equality) and `coerce` (string coercion, type checks); `builtins`
//! holds the primops by family; `print`, `builtins::json` and `builtins::xml` render
//! values; `error` renders errors; `instantiate` is `nix-instantiate --eval`.
//!
//! Embedding: `Evaluator` (one thread at a time, `!Send`) evaluates files and expressions,
//! calls functions, converts to and from JSON, takes host builtins and `Limits`; values are
//! reference counted, a scope that only its own unevaluated bindings hold is freed as it
//! goes (see `scopes`), and a long-lived evaluator should call `collect_garbage` with the
//! values it keeps for the cycles left (see `gc`). `Session` wraps an evaluator behind handles and JSON so it
//! can move between threads.

pub mod alloc;
pub mod ast;
pub mod builtins;
pub mod coerce;
pub mod error;
pub mod eval;
pub mod gc;
pub mod host;
pub mod instantiate;
pub mod io;
pub mod log_text;
pub mod lower;
mod nesting;
pub mod ops;
pub mod print;
pub mod produced;
mod scopes;
pub mod settings;
pub mod show;
pub mod source;
mod stack;
pub mod value;

pub use error::{ErrorKind, EvalError, Limit};
pub use eval::{Evaluator, Limits};
pub use host::{Handle, Session, SessionError};
pub use instantiate::{
    instantiate, instantiate_then_exit, ArgValue, InstantiateOptions, InstantiateOutput,
    OutputFormat, Source,
};
pub use io::{EvalIO, StdIO};
pub use settings::Settings;
pub use value::Value;
