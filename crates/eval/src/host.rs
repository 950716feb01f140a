//! The embedding API for hosts such as the web server: evaluate, force, call, convert to and
//! from JSON, register builtins, set limits. `Evaluator` works with `Value`s directly and
//! stays on one thread; `Session` wraps it for worker pools: it is `Send`, and hands out
//! only plain handles and JSON, so no reference-counted value ever leaves it.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{format_error, EResult, ErrorKind, EvalError};
use crate::eval::{Evaluator, Limits};
use crate::io::EvalIO;
use crate::source::Pos;
use crate::value::*;

impl Evaluator {
    pub fn with_limits(io: Arc<dyn EvalIO>, limits: Limits) -> Evaluator {
        let mut ev = Evaluator::new(io);
        ev.limits = limits;
        ev
    }

    /// Starts a fresh budget (steps, memory, depth, trace output) under new limits, e.g.
    /// per request.
    pub fn reset_budget(&mut self, limits: Limits) {
        self.limits = limits;
        self.steps = 0;
        self.stack_low = usize::MAX;
        self.memory_high.set(0);
        self.memory_base = crate::alloc::thread_held().unwrap_or(0);
        self.depth = 0;
        self.call_depth = 0;
    }

    /// For a host that keeps one evaluator for many requests, after each: whether the
    /// evaluator may serve another. What it keeps between requests (derivations it
    /// computed, sources it parsed) may be reached later from values it caches, so none of
    /// it is evicted; once it has grown past its bounds since the first request (requests
    /// can make it grow, e.g. with derivations named after them), the host should start
    /// afresh with a new evaluator. (Compiled regexes and copied paths are caches with
    /// bounds of their own.)
    #[must_use]
    pub fn end_request(&mut self) -> bool {
        let kept = (self.known.len(), self.sources.bytes());
        let (derivations, source_bytes) = *self.kept_after_first.get_or_insert(kept);
        kept.0 <= derivations + KEPT_DERIVATIONS && kept.1 <= source_bytes + KEPT_SOURCE_BYTES
    }

    /// Calls a function value (lambda, builtin, or set with `__functor`) with an argument.
    pub fn call_function(&mut self, f: &Value, arg: Value) -> EResult<Value> {
        self.call(f.clone(), Thunk::value(arg), Pos::NONE)
    }

    /// Forces a lazy value held in a list or attribute set (values themselves are always
    /// in weak head normal form).
    pub fn force_thunk(&mut self, t: &Thunk) -> EResult<Value> {
        self.force(t)
    }

    /// Selects `name` from an attribute set value, forcing it.
    pub fn get_attr(&mut self, v: &Value, name: &str) -> EResult<Option<Value>> {
        match v {
            Value::Attrs(a) => match a.get(name).cloned() {
                Some(t) => Ok(Some(self.force(&t)?)),
                None => Ok(None),
            },
            other => Err(EvalError::new(
                ErrorKind::Eval,
                format!("value is {} while a set was expected", other.type_desc()),
                Pos::NONE,
            )),
        }
    }

    /// Deeply forces and converts to JSON as `builtins.toJSON` does (paths stay paths,
    /// sets with `outPath` become that string; functions are an error).
    pub fn to_json(&mut self, v: &Value) -> EResult<serde_json::Value> {
        crate::builtins::json::to_serde(self, v, Pos::NONE, &mut Context::new(), 0)
    }

    /// Deeply forces and writes JSON text exactly as `to_json` would convert it (and as
    /// `builtins.toJSON` prints it, without copying paths to the store), without building
    /// a `serde_json::Value` in between.
    pub fn to_json_string(&mut self, v: &Value) -> EResult<String> {
        let mut ctx = Context::new();
        let mut out = String::new();
        crate::builtins::json::to_json(self, v, Pos::NONE, false, &mut ctx, &mut out)?;
        Ok(out)
    }

    /// Converts JSON into a Nix value (integers stay integers, other numbers are floats).
    pub fn from_json(&self, j: &serde_json::Value) -> Value {
        crate::builtins::json::from_serde(j)
    }

    /// Parses JSON text straight into a Nix value, as `builtins.fromJSON` does: for the
    /// JSON `from_json` takes, the same value as `from_json` of the parsed text. (Like
    /// Nix 2.8, a repeated key keeps its last value, integers between 2^63 and 2^64 wrap,
    /// and a `\u0000` escape ends its string.) Errors are worded as Nix words them.
    pub fn from_json_str(&self, text: &str) -> EResult<Value> {
        crate::builtins::json_parse::parse(text, self.limits.max_depth)
    }

    /// Adds a builtin under `builtins.<name>` and `__<name>` (and as a bare global when
    /// `global`). Arguments arrive forced; the function must not be called with fewer.
    /// Only expressions parsed after registration see new globals.
    pub fn register_builtin(
        &mut self,
        name: &'static str,
        arity: usize,
        global: bool,
        f: impl Fn(&mut Evaluator, &[Value]) -> Result<Value, String> + 'static,
    ) {
        let f = Rc::new(f);
        crate::builtins::register_host(
            self,
            name,
            arity,
            Box::new(move |ev, args, pos| {
                let mut forced = Vec::with_capacity(args.len());
                for a in args {
                    forced.push(ev.force(a)?);
                }
                f(ev, &forced).map_err(|msg| EvalError::new(ErrorKind::Eval, msg, pos))
            }),
            global,
        );
    }

    /// Renders an error as Nix prints it (with source excerpt).
    pub fn format_error(&self, e: &EvalError) -> String {
        format_error(e, &self.sources, false)
    }
}

/// Derivations (and paths with references) an evaluator may add after its first request.
const KEPT_DERIVATIONS: usize = 10_000;
/// Bytes of parsed source an evaluator may add after its first request.
const KEPT_SOURCE_BYTES: usize = 16 * 1024 * 1024;

