//! The one interface both engines implement: evaluate the router for a request.
//!
//! An engine is given the request value and a mode, evaluates [`crate::ROUTER_NIX`] with
//! the app, and hands back the router's JSON. Everything before (HTTP parsing, limits) and
//! after (checking the outcome, writing HTTP) is shared, so engines stay small.

use crate::request::Request;
use crate::trace::Traces;
use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the router is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterMode {
    /// Resolve the request's route and run its handler.
    Handle,
    /// List the route table (the request is a synthetic `GET /`).
    Routes,
    /// Say which handler the request goes to and where it is defined, without running it.
    Route,
    /// List the node the request's segments name, exactly (see router.nix).
    Node,
    /// Run the app's own error page for `req.error.status` (docs/web.md).
    Error,
}

impl RouterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RouterMode::Handle => "handle",
            RouterMode::Routes => "routes",
            RouterMode::Route => "route",
            RouterMode::Node => "node",
            RouterMode::Error => "error",
        }
    }
}

/// One evaluation of the router.
#[derive(Clone)]
pub struct RouterCall {
    pub mode: RouterMode,
    /// The request value's fields.
    pub request: Arc<Request>,
    /// The evaluation is abandoned (and answered with 504) after this long.
    pub timeout: Duration,
    /// The request's state snapshot, when the app has state.
    pub state: Option<StateAccess>,
    /// Where the evaluation's `builtins.trace` output goes: the log, with the request id,
    /// capped per request; kept for the request's `--dev` error page.
    pub traces: Arc<Traces>,
}

/// Reads from one request's state snapshot (`req.db.get`, `req.db.list`). Blocking: engines
/// call it from their evaluation threads, never from async code.
pub trait StateReader: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Value>, String>;
    /// Up to `limit` entries whose key starts with `prefix`, in key order, after `after`.
    fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Value)>, String>;
}

/// How an engine reaches a request's snapshot: in process through `reader`, or over HTTP
/// on loopback at `http_url` (`/get?key=…`, `/list?prefix=…&after=…&limit=…`) for engines
/// that evaluate in another process (see [`Engine::reads_state_over_http`]).
#[derive(Clone)]
pub struct StateAccess {
    pub reader: Arc<dyn StateReader>,
    pub http_url: Option<String>,
}

/// Where an error points in the app's sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

/// A bound on one evaluation that the app can exceed, named as the setting that raises it:
/// the flag `--NAME` of `nixweb serve` and the key `NAME` in nixweb.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Evaluation steps: like a timeout, but counted, not timed.
    Steps,
    /// Nested calls.
    Depth,
    /// Memory the evaluation holds.
    Memory,
    /// Bytes one request may download (embedded engine).
    FetchBytes,
    /// Bytes of files one request's tarballs may unpack (embedded engine).
    FetchUnpacked,
    /// Files one request's tarballs may unpack (embedded engine).
    FetchFiles,
    /// Memory of one `nix-instantiate` (Nix engine).
    NixMemory,
    /// CPU time of one `nix-instantiate` (Nix engine): time, like steps.
    Cpu,
}

impl Bound {
    /// The flag without its dashes, which is also the nixweb.toml key.
    pub fn setting(self) -> &'static str {
        match self {
            Bound::Steps => "max-steps",
            Bound::Depth => "max-depth",
            Bound::Memory => "eval-memory",
            Bound::FetchBytes => "fetch-max-bytes",
            Bound::FetchUnpacked => "fetch-max-unpacked",
            Bound::FetchFiles => "fetch-max-files",
            Bound::NixMemory => "nix-max-memory",
            Bound::Cpu => "nix-max-cpu",
        }
    }
}

/// How to raise a bound, said after a message about it.
pub fn raise_hint(setting: &str) -> String {
    format!("raise it with --{setting}, or {setting} in nixweb.toml")
}

/// An evaluation that failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The Nix code failed: throw, assert, type error, missing attribute, syntax error…
    #[error("{message}")]
    Eval {
        /// The engine's full message, as Nix would print it.
        message: String,
        location: Option<SourceLocation>,
    },
    /// The evaluation ran longer than the call's timeout and was stopped.
    #[error("the evaluation took longer than {0:?} and was stopped ({hint})", hint = raise_hint("eval-timeout"))]
    Timeout(Duration),
    /// The evaluation went past one of its bounds; the message says which and how far.
    /// The same request would fail the same way again: an app error, not overload.
    #[error("{1} ({hint})", hint = raise_hint(.0.setting()))]
    Exceeded(Bound, String),
    /// The server has no room for this evaluation now (its process is at its memory
    /// ceiling): overload, which a retry later may not meet.
    #[error("{0}")]
    Overloaded(String),
    /// A fetch from another server failed: connection refused, DNS, TLS, an HTTP error
    /// status. Answered 502: the app is fine, its upstream is not.
    #[error("{0}")]
    Upstream(String),
    /// A fetch from another server got no answer in time. Answered 504.
    #[error("{0}")]
    UpstreamTimeout(String),
    /// A fault in nixweb itself, such as a panic on an evaluation thread; the engine threw
    /// the evaluator away and serves on. Answered 500.
    #[error("internal error: {0}")]
    Internal(String),
    /// The engine itself could not run (Nix missing, a process that could not start).
    #[error("the engine could not run: {0}")]
    Unavailable(String),
}

/// An evaluator able to run the router. Implemented by the Nix engine (a `nix-instantiate`
/// process per call) and the embedded engine (nixweb-eval in this process).
pub trait Engine: Send + Sync + 'static {
    /// A short name for logs and the start-up banner.
    fn name(&self) -> &'static str;
    /// The app's entry file.
    fn app_file(&self) -> &std::path::Path;
    /// nixweb's own Nix files as this engine evaluates them, so that error reports can
    /// tell their frames from the app's.
    fn runtime_files(&self) -> Option<&crate::RuntimeFiles> {
        None
    }
    /// Whether this engine reads state over loopback HTTP (it evaluates in another process),
    /// so each request's snapshot must be given a URL.
    fn reads_state_over_http(&self) -> bool {
        false
    }
    /// How many calls per worker the server may hand over at once. An engine with its own
    /// queue (the embedded engine's threads) asks for more than one, so a worker that
    /// finishes a request finds the next one waiting instead of sleeping until it arrives.
    fn calls_per_worker(&self) -> usize {
        1
    }
    /// The result of an earlier evaluation that this request would certainly get again,
    /// if the engine kept one; the server then answers without evaluating.
    fn cached(&self, _request: &Request) -> Option<Arc<Value>> {
        None
    }
    /// A folder whose files the app's evaluations may read, where the server puts uploaded
    /// files for the length of their request (`req.files.*.path`).
    fn upload_dir(&self) -> &std::path::Path;
    /// Evaluates the router and returns its JSON result.
    fn run_router(&self, call: RouterCall) -> BoxFuture<'_, Result<Value, EngineError>>;
}