/// An index into the values a `Session` keeps alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(usize);

/// A failed session operation: the Nix-formatted message and the error's kind.
#[derive(Debug, Clone)]
pub struct SessionError {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SessionError {}

/// An evaluator that can move between threads (used by one at a time).
pub struct Session {
    ev: Evaluator,
    values: Vec<Option<Value>>,
}

// SAFETY: every `Rc` reachable from a Session is created by, stored in, and only ever
// touched through this Session: the API takes and returns plain data (paths, strings, JSON,
// `Handle` indices), host builtins must be `Send` closures over JSON, and the evaluator keeps
// no thread-local values. Moving the whole graph to another thread therefore moves every
// owner of every reference count with it.
unsafe impl Send for Session {}

type HostJsonFn = dyn Fn(&[serde_json::Value]) -> Result<serde_json::Value, String> + Send;

impl Session {
    pub fn new(io: Arc<dyn EvalIO>, limits: Limits) -> Session {
        Session {
            ev: Evaluator::with_limits(io, limits),
            values: Vec::new(),
        }
    }

    fn fail(&self, e: Box<EvalError>) -> SessionError {
        SessionError {
            kind: e.kind,
            message: self.ev.format_error(&e),
        }
    }

    fn keep(&mut self, v: Value) -> Handle {
        self.values.push(Some(v));
        Handle(self.values.len() - 1)
    }

    fn get(&self, h: Handle) -> Result<Value, SessionError> {
        self.values
            .get(h.0)
            .and_then(|v| v.clone())
            .ok_or_else(|| SessionError {
                kind: ErrorKind::Eval,
                message: "error: invalid or released value handle".into(),
            })
    }

    pub fn set_search_path(&mut self, entries: &[String]) {
        self.ev.set_search_path(entries);
    }

    /// New limits and a fresh budget for the next operations.
    pub fn reset_budget(&mut self, limits: Limits) {
        self.ev.reset_budget(limits);
    }

    pub fn eval_file(&mut self, path: &Path) -> Result<Handle, SessionError> {
        match self.ev.eval_file(path) {
            Ok(v) => Ok(self.keep(v)),
            Err(e) => Err(self.fail(e)),
        }
    }

    pub fn eval_expr(&mut self, text: &str, base_dir: &Path) -> Result<Handle, SessionError> {
        match self.ev.eval_expr_str(text, base_dir) {
            Ok(v) => Ok(self.keep(v)),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Selects a dotted attribute path (`a.b.c`).
    pub fn select(&mut self, h: Handle, path: &str) -> Result<Handle, SessionError> {
        let mut v = self.get(h)?;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            v = match self.ev.get_attr(&v, part) {
                Ok(Some(v)) => v,
                Ok(None) => {
                    return Err(SessionError {
                        kind: ErrorKind::Eval,
                        message: format!("error: attribute '{}' missing", part),
                    })
                }
                Err(e) => return Err(self.fail(e)),
            };
        }
        Ok(self.keep(v))
    }

    /// Calls the function at `f` with a JSON argument.
    pub fn call_json(
        &mut self,
        f: Handle,
        arg: &serde_json::Value,
    ) -> Result<Handle, SessionError> {
        let fv = self.get(f)?;
        let a = self.ev.from_json(arg);
        match self.ev.call_function(&fv, a) {
            Ok(v) => Ok(self.keep(v)),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Deeply forces the value and returns it as JSON.
    pub fn to_json(&mut self, h: Handle) -> Result<serde_json::Value, SessionError> {
        let v = self.get(h)?;
        self.ev.to_json(&v).map_err(|e| self.fail(e))
    }

    /// Prints the (deeply forced) value as `nix-instantiate --eval --strict` would.
    pub fn print(&mut self, h: Handle) -> Result<String, SessionError> {
        let v = self.get(h)?;
        self.ev.force_deep(&v).map_err(|e| self.fail(e))?;
        Ok(crate::print::print_value(&v))
    }

    pub fn type_name(&self, h: Handle) -> Result<&'static str, SessionError> {
        Ok(self.get(h)?.type_name())
    }

    /// Frees cyclic garbage not reachable from the handles still held (call between
    /// requests). Returns how many scopes were freed.
    pub fn collect_garbage(&mut self) -> usize {
        let held: Vec<Value> = self.values.iter().flatten().cloned().collect();
        let roots: Vec<&Value> = held.iter().collect();
        self.ev.collect_garbage(&roots)
    }

    /// Lets go of a value (handles are not reused).
    pub fn release(&mut self, h: Handle) {
        if let Some(slot) = self.values.get_mut(h.0) {
            *slot = None;
        }
    }

    /// Registers a builtin whose arguments and result are JSON.
    pub fn register_builtin(
        &mut self,
        name: &'static str,
        arity: usize,
        global: bool,
        f: impl Fn(&[serde_json::Value]) -> Result<serde_json::Value, String> + Send + 'static,
    ) {
        let f: Box<HostJsonFn> = Box::new(f);
        self.ev
            .register_builtin(name, arity, global, move |ev, args| {
                let mut json = Vec::with_capacity(args.len());
                for a in args {
                    json.push(ev.to_json(a).map_err(|e| e.msg)?);
                }
                f(&json).map(|r| ev.from_json(&r))
            });
    }

    /// Messages from `builtins.trace` and warnings since the last call, and how many
    /// bytes of them were dropped (past `Limits::max_trace_bytes`).
    pub fn take_stderr(&mut self) -> (String, u64) {
        self.ev.take_stderr()
    }

    pub fn base_dir_of(path: &Path) -> PathBuf {
        path.parent().unwrap_or(Path::new("/")).to_path_buf()
    }
}
