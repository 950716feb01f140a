//! The evaluator proper: forcing thunks, evaluating expressions, calling functions, and the
//! language-level operations (equality, comparison, string coercion) builtins share.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use crate::ast::*;
use crate::error::{err, limit_err, EResult, ErrorKind, EvalError, Limit};
use crate::io::EvalIO;
use crate::lower::{normalise_newlines, parse_and_lower};
use crate::scopes::{binding_evaluated, scope_ref_dropping};
use crate::source::{Pos, Sources};
use crate::value::*;

/// What one evaluation step produced: a value, or an expression in tail position to
/// continue with.
enum Step {
    Done(Value),
    Tail(ExprRef, Rc<Env>),
    /// A lambda called in tail position: its body, scope, and (for traces) the lambda and
    /// the call site.
    Call(ExprRef, Rc<Env>, Rc<Lambda>, Pos),
}

/// Resource limits. `None` means unlimited.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Maximum number of expression evaluations.
    pub max_steps: Option<u64>,
    /// Maximum nesting of function calls and thunk forcing, and of the values a walk
    /// (`==`, `deepSeq`, `toJSON`, `toXML`) goes into.
    pub max_depth: Option<usize>,
    /// Evaluation stops with an error once this instant has passed.
    pub deadline: Option<Instant>,
    /// Bytes the evaluation may hold: measured when the host's global allocator is
    /// `alloc::Counting`, and checked before anything large is built (see `alloc`).
    pub max_memory: Option<u64>,
    /// Bytes of `builtins.trace` output and warnings kept for the host; what does not
    /// fit is counted in `Evaluator::stderr_dropped` instead.
    pub max_trace_bytes: Option<usize>,
}

pub struct Evaluator {
    /// The host's `EvalIO` behind `produced`: every read goes through both.
    pub io: Arc<dyn EvalIO>,
    /// Store paths this evaluation produced, readable through `io` (see `produced`).
    pub produced: Arc<crate::produced::ProducedIO>,
    pub sources: Sources,
    pub globals: Vec<Thunk>,
    pub global_names: HashMap<Rc<str>, u32>,
    /// (prefix, path) entries; an empty prefix matches any name.
    pub search_path: Vec<(String, String)>,
    /// `<name>` lookups in `search_path` that found a file, so that an app importing
    /// `<nixweb/…>` on every request does not look at the file system every time. Only
    /// hits are kept (a file may yet appear where none was) and the host starts a new
    /// evaluator when files it read change; cleared when the search path changes.
    found_in_search_path: HashMap<String, Value>,
    /// Imports by the path as written and by the file it led to (after final links and
    /// `default.nix`): a repeated import costs no look at the file system.
    pub import_cache: HashMap<PathBuf, Value>,
    pub limits: Limits,
    pub steps: u64,
    /// The lowest stack address the checks every 1024 steps saw since the budget was
    /// reset: a host can tell from it how deep into its thread's stack the evaluation
    /// went, and give those pages back.
    pub stack_low: usize,
    pub depth: usize,
    /// What `alloc::thread_held` said when the budget started.
    pub(crate) memory_base: isize,
    /// The most the evaluation held, or was about to hold (checked before something
    /// large), at the memory checks since the budget was reset: see `memory_high`.
    pub(crate) memory_high: std::cell::Cell<u64>,
    /// Messages from `builtins.trace` and warnings, for the host to show (at most
    /// `Limits::max_trace_bytes` of them).
    pub stderr: String,
    /// Bytes of messages left out of `stderr` because it was full.
    pub stderr_dropped: u64,
    /// Derivations known and source bytes held after the first request (`end_request`).
    pub(crate) kept_after_first: Option<(usize, usize)>,
    pub empty_env: Rc<Env>,
    pub store_dir: String,
    pub store: nixweb_store::StoreDir,
    /// Derivations and files this evaluation has "added to the store".
    pub known: nixweb_store::KnownDerivations,
    /// Store paths of source paths already copied (`"${./x}"`).
    pub copied_paths: HashMap<String, String>,
    pub regex_cache: HashMap<String, Rc<crate::builtins::regex::Compiled>>,
    /// Helper primops shared by builtins (kept here, not in thread-locals, so that an
    /// evaluator's values never share reference counts with another thread's).
    pub apply_op: Rc<PrimOp>,
    /// Scopes whose bindings may refer back to the scope itself (let, rec, defaults):
    /// the only places reference cycles form. See `gc.rs`.
    pub cyclic_envs: Vec<std::rc::Weak<Env>>,
    pub cyclic_prune_at: usize,
    /// The cells of those scopes' slots, which outlive their scope in a cycle of their
    /// own (`let x = f x; in x` once the scope is gone). See `gc.rs`.
    pub cyclic_cells: Vec<std::rc::Weak<std::cell::RefCell<ThunkState>>>,
    pub cyclic_cells_prune_at: usize,
    /// Function calls currently nested (tail calls included).
    pub call_depth: usize,
    /// Beyond this many nested calls evaluation fails with Nix's "stack overflow" error.
    pub max_call_depth: usize,
    pub identity_op: Rc<PrimOp>,
    /// Allocations of call scopes no longer used, for the next calls (`new_scope`).
    spare_scopes: Vec<Rc<Env>>,
    /// Current Nix's settings for warnings and verbose traces.
    pub settings: crate::settings::Settings,
    /// Raised by the host (from any thread) to stop the evaluation at its next check, as
    /// the deadline does: a server over its memory ceiling stops what is running.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Memory of one list element or attribute with a thunk of its own, for `reserve_items`.
pub const ITEM_BYTES: usize = 80;

/// How many emptied call scopes the evaluator keeps for reuse: enough for the scopes of
/// a curried call and the calls inside it.
const SPARE_SCOPES: usize = 8;

pub(crate) const STACK_RED_ZONE: usize = 256 * 1024;
pub(crate) const STACK_GROW: usize = 4 * 1024 * 1024;

impl Evaluator {
    pub fn new(io: Arc<dyn EvalIO>) -> Evaluator {
        let produced = Arc::new(crate::produced::ProducedIO::new(io));
        let mut ev = Evaluator {
            io: produced.clone(),
            produced,
            sources: Sources::default(),
            globals: Vec::new(),
            global_names: HashMap::new(),
            search_path: Vec::new(),
            found_in_search_path: HashMap::new(),
            import_cache: HashMap::new(),
            limits: Limits::default(),
            steps: 0,
            stack_low: usize::MAX,
            depth: 0,
            memory_base: crate::alloc::thread_held().unwrap_or(0),
            memory_high: std::cell::Cell::new(0),
            stderr: String::new(),
            stderr_dropped: 0,
            kept_after_first: None,
            empty_env: Rc::new(Env {
                slots: Slots::empty(),
                parent: None,
            }),
            store_dir: "/nix/store".to_string(),
            store: nixweb_store::StoreDir::default(),
            known: nixweb_store::KnownDerivations::new(),
            copied_paths: HashMap::new(),
            regex_cache: HashMap::new(),
            apply_op: Rc::new(crate::builtins::attrs::apply_primop()),
            cyclic_envs: Vec::new(),
            cyclic_prune_at: 4096,
            cyclic_cells: Vec::new(),
            cyclic_cells_prune_at: 4096,
            call_depth: 0,
            max_call_depth: 4_000_000,
            identity_op: Rc::new(crate::builtins::identity_primop()),
            spare_scopes: Vec::with_capacity(SPARE_SCOPES),
            settings: Default::default(),
            interrupt: None,
        };
        crate::builtins::install(&mut ev);
        ev
    }

    /// Adds a search path entry in `-I`/`NIX_PATH` syntax ("prefix=path" or "path").
    pub fn add_search_path(&mut self, entry: &str) {
        self.found_in_search_path.clear();
        match entry.split_once('=') {
            Some((prefix, path)) => self
                .search_path
                .push((prefix.to_string(), path.to_string())),
            None => self.search_path.push((String::new(), entry.to_string())),
        }
    }

    /// Sets the search path (`-I`/`NIX_PATH` entries) and `builtins.nixPath`.
    pub fn set_search_path(&mut self, entries: &[String]) {
        self.search_path.clear();
        for e in entries {
            self.add_search_path(e);
        }
        let list = self
            .search_path
            .iter()
            .map(|(prefix, path)| {
                Thunk::value(crate::builtins::mk_attrs(vec![
                    ("path", Value::str(path.as_str())),
                    ("prefix", Value::str(prefix.as_str())),
                ]))
            })
            .collect();
        crate::builtins::set_builtin_value(self, "nixPath", Value::list(list));
    }

    /// The host's current directory (falling back to `$PWD`, then `/`).
    pub fn cwd(&self) -> String {
        match self.io.current_dir() {
            Some(d) => d.to_string_lossy().into_owned(),
            None => self.io.get_env("PWD").unwrap_or_else(|| "/".into()),
        }
    }

    pub fn define_global(&mut self, name: &str, value: Thunk) {
        let name: Rc<str> = name.into();
        if let Some(&i) = self.global_names.get(&name) {
            self.globals[i as usize] = value;
        } else {
            self.global_names.insert(name, self.globals.len() as u32);
            self.globals.push(value);
        }
    }

    // ---------------------------------------------------------------- parsing

    pub fn parse(
        &mut self,
        text: &str,
        path: Option<PathBuf>,
        base_dir: &Path,
    ) -> EResult<ExprRef> {
        self.parse_in(text, path, base_dir, None)
    }

    /// Parses with an extra outermost scope (for `scopedImport`): `names` shadow builtins.
    pub fn parse_scoped(
        &mut self,
        text: &str,
        path: Option<PathBuf>,
        base_dir: &Path,
        names: &[Rc<str>],
    ) -> EResult<ExprRef> {
        self.parse_in(text, path, base_dir, Some(names))
    }

    fn parse_in(
        &mut self,
        text: &str,
        path: Option<PathBuf>,
        base_dir: &Path,
        outer_scope: Option<&[Rc<str>]>,
    ) -> EResult<ExprRef> {
        let text = normalise_newlines(text);
        let file = self.sources.add(path, text.clone().into());
        let lints = self.settings.lints;
        let lowered = parse_and_lower(
            &text,
            file,
            base_dir,
            &self.global_names,
            outer_scope,
            lints,
        )
        .map_err(|e| self.parse_error(e))?;
        for (pos, msg) in &lowered.warnings {
            let text = crate::error::format_warning(msg, &self.sources, *pos);
            self.print_stderr_parts(&[&text]);
        }
        Ok(lowered.expr)
    }

    fn parse_error(&self, e: crate::lower::ParseError) -> Box<EvalError> {
        let mut msg = e.msg;
        if let Some(first) = e.first {
            // Nix 2.8 names string sources "(string)" in this message.
            let at = self.sources.describe(first).replace("«string»", "(string)");
            msg = format!("{} at {}", msg, at);
        }
        EvalError::new(ErrorKind::Parse, msg, e.pos)
    }

    /// Reads a Nix file through the host, or from the built-in corepkgs.
    pub fn read_source(&mut self, path: &Path, pos: Pos) -> EResult<String> {
        if let Some(text) = crate::builtins::corepkgs::lookup(path) {
            return Ok(text.to_string());
        }
        // Nix checks the path exists first ("getting status"), then reads it ("opening").
        if self.io.file_type(path).is_none() {
            // A host that refuses the path (confinement) says why, rather than "missing".
            if let Err(e) = self.io.read_file(path) {
                if e.get_ref().is_some() {
                    return Err(EvalError::new(
                        ErrorKind::Eval,
                        format!("opening file '{}': {}", path.display(), io_msg(&e)),
                        pos,
                    ));
                }
            }
            return Err(EvalError::new(
                ErrorKind::Eval,
                format!(
                    "getting status of '{}': No such file or directory",
                    path.display()
                ),
                pos,
            ));
        }
        let bytes = self.io.read_file(path).map_err(|e| {
            EvalError::new(
                ErrorKind::Eval,
                format!("opening file '{}': {}", path.display(), io_msg(&e)),
                pos,
            )
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn eval_expr_str(&mut self, text: &str, base_dir: &Path) -> EResult<Value> {
        let e = self.parse(text, None, base_dir)?;
        let env = self.empty_env.clone();
        self.eval(&e, &env)
    }

    /// As 2.8's `resolveExprPath`: while the path names a symbolic link, its target
    /// (relative to the link's folder) instead; folders above it stay as written. So a
    /// file imported through a link and by its own name is one import (pointer-equal
    /// values), and its relative paths start where it lies.
    /// Also gives the type of what it ends at (one look per path, as before links).
    fn follow_final_links(&self, path: &Path) -> (PathBuf, Option<crate::io::FileType>) {
        use std::os::unix::ffi::OsStringExt;
        let mut path = path.to_path_buf();
        let mut kind = self.io.file_type(&path);
        // 2.8 gives up after as many; reading the path then reports the loop.
        for _ in 0..1024 {
            if kind != Some(crate::io::FileType::Symlink) {
                break;
            }
            let Ok(target) = self.io.read_link(&path) else {
                break;
            };
            let target = PathBuf::from(std::ffi::OsString::from_vec(target));
            let joined = path.parent().unwrap_or(Path::new("/")).join(target);
            path = PathBuf::from(crate::lower::canon_path(&joined.to_string_lossy()));
            kind = self.io.file_type(&path);
        }
        (path, kind)
    }

    /// Evaluates a file as `import` does (cached by path; directories mean default.nix).
    pub fn eval_file(&mut self, path: &Path) -> EResult<Value> {
        if let Some(v) = self.import_cache.get(path) {
            return Ok(v.clone());
        }
        let written = path;
        let (mut path, kind) = self.follow_final_links(path);
        if kind == Some(crate::io::FileType::Directory) {
            path = path.join("default.nix");
            if self.io.file_type(&path).is_none() {
                return Err(EvalError::new(
                    ErrorKind::Eval,
                    format!(
                        "opening file '{}': No such file or directory",
                        path.display()
                    ),
                    Pos::NONE,
                ));
            }
        }
        let v = match self.import_cache.get(&path) {
            Some(v) => v.clone(),
            None => {
                let text = self.read_source(&path, Pos::NONE)?;
                let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
                let e = self.parse(&text, Some(path.clone()), &base)?;
                let env = self.empty_env.clone();
                let v = self.eval(&e, &env)?;
                self.import_cache.insert(path.clone(), v.clone());
                v
            }
        };
        if written != path {
            self.import_cache.insert(written.to_path_buf(), v.clone());
        }
        Ok(v)
    }

    // ---------------------------------------------------------------- limits

    /// Counts a step. Inlined where it is called (several times per function call): the
    /// checks that fail or come every 1024 steps are out of line.
    #[inline]
    pub(crate) fn tick(&mut self, pos: Pos) -> EResult<()> {
        self.steps += 1;
        let over = self.limits.max_steps.is_some_and(|max| self.steps > max);
        if over || self.steps & 0x3ff == 0 {
            return self.tick_checks(pos);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn tick_checks(&mut self, pos: Pos) -> EResult<()> {
        if let Some(max) = self.limits.max_steps {
            if self.steps > max {
                return Err(limit_err(
                    Limit::Steps,
                    format!("evaluation step limit ({}) exceeded", max),
                    pos,
                ));
            }
        }
        if self.steps & 0x3ff == 0 {
            self.stack_low = self.stack_low.min(crate::stack::approximate_sp());
            self.check_time(pos)?;
            self.check_memory(0, pos)?;
        }
        Ok(())
    }

    pub(crate) fn check_time(&self, pos: Pos) -> EResult<()> {
        let interrupted = |flag: &Arc<std::sync::atomic::AtomicBool>| {
            flag.load(std::sync::atomic::Ordering::Relaxed)
        };
        if self.interrupt.as_ref().is_some_and(interrupted) {
            return Err(limit_err(
                Limit::Time,
                "evaluation interrupted by the host",
                pos,
            ));
        }
        match self.limits.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(limit_err(
                Limit::Time,
                "evaluation time limit exceeded",
                pos,
            )),
            _ => Ok(()),
        }
    }

    /// Bytes this evaluation holds now (0 without `alloc::Counting`).
    pub fn memory_held(&self) -> u64 {
        crate::alloc::thread_held().map_or(0, |held| {
            held.saturating_sub(self.memory_base).max(0) as u64
        })
    }

    /// Checks that the evaluation may hold `bytes` more than it does: called before
    /// building anything whose size the program chooses. Small amounts are left to the
    /// check every 1024 steps, which sees them once they add up.
    pub fn reserve(&self, bytes: usize, pos: Pos) -> EResult<()> {
        if bytes < 16 * 1024 {
            return Ok(());
        }
        self.check_memory(bytes, pos)
    }

    /// `reserve` for appending `extra` bytes to a buffer of `len` bytes in `capacity`
    /// (a document being written): once that makes the buffer grow, its old and its new
    /// allocation, twice the size, are held at once. Each small append is below what
    /// `reserve` checks, but a growth of a large buffer is not.
    pub fn reserve_append(
        &self,
        len: usize,
        capacity: usize,
        extra: usize,
        pos: Pos,
    ) -> EResult<()> {
        let needed = len.saturating_add(extra);
        if needed <= capacity {
            return Ok(());
        }
        self.reserve(needed.max(capacity.saturating_mul(2)), pos)
    }

    /// The most this evaluation held as its memory checks saw it (every 1024 steps and
    /// before each large allocation, counting that allocation): a host can tell from it
    /// whether the evaluation left much freed memory with the allocator.
    pub fn memory_high(&self) -> u64 {
        self.memory_high.get()
    }

    fn check_memory(&self, bytes: usize, pos: Pos) -> EResult<()> {
        let wanted = self.memory_held().saturating_add(bytes as u64);
        self.memory_high.set(self.memory_high.get().max(wanted));
        let Some(max) = self.limits.max_memory else {
            return Ok(());
        };
        if wanted > max {
            return Err(limit_err(
                Limit::Memory,
                format!("evaluation memory limit ({} bytes) exceeded", max),
                pos,
            ));
        }
        Ok(())
    }

    /// `reserve` for `n` new list elements or attributes, each a fresh thunk.
    pub fn reserve_items(&self, n: usize, pos: Pos) -> EResult<()> {
        self.reserve(n.saturating_mul(ITEM_BYTES), pos)
    }

    /// The kept messages and how many bytes of messages were dropped since the last call.
    pub fn take_stderr(&mut self) -> (String, u64) {
        let dropped = std::mem::take(&mut self.stderr_dropped);
        (std::mem::take(&mut self.stderr), dropped)
    }

    /// Bytes of messages that can still be kept.
    pub fn stderr_room(&self) -> usize {
        self.limits
            .max_trace_bytes
            .map_or(usize::MAX, |max| max.saturating_sub(self.stderr.len()))
    }

    /// Keeps the line `{label}: {message}` for the host (a trace, a warning), as far as it
    /// fits in `Limits::max_trace_bytes`; the rest counts in `stderr_dropped`.
    pub fn print_stderr(&mut self, label: &str, message: &str) {
        self.print_stderr_parts(&[label, ": ", message, "\n"]);
    }

    /// Appends one message made of these texts to `stderr` as Nix's logger writes it to a
    /// file (`log_text::for_log`: no escape sequences), as far as
    /// `Limits::max_trace_bytes` lets it.
    pub fn print_stderr_parts(&mut self, parts: &[&str]) {
        let room = self.stderr_room();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        // Once the room is gone (a trace flood), nothing more is copied or filtered.
        if room == 0 {
            self.stderr_dropped += total as u64;
            return;
        }
        let raw = parts.concat();
        let take = floor_char_boundary(&raw, room);
        let message = crate::log_text::for_log(&raw[..take]);
        let cut = floor_char_boundary(&message, room);
        self.stderr.push_str(&message[..cut]);
        self.stderr_dropped += (raw.len() - take + message.len() - cut) as u64;
    }

    fn enter(&mut self, pos: Pos) -> EResult<()> {
        self.depth += 1;
        if let Some(max) = self.limits.max_depth {
            if self.depth > max {
                self.depth -= 1;
                return Err(limit_err(
                    Limit::Depth,
                    format!("maximum call depth ({}) exceeded", max),
                    pos,
                ));
            }
        }
        Ok(())
    }

    /// Runs `walk` one level down into a nested value, for walks that recurse (`==`,
    /// `deepSeq`, `toJSON`, `toXML`, `toString`): the level counts as a step and against
    /// the depth limit, so a deep or cyclic value ends in an error, not an endless walk.
    pub(crate) fn nested<R>(
        &mut self,
        pos: Pos,
        walk: impl FnOnce(&mut Self) -> EResult<R>,
    ) -> EResult<R> {
        self.tick(pos)?;
        self.depth += 1;
        if let Some(max) = self.limits.max_depth {
            if self.depth > max {
                self.depth -= 1;
                return Err(limit_err(
                    Limit::Depth,
                    format!(
                        "maximum call depth ({}) exceeded in a value nested that deep (or cyclic)",
                        max
                    ),
                    pos,
                ));
            }
        }
        let r = crate::stack::ensure(|| walk(self));
        self.depth -= 1;
        r
    }

    // ---------------------------------------------------------------- thunks

    /// A thunk for `e` in `env`, without allocating when the value is already at hand:
    /// a literal is stored inline, a variable shares its binding's thunk (a local one
    /// copies out a value stored inline, see `Thunk::held`).
    pub fn thunk_of(&mut self, e: &ExprRef, env: &Rc<Env>) -> Thunk {
        match &**e {
            Expr::Lit(l) => Thunk::value(l.value.clone()),
            Expr::Var(Var::Local { depth, slot }, _) => lookup_local(env, *depth, *slot).held(),
            // A global may be a host's cell re-pointed in place (the clock): shared as is.
            Expr::Var(Var::Global(g), _) => self.globals[*g as usize].clone(),
            _ => Thunk::pending(e.clone(), env.clone()),
        }
    }

    #[inline]
    pub fn force(&mut self, t: &Thunk) -> EResult<Value> {
        match t.view() {
            Held::Ready(v) => Ok(v.clone()),
            Held::Lazy(cell) => self.force_lazy(cell),
        }
    }

    pub fn force_lazy(&mut self, cell: &Lazy) -> EResult<Value> {
        if let ThunkState::Done(v) = &*cell.borrow() {
            return Ok(v.clone());
        }
        let state = std::mem::replace(&mut *cell.borrow_mut(), ThunkState::Blackhole);
        let result = match &state {
            // A thunk of a variable (`__overrides` keeps `a = b;` its own) forces another
            // thunk: through the checked path, since `eval` forces a variable in place, so
            // that a long chain of them counts its depth and grows the stack.
            ThunkState::Pending(e, env) | ThunkState::Binding(e, env) => match &**e {
                Expr::Var(..) => self.eval_nested(e, env),
                _ => self.eval(e, env),
            },
            ThunkState::Apply(f, arg) => self.force_application(f, arg),
            ThunkState::Blackhole => {
                return Err(EvalError::new(
                    ErrorKind::InfiniteRecursion,
                    "infinite recursion encountered",
                    Pos::NONE,
                ))
            }
            ThunkState::Done(_) => unreachable!(),
        };
        match result {
            Ok(v) => {
                // Over the black hole put there above (or left by a collection).
                fill_cell(cell, ThunkState::Done(v.clone()));
                if let ThunkState::Binding(_, env) = &state {
                    binding_evaluated(env, &v);
                }
                Ok(v)
            }
            Err(mut e) => {
                if e.kind == ErrorKind::InfiniteRecursion && e.pos.is_none() {
                    if let ThunkState::Pending(expr, _) | ThunkState::Binding(expr, _) = &state {
                        e.pos = expr_pos(expr);
                    }
                }
                *cell.borrow_mut() = state;
                Err(e)
            }
        }
    }

    /// `f arg` for a lazy application (`ThunkState::Apply`). `mapAttrs` and `zipAttrsWith`
    /// apply `f name` to each value: when this application alone holds `f name`, not yet
    /// forced, both arguments go to `f` in one call (`call2`), not through a closure kept
    /// in a cell nothing else reads.
    fn force_application(&mut self, f: &Lazy, arg: &Thunk) -> EResult<Value> {
        if Rc::strong_count(f) == 1 {
            let inner = match &*f.borrow() {
                ThunkState::Apply(g, first) => Some((g.clone(), first.clone())),
                _ => None,
            };
            if let Some((g, first)) = inner {
                let g = self.force_lazy(&g)?;
                return self.call2(&g, first, arg.clone(), Pos::NONE);
            }
        }
        let f = self.force_lazy(f)?;
        self.call(f, arg.clone(), Pos::NONE)
    }

    /// Forces a value and everything inside it (lists and attribute sets), as `--strict`
    /// and `deepSeq` do.
    pub fn force_deep(&mut self, v: &Value) -> EResult<()> {
        let mut seen = rustc_hash::FxHashSet::default();
        self.force_deep_inner(v, &mut seen)
    }

    fn force_deep_inner(
        &mut self,
        v: &Value,
        seen: &mut rustc_hash::FxHashSet<usize>,
    ) -> EResult<()> {
        match v {
            Value::Attrs(a) => {
                if !seen.insert(Rc::as_ptr(a) as *const u8 as usize) {
                    return Ok(());
                }
                self.nested(Pos::NONE, |ev| {
                    for attr in &a.entries {
                        let v = ev.force(&attr.value).map_err(|mut e| {
                            e.add_trace(
                                attr.pos,
                                format!("while evaluating the attribute '{}'", attr.name),
                                true,
                            );
                            e
                        })?;
                        ev.force_deep_inner(&v, seen)?;
                    }
                    Ok(())
                })
            }
            Value::List(l) => {
                if !seen.insert(Rc::as_ptr(l) as *const u8 as usize) {
                    return Ok(());
                }
                self.nested(Pos::NONE, |ev| {
                    for t in l.iter() {
                        let v = ev.force(t)?;
                        ev.force_deep_inner(&v, seen)?;
                    }
                    Ok(())
                })
            }
            _ => Ok(()),
        }
    }

    // ---------------------------------------------------------------- evaluation

    /// Inlined where it is called, for its fast paths: a variable already evaluated or a
    /// literal costs no call, no stack check and no frame.
    #[inline(always)]
    pub fn eval(&mut self, e: &ExprRef, env: &Rc<Env>) -> EResult<Value> {
        match &**e {
            // A local binding is forced where it is (its scope holds it meanwhile); what
            // forcing evaluates counts the depth and checks the stack itself.
            Expr::Var(Var::Local { depth, slot }, _) => {
                let t = lookup_local(env, *depth, *slot);
                if let Some(v) = t.get() {
                    return Ok(v);
                }
                if let Held::Lazy(cell) = t.view() {
                    return self.force_lazy(cell);
                }
            }
            Expr::Var(Var::Global(g), _) | Expr::Builtin(g, _) => {
                if let Some(v) = self.globals[*g as usize].get() {
                    return Ok(v);
                }
            }
            // Integers first: a copy, not the clone of any value.
            Expr::Lit(Literal {
                value: Value::Int(i),
                ..
            }) => return Ok(Value::Int(*i)),
            Expr::Lit(l) => return Ok(l.value.clone()),
            _ => {}
        }
        self.eval_nested(e, env)
    }

    /// `eval` one level down: counted against the depth limit, on a stack with room.
    #[inline(never)]
    fn eval_nested(&mut self, e: &ExprRef, env: &Rc<Env>) -> EResult<Value> {
        self.enter(Pos::NONE)?;
        let r = crate::stack::ensure(|| self.eval_inner(e, env));
        self.depth -= 1;
        r
    }

    /// Forms that never continue in tail position are evaluated directly, without the
    /// tail loop's frame (`eval_tail`) or moving their value through a `Step`.
    #[inline(always)]
    fn eval_inner(&mut self, e: &ExprRef, env: &Rc<Env>) -> EResult<Value> {
        match &**e {
            Expr::Binary { op, lhs, rhs, pos } => self.eval_binary(*op, lhs, rhs, env, *pos),
            Expr::Let(..)
            | Expr::Apply { .. }
            | Expr::If { .. }
            | Expr::Assert { .. }
            | Expr::With { .. } => self.eval_tail(e, env),
            _ => self.eval_simple(e, env),
        }
    }

    #[inline(never)]
    fn eval_tail(&mut self, e: &ExprRef, env: &Rc<Env>) -> EResult<Value> {
        // Tail positions (if branches, let/with/assert bodies, lambda bodies) continue in
        // this loop instead of recursing, so the Rust stack grows only for non-tail
        // evaluation.
        let base_calls = self.call_depth;
        // The innermost call made in tail position, for the error trace.
        let mut last_call: Option<(Rc<Lambda>, Pos)> = None;
        let (mut e, mut env) = match self.eval_step(e, env)? {
            Step::Done(v) => return Ok(v),
            Step::Tail(e, env) => (e, env),
            Step::Call(e, env, lambda, pos) => {
                self.call_depth += 1;
                last_call = Some((lambda, pos));
                (e, env)
            }
        };
        // Calls made in tail position still count as nesting, as they would in Nix (which
        // reports a stack overflow); they are given back when this loop returns.
        let result = loop {
            if self.call_depth > self.max_call_depth {
                break Err(limit_err(
                    Limit::CallStack,
                    "stack overflow (possible infinite recursion)",
                    Pos::NONE,
                ));
            }
            match &*e {
                Expr::Binary { op, lhs, rhs, pos } => {
                    break self.eval_binary(*op, lhs, rhs, &env, *pos)
                }
                Expr::Let(..)
                | Expr::Apply { .. }
                | Expr::If { .. }
                | Expr::Assert { .. }
                | Expr::With { .. } => {}
                _ => break self.eval_simple(&e, &env),
            }
            match self.eval_step(&e, &env) {
                Ok(Step::Done(v)) => break Ok(v),
                Ok(Step::Tail(e2, env2)) => {
                    e = e2;
                    let done = std::mem::replace(&mut env, env2);
                    self.scope_done(done);
                }
                Ok(Step::Call(e2, env2, lambda, pos)) => {
                    self.call_depth += 1;
                    last_call = Some((lambda, pos));
                    e = e2;
                    let done = std::mem::replace(&mut env, env2);
                    self.scope_done(done);
                }
                Err(err) => break Err(err),
            }
        };
        self.scope_done(env);
        self.call_depth = base_calls;
        match (result, last_call) {
            (Err(mut err), Some((lambda, pos))) => {
                add_call_frames(&mut err, &lambda, pos);
                Err(err)
            }
            (result, _) => result,
        }
    }

    fn eval_step(&mut self, e: &ExprRef, env: &Rc<Env>) -> EResult<Step> {
        match &**e {
            Expr::Let(a, body) => {
                let new_env = self.rec_env(a, env, true);
                Ok(Step::Tail(body.clone(), new_env))
            }
            Expr::Apply { fun, arg, pos } => {
                // `f a b` where `f` is `a: b: …`: both scopes are bound at once, without
                // the closure `f a` would make in between.
                if let Expr::Apply {
                    fun: inner_fun,
                    arg: inner_arg,
                    pos: inner_pos,
                } = &**fun
                {
                    let f = self.eval(inner_fun, env)?;
                    let a = self.thunk_of(inner_arg, env);
                    let b = self.thunk_of(arg, env);
                    if let Value::Lambda(c) = &f {
                        if let Expr::Lambda(inner) = &*c.lambda.body {
                            self.tick(*inner_pos)?;
                            let env_a = self.bind_lambda(&c.lambda, &c.env, a, *inner_pos)?;
                            self.tick(*pos)?;
                            let new_env = self.bind_lambda(inner, &env_a, b, *pos)?;
                            self.scope_done(env_a);
                            return Ok(Step::Call(
                                inner.body.clone(),
                                new_env,
                                inner.clone(),
                                *pos,
                            ));
                        }
                    }
                    let (a, b) = match self.call_builtin2(&f, a, b, *inner_pos, *pos) {
                        Ok(done) => return done.map(Step::Done),
                        Err(args) => args,
                    };
                    let partial = self.call(f, a, *inner_pos)?;
                    return self.apply_value(partial, b, *pos);
                }
                let f = self.eval(fun, env)?;
                let a = self.thunk_of(arg, env);
                self.apply_value(f, a, *pos)
            }
            Expr::If {
                cond,
                then,
                else_,
                pos,
            } => {
                self.tick(*pos)?;
                match self.eval(cond, env)? {
                    Value::Bool(true) => Ok(Step::Tail(then.clone(), env.clone())),
                    Value::Bool(false) => Ok(Step::Tail(else_.clone(), env.clone())),
                    other => err(
                        format!(
                            "value is {} while a Boolean was expected",
                            other.type_desc()
                        ),
                        *pos,
                    ),
                }
            }
            Expr::Assert {
                cond,
                body,
                pos,
                text,
            } => match self.eval(cond, env)? {
                Value::Bool(true) => Ok(Step::Tail(body.clone(), env.clone())),
                Value::Bool(false) => Err(EvalError::new(
                    ErrorKind::Assert,
                    format!("assertion '{}' failed", text),
                    *pos,
                )),
                other => err(
                    format!(
                        "value is {} while a Boolean was expected",
                        other.type_desc()
                    ),
                    *pos,
                ),
            },
            Expr::With { namespace, body } => {
                let ns = self.thunk_of(namespace, env);
                let new_env = Rc::new(Env {
                    slots: Slots::With(ns),
                    parent: Some(env.clone()),
                });
                Ok(Step::Tail(body.clone(), new_env))
            }
            Expr::Binary { op, lhs, rhs, pos } => {
                self.eval_binary(*op, lhs, rhs, env, *pos).map(Step::Done)
            }
            _ => self.eval_simple(e, env).map(Step::Done),
        }
    }

    /// The step of applying `f` to `a` at `pos`: a lambda's body continues in the caller's
    /// loop (a tail call), anything else is called.
    #[inline(always)]
    fn apply_value(&mut self, f: Value, a: Thunk, pos: Pos) -> EResult<Step> {
        match f {
            Value::Lambda(c) => {
                self.tick(pos)?;
                let new_env = self.bind_lambda(&c.lambda, &c.env, a, pos)?;
                Ok(Step::Call(
                    c.lambda.body.clone(),
                    new_env,
                    c.lambda.clone(),
                    pos,
                ))
            }
            f => self.call(f, a, pos).map(Step::Done),
        }
    }

    #[inline(never)]
    fn eval_simple(&mut self, e: &ExprRef, env: &Rc<Env>) -> EResult<Value> {
        match &**e {
            Expr::Lit(l) => Ok(l.value.clone()),
            // A local binding is forced where it is: its scope holds it meanwhile.
            Expr::Var(Var::Local { depth, slot }, _) => {
                self.force(lookup_local(env, *depth, *slot))
            }
            Expr::Var(var, pos) => {
                let t = self.lookup_var(var, env, *pos)?;
                self.force(&t)
            }
            Expr::Builtin(g, _) => {
                let t = self.globals[*g as usize].clone();
                self.force(&t)
            }
            Expr::Interp { parts, pos } => self.eval_interp(parts, pos, env),
            Expr::InterpPath { parts, pos } => self.eval_interp_path(parts, pos, env),
            Expr::HomePath(rest, pos) => {
                let home = self.io.get_env("HOME").unwrap_or_default();
                if home.is_empty() {
                    return err("cannot resolve '~' because HOME is not set", *pos);
                }
                Ok(Value::Path(
                    crate::lower::canon_path(&format!("{}{}", home, rest)).into(),
                ))
            }
            Expr::CurPos(pos) => Ok(self.pos_value(*pos)),
            Expr::Select {
                expr,
                path,
                default,
                pos,
            } => self.eval_select(expr, path, default, pos, env),
            Expr::HasAttr { expr, path } => self.eval_has_attr(expr, path, env),
            Expr::Attrs(a) => self.eval_attrs(a, env),
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.thunk_of(it, env));
                }
                Ok(Value::list(out))
            }
            Expr::Lambda(l) => Ok(Value::Lambda(Rc::new(Closure {
                lambda: l.clone(),
                env: env.clone(),
            }))),
            Expr::Not(inner, pos) => match self.eval(inner, env)? {
                Value::Bool(b) => Ok(Value::Bool(!b)),
                other => err(
                    format!(
                        "value is {} while a Boolean was expected",
                        other.type_desc()
                    ),
                    *pos,
                ),
            },
            Expr::Neg(inner, pos) => {
                let v = self.eval(inner, env)?;
                self.arith(BinOp::Sub, Value::Int(0), v, *pos)
            }
            Expr::Binary { op, lhs, rhs, pos } => self.eval_binary(*op, lhs, rhs, env, *pos),
            Expr::Let(..)
            | Expr::Apply { .. }
            | Expr::If { .. }
            | Expr::Assert { .. }
            | Expr::With { .. } => self.eval(e, env),
        }
    }

    #[inline(never)]
    fn eval_interp(&mut self, parts: &[StrPart], pos: &Pos, env: &Rc<Env>) -> EResult<Value> {
        self.tick(*pos)?;
        let literal_bytes = parts
            .iter()
            .map(|part| match part {
                StrPart::Lit(l) => l.len(),
                StrPart::Expr(..) => 0,
            })
            .sum();
        let mut out = String::with_capacity(literal_bytes);
        let mut ctx = Context::new();
        for part in parts {
            match part {
                StrPart::Lit(l) => out.push_str(l),
                StrPart::Expr(e, ipos) => {
                    let v = self.eval(e, env)?;
                    let s = self.coerce_to_string(&v, *ipos, false, true, &mut ctx)?;
                    out.push_str(&s);
                }
            }
        }
        self.reserve(out.len(), *pos)?;
        Ok(Value::String(NixStr::with_ctx(out, ctx)))
    }

    #[inline(never)]
    fn eval_interp_path(&mut self, parts: &[StrPart], pos: &Pos, env: &Rc<Env>) -> EResult<Value> {
        let mut out = String::new();
        for part in parts {
            match part {
                StrPart::Lit(l) => out.push_str(l),
                StrPart::Expr(e, _) => {
                    let v = self.eval(e, env)?;
                    let mut ctx = Context::new();
                    let s = self.coerce_to_string(&v, *pos, false, false, &mut ctx)?;
                    if !ctx.is_empty() {
                        return err(
                            "a string that refers to a store path cannot be appended to a path",
                            *pos,
                        );
                    }
                    out.push_str(&s);
                }
            }
        }
        Ok(Value::Path(crate::lower::canon_path(&out).into()))
    }

    #[inline(never)]
    fn eval_select(
        &mut self,
        expr: &ExprRef,
        path: &[AttrName],
        default: &Option<ExprRef>,
        pos: &Pos,
        env: &Rc<Env>,
    ) -> EResult<Value> {
        self.tick(*pos)?;
        let mut v = self.eval(expr, env)?;
        for name in path {
            let key = self.attr_name(name, env)?;
            // The attribute is forced where it is, in the set `v` holds.
            let found = match &v {
                Value::Attrs(a) => match find_attr(a, name, &key) {
                    Some(attr) => Some(self.force(&attr.value).map_err(|mut e| {
                        e.add_trace(
                            *pos,
                            format!("while evaluating the attribute '{}'", key),
                            true,
                        );
                        e
                    })?),
                    None => None,
                },
                _ if default.is_some() => None,
                other => {
                    return err(
                        format!("value is {} while a set was expected", other.type_desc()),
                        *pos,
                    )
                }
            };
            match found {
                Some(next) => v = next,
                None => match default {
                    Some(d) => return self.eval(d, env),
                    None => {
                        let attrs = match &v {
                            Value::Attrs(a) => a.clone(),
                            _ => unreachable!(),
                        };
                        return Err(missing_attr(&key, &attrs, *pos));
                    }
                },
            }
        }
        Ok(v)
    }

    #[inline(never)]
    fn eval_has_attr(
        &mut self,
        expr: &ExprRef,
        path: &[AttrName],
        env: &Rc<Env>,
    ) -> EResult<Value> {
        let mut v = self.eval(expr, env)?;
        for (i, name) in path.iter().enumerate() {
            let key = self.attr_name(name, env)?;
            match &v {
                Value::Attrs(a) => match find_attr(a, name, &key) {
                    // The last attribute itself is not forced.
                    Some(_) if i + 1 == path.len() => return Ok(Value::Bool(true)),
                    Some(attr) => v = self.force(&attr.value)?,
                    None => return Ok(Value::Bool(false)),
                },
                _ => return Ok(Value::Bool(false)),
            }
        }
        Ok(Value::Bool(true))
    }

    /// A written-out name is borrowed from the expression, not counted again.
    #[inline(always)]
    fn attr_name<'n>(
        &mut self,
        name: &'n AttrName,
        env: &Rc<Env>,
    ) -> EResult<std::borrow::Cow<'n, str>> {
        match name {
            AttrName::Static(s, _) => Ok(std::borrow::Cow::Borrowed(s)),
            AttrName::Dynamic(e, pos) => {
                let v = self.eval(e, env)?;
                Ok(std::borrow::Cow::Owned(
                    self.force_string_noctx_val(&v, *pos)?,
                ))
            }
        }
    }

    pub fn lookup_var(&mut self, var: &Var, env: &Rc<Env>, pos: Pos) -> EResult<Thunk> {
        match var {
            Var::Local { depth, slot } => Ok(lookup_local(env, *depth, *slot).clone()),
            Var::Global(g) => Ok(self.globals[*g as usize].clone()),
            Var::With(name) => {
                let mut cur = Some(env);
                while let Some(e) = cur {
                    if let Some(ns) = e.with() {
                        let v = self.force(ns)?;
                        match v {
                            Value::Attrs(a) => {
                                if let Some(t) = a.get(name) {
                                    return Ok(t.clone());
                                }
                            }
                            other => {
                                return err(
                                    format!(
                                        "value is {} while a set was expected",
                                        other.type_desc()
                                    ),
                                    pos,
                                )
                            }
                        }
                    }
                    cur = e.parent.as_ref();
                }
                err(format!("undefined variable '{}'", name), pos)
            }
        }
    }

    /// The thunk a binding of a new scope (whose parent is `parent`) shares instead of a
    /// thunk of its own, as Nix 2.8's `maybeThunk` does: a literal's value, or the thunk
    /// of a variable bound outside the new scope. None for anything else.
    fn outer_thunk(&self, e: &ExprRef, parent: &Rc<Env>) -> Option<Thunk> {
        match &**e {
            // Depths count from the new scope.
            Expr::Var(Var::Local { depth, slot }, _) if *depth > 0 => {
                Some(lookup_local(parent, depth - 1, *slot).held())
            }
            Expr::Var(Var::Global(g), _) => Some(self.globals[*g as usize].clone()),
            Expr::Lit(l) => Some(Thunk::value(l.value.clone())),
            _ => None,
        }
    }

    /// Builds the scope of a `rec` set or a `let` (`is_let`): slots hold the static
    /// attributes, filled as `a.plan` says (`SlotPlan`). A `let`'s own bindings are
    /// `ThunkState::Binding`s, so that the scope goes when only they hold it
    /// (`scopes.rs`); a rec set hands its out as attributes.
    fn rec_env(&mut self, a: &Rc<AttrsExpr>, env: &Rc<Env>, is_let: bool) -> Rc<Env> {
        let mut slots = Vec::with_capacity(a.attrs.len());
        let mut aliases = false;
        for (def, plan) in a.attrs.iter().zip(&a.plan) {
            slots.push(match plan {
                SlotPlan::Outer => self.outer_thunk(&def.value, env).expect("planned"),
                SlotPlan::Own => Thunk::blackhole(),
                // A placeholder that allocates nothing, replaced below.
                SlotPlan::Alias(_) => {
                    aliases = true;
                    Thunk::value(Value::Null)
                }
            });
        }
        if aliases {
            for (i, plan) in a.plan.iter().enumerate() {
                if let SlotPlan::Alias(target) = plan {
                    slots[i] = slots[*target as usize].clone();
                }
            }
        }
        let slots = match is_let {
            // Counted below.
            true => Slots::Let(slots.into_boxed_slice(), Default::default()),
            false => Slots::from(slots),
        };
        let new_env = Rc::new(Env {
            slots,
            parent: Some(env.clone()),
        });
        let own = || {
            a.attrs
                .iter()
                .zip(new_env.slots.iter())
                .zip(&a.plan)
                .filter(|(_, plan)| **plan == SlotPlan::Own)
                .map(|(binding, _)| binding)
        };
        // Only a binding evaluated in this scope can make it refer to itself.
        if a.plan.contains(&SlotPlan::Own) {
            self.register_cyclic(&new_env, own().map(|(_, slot)| slot));
        }
        let mut held = 0;
        for (def, slot) in own() {
            let state = match &*def.value {
                Expr::Lit(l) => ThunkState::Done(l.value.clone()),
                _ if is_let => {
                    held += 1;
                    ThunkState::Binding(def.value.clone(), new_env.clone())
                }
                _ => ThunkState::Pending(def.value.clone(), new_env.clone()),
            };
            slot.fill(state);
        }
        new_env.set_own_refs(held);
        new_env
    }

    fn eval_attrs(&mut self, a: &Rc<AttrsExpr>, env: &Rc<Env>) -> EResult<Value> {
        let (entries, scope) = if a.rec {
            let new_env = self.rec_env(a, env, false);
            let entries: Vec<Attr> = a
                .attrs
                .iter()
                .zip(new_env.slots.iter())
                .map(|(d, t)| Attr {
                    name: d.name.clone(),
                    value: t.clone(),
                    pos: d.pos,
                })
                .collect();
            (entries, new_env)
        } else {
            let mut entries = Vec::with_capacity(a.attrs.len());
            for d in &a.attrs {
                entries.push(Attr {
                    name: d.name.clone(),
                    value: self.thunk_of(&d.value, env),
                    pos: d.pos,
                });
            }
            (entries, env.clone())
        };
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        let mut attrs = Attrs { entries };
        if a.rec && a.overrides {
            if let Some(ov) = attrs.get("__overrides").cloned() {
                // Nix's `__overrides`: its attributes replace those of the rec set, in the
                // set and in the recursive scope.
                let ov = self.force_attrs(&ov, a.pos)?;
                for o in &ov.entries {
                    if let Some(i) = a.attrs.iter().position(|d| d.name == o.name) {
                        let slot = &scope.slots[i];
                        let v = o.value.clone();
                        slot.fill(ThunkState::apply(
                            &Thunk::value(Value::PrimOp(self.identity_op.clone())),
                            v,
                        ));
                    }
                    attrs.insert(o.name.clone(), o.value.clone(), o.pos);
                }
            }
        }
        for (key, value, pos) in &a.dynamic {
            let k = self.eval(key, &scope)?;
            if matches!(k, Value::Null) {
                continue;
            }
            if let Value::String(s) = &k {
                if let Some(c) = s.context().and_then(|c| c.iter().next()) {
                    return err(
                        format!(
                            "the string '{}' is not allowed to refer to a store path (such as '{}')",
                            s.as_str(), c
                        ),
                        *pos,
                    );
                }
            }
            let name = self.force_string_noctx_val(&k, *pos)?;
            if let Some(first) = attrs.get_attr(&name) {
                let at = self
                    .sources
                    .describe(first.pos)
                    .replace("«string»", "(string)");
                return err(
                    format!("dynamic attribute '{}' already defined at {}", name, at),
                    *pos,
                );
            }
            let t = self.thunk_of(value, &scope);
            attrs.insert(name.into(), t, *pos);
        }
        Ok(Value::attrs(attrs))
    }

    // ---------------------------------------------------------------- calls

    pub fn call(&mut self, f: Value, arg: Thunk, pos: Pos) -> EResult<Value> {
        self.tick(pos)?;
        self.enter(pos)?;
        let r = crate::stack::ensure(|| self.call_inner(f, arg, pos));
        self.depth -= 1;
        r
    }

    /// `f a b`, as builtins call their two-argument functions (`foldl'`, `sort`,
    /// `mapAttrs`): when `f` is `a: b: …`, both scopes are bound at once, without the
    /// closure `f a` would make in between.
    pub fn call2(&mut self, f: &Value, a: Thunk, b: Thunk, pos: Pos) -> EResult<Value> {
        if let Value::Lambda(c) = f {
            if let Expr::Lambda(inner) = &*c.lambda.body {
                self.tick(pos)?;
                let env_a = self.bind_lambda(&c.lambda, &c.env, a, pos)?;
                self.tick(pos)?;
                self.enter(pos)?;
                let r = crate::stack::ensure(|| self.call_bound(inner, &env_a, b, pos));
                self.depth -= 1;
                self.scope_done(env_a);
                return r;
            }
        }
        let (a, b) = match self.call_builtin2(f, a, b, pos, pos) {
            Ok(done) => return done,
            Err(args) => args,
        };
        let partial = self.call(f.clone(), a, pos)?;
        self.call(partial, b, pos)
    }

    /// The body of `lambda` called with `arg`, its scope's parent being `parent`.
    fn call_bound(
        &mut self,
        lambda: &Rc<Lambda>,
        parent: &Rc<Env>,
        arg: Thunk,
        pos: Pos,
    ) -> EResult<Value> {
        let env = self.bind_lambda(lambda, parent, arg, pos)?;
        let result = self.eval_inner(&lambda.body, &env).map_err(|mut e| {
            add_call_frames(&mut e, lambda, pos);
            e
        });
        self.scope_done(env);
        result
    }

    fn call_inner(&mut self, f: Value, arg: Thunk, pos: Pos) -> EResult<Value> {
        match f {
            // `call` has counted the depth and checked the stack for the body.
            Value::Lambda(c) => self.call_bound(&c.lambda, &c.env, arg, pos),
            Value::PrimOp(op) => {
                if op.arity == 1 {
                    self.call_primop(&op, &[arg], pos)
                } else {
                    Ok(Value::PrimOpApp(Rc::new(PartialApp {
                        op,
                        args: vec![arg],
                    })))
                }
            }
            Value::PrimOpApp(app) => {
                let mut args = Vec::with_capacity(app.args.len() + 1);
                args.extend(app.args.iter().cloned());
                args.push(arg);
                if args.len() == app.op.arity {
                    self.call_primop(&app.op, &args, pos)
                } else {
                    let op = app.op.clone();
                    Ok(Value::PrimOpApp(Rc::new(PartialApp { op, args })))
                }
            }
            Value::Attrs(a) => match a.get("__functor").cloned() {
                Some(functor) => {
                    let functor = self.force(&functor)?;
                    let partial = self.call(functor, Thunk::value(Value::Attrs(a)), pos)?;
                    self.call(partial, arg, pos)
                }
                None => err(
                    "attempt to call something which is not a function but a set",
                    pos,
                ),
            },
            other => err(
                format!(
                    "attempt to call something which is not a function but {}",
                    other.type_desc()
                ),
                pos,
            ),
        }
    }

    /// A call's scope, in the allocation of one that an earlier call is done with when
    /// there is one (see `scope_done`).
    #[inline]
    fn new_scope(&mut self, slots: Slots, parent: &Rc<Env>) -> Rc<Env> {
        match self.spare_scopes.pop() {
            Some(mut env) => {
                let scope = Rc::get_mut(&mut env).expect("a spare scope is held only there");
                // The spare's slots are empty and own no allocation.
                std::mem::forget(std::mem::replace(&mut scope.slots, slots));
                scope.parent = Some(parent.clone());
                env
            }
            None => Rc::new(Env {
                slots,
                parent: Some(parent.clone()),
            }),
        }
    }

    /// Drops the evaluator's reference to a scope it ran something in. When that was the
    /// last (nothing captured the scope: a comparator's, a fold step's, most calls'), the
    /// scope is emptied at once, as dropping it would, but its allocation is kept for
    /// the next call's scope (`new_scope`): a call then costs no trip to the allocator,
    /// which in this allocate-and-free rhythm often takes its slow path. A scope that
    /// anything else holds, weakly included (`gc.rs`), is only dropped.
    #[inline]
    fn scope_done(&mut self, mut env: Rc<Env>) {
        scope_ref_dropping(&env);
        if self.spare_scopes.len() >= SPARE_SCOPES {
            return;
        }
        let Some(scope) = Rc::get_mut(&mut env) else {
            return;
        };
        if !matches!(scope.slots, Slots::One(_) | Slots::Many(_)) {
            return;
        }
        scope.slots = Slots::empty();
        if let Some(parent) = scope.parent.take() {
            scope_ref_dropping(&parent);
        }
        self.spare_scopes.push(env);
    }

    /// The scope a lambda's body runs in, with its argument bound.
    #[inline]
    fn bind_lambda(
        &mut self,
        lambda: &Rc<Lambda>,
        parent: &Rc<Env>,
        arg: Thunk,
        pos: Pos,
    ) -> EResult<Rc<Env>> {
        match &lambda.formals {
            None => Ok(self.new_scope(Slots::One(arg), parent)),
            Some(formals) => self.bind_formals(lambda, parent, formals, arg, pos),
        }
    }

    /// `f a b` (applied at `pos_a`, then `pos`) when `f` is a builtin that takes both
    /// arguments there (one of two arguments, or one given all but two): called with both
    /// at once, without the partial application `f a` would build. The arguments come
    /// back when `f` is not such a builtin.
    #[inline(never)]
    fn call_builtin2(
        &mut self,
        f: &Value,
        a: Thunk,
        b: Thunk,
        pos_a: Pos,
        pos: Pos,
    ) -> Result<EResult<Value>, (Thunk, Thunk)> {
        let call = |ev: &mut Self, op: &Rc<PrimOp>, args: &[Thunk]| {
            ev.tick(pos_a)?;
            ev.tick(pos)?;
            ev.call_builtin(op, args, pos)
        };
        match f {
            Value::PrimOp(op) if op.arity == 2 => Ok(call(self, op, &[a, b])),
            Value::PrimOpApp(app) if app.args.len() + 2 == app.op.arity => {
                let mut args = Vec::with_capacity(app.op.arity);
                args.extend(app.args.iter().cloned());
                args.extend([a, b]);
                Ok(call(self, &app.op, &args))
            }
            _ => Err((a, b)),
        }
    }

    /// A builtin given all its arguments at once, one level down as `call` would run it
    /// (the caller counts the steps, one per argument).
    fn call_builtin(&mut self, op: &Rc<PrimOp>, args: &[Thunk], pos: Pos) -> EResult<Value> {
        self.enter(pos)?;
        let r = crate::stack::ensure(|| self.call_primop(op, args, pos));
        self.depth -= 1;
        r
    }

    fn call_primop(&mut self, op: &Rc<PrimOp>, args: &[Thunk], pos: Pos) -> EResult<Value> {
        match &op.func {
            PrimOpImpl::Native(f) => f(self, args, pos),
            PrimOpImpl::Host(f) => f(self, args, pos),
        }
    }

    fn bind_formals(
        &mut self,
        lam: &Rc<Lambda>,
        parent: &Rc<Env>,
        formals: &Formals,
        arg: Thunk,
        pos: Pos,
    ) -> EResult<Rc<Env>> {
        let arg_val = self.force(&arg)?;
        let attrs = match &arg_val {
            Value::Attrs(a) => a.clone(),
            other => {
                return err(
                    format!("value is {} while a set was expected", other.type_desc()),
                    pos,
                )
            }
        };
        let fname = || {
            let at = self
                .sources
                .describe(lam.pos)
                .replace("«string»", "(string)");
            match &*lam.name.borrow() {
                Some(n) => format!("'{}' at {}", n, at),
                None => format!("anonymous function at {}", at),
            }
        };
        let mut slots = Vec::with_capacity(lam.slots as usize);
        let mut defaults = Vec::new();
        let mut given = 0;
        for (i, f) in formals.entries.iter().enumerate() {
            match attrs.get_attr_hinted(&f.name, &f.hint) {
                Some(a) => {
                    given += 1;
                    slots.push(a.value.held())
                }
                None => match &f.default {
                    // A default that is a literal or a variable from outside (`? null`)
                    // needs no thunk of its own, nor makes the scope refer to itself.
                    Some(d) => match self.outer_thunk(d, parent) {
                        Some(t) => slots.push(t),
                        None => {
                            defaults.push((i, d.clone()));
                            slots.push(Thunk::blackhole());
                        }
                    },
                    None => {
                        return err(
                            format!("{} called without required argument '{}'", fname(), f.name),
                            pos,
                        )
                    }
                },
            }
        }
        if !formals.ellipsis && attrs.len() > given {
            for a in &attrs.entries {
                if !formals.entries.iter().any(|f| f.name == a.name) {
                    let hint = crate::error::did_you_mean(
                        &a.name,
                        formals.entries.iter().map(|f| &*f.name),
                    );
                    return Err(EvalError::new(
                        ErrorKind::Eval,
                        format!("{} called with unexpected argument '{}'", fname(), a.name),
                        pos,
                    )
                    .with_hint(hint));
                }
            }
        }
        if formals.at_slot.is_some() {
            slots.push(arg);
        }
        if defaults.is_empty() {
            return Ok(self.new_scope(Slots::from(slots), parent));
        }
        // Defaults are evaluated in the call's scope: bindings of their own scope, as a
        // `let`'s are, so an unused one does not keep the call's scope alive.
        let own = std::cell::Cell::new(defaults.len() as u32);
        let env = Rc::new(Env {
            slots: Slots::Let(slots.into_boxed_slice(), own),
            parent: Some(parent.clone()),
        });
        self.register_cyclic(&env, defaults.iter().map(|(i, _)| &env.slots[*i]));
        for (i, d) in defaults {
            env.slots[i].fill(ThunkState::Binding(d, env.clone()));
        }
        Ok(env)
    }

    /// Calls `f` with several already-available arguments.
    pub fn call_values(&mut self, f: &Value, args: &[Value], pos: Pos) -> EResult<Value> {
        if let [a, b] = args {
            return self.call2(f, Thunk::value(a.clone()), Thunk::value(b.clone()), pos);
        }
        let mut cur = f.clone();
        for a in args {
            cur = self.call(cur, Thunk::value(a.clone()), pos)?;
        }
        Ok(cur)
    }

    pub fn pos_value(&mut self, pos: Pos) -> Value {
        match self.sources.line_col(pos) {
            Some((line, col)) => {
                // Nix 2.8 reports the expression text itself as the "file" of a string.
                let file = match self.sources.get(pos.file) {
                    Some(f) if f.path.is_none() => f.text.to_string(),
                    _ => self.sources.origin(pos),
                };
                let mut a = Attrs::new();
                a.insert(
                    "column".into(),
                    Thunk::value(Value::Int(col as i64)),
                    Pos::NONE,
                );
                a.insert("file".into(), Thunk::value(Value::str(file)), Pos::NONE);
                a.insert(
                    "line".into(),
                    Thunk::value(Value::Int(line as i64)),
                    Pos::NONE,
                );
                Value::attrs(a)
            }
            None => Value::Null,
        }
    }

    /// `builtins.findFile entries name`, the meaning of `<name>`.
    pub fn find_file(
        &mut self,
        entries: &[(String, String)],
        name: &str,
        pos: Pos,
    ) -> EResult<Value> {
        let configured = entries == self.search_path.as_slice();
        if configured {
            if let Some(found) = self.found_in_search_path.get(name) {
                return Ok(found.clone());
            }
        }
        let found = self.search(entries, name, pos)?;
        if configured {
            self.found_in_search_path
                .insert(name.to_string(), found.clone());
        }
        Ok(found)
    }

    fn search(&self, entries: &[(String, String)], name: &str, pos: Pos) -> EResult<Value> {
        for (prefix, path) in entries {
            let rest = if prefix.is_empty() {
                Some(name.to_string())
            } else if name == prefix {
                Some(String::new())
            } else {
                name.strip_prefix(&format!("{}/", prefix))
                    .map(|s| s.to_string())
            };
            let Some(rest) = rest else { continue };
            let candidate = if rest.is_empty() {
                path.clone()
            } else {
                format!("{}/{}", path, rest)
            };
            if self.io.path_exists(Path::new(&candidate))
                || crate::builtins::corepkgs::lookup(Path::new(&candidate)).is_some()
            {
                let abs = if candidate.starts_with('/') {
                    candidate
                } else {
                    let cwd = self.cwd();
                    format!("{}/{}", cwd, candidate)
                };
                return Ok(Value::Path(crate::lower::canon_path(&abs).into()));
            }
        }
        if let Some(rest) = name.strip_prefix("nix/") {
            let p = format!("{}/{}", crate::builtins::corepkgs::PREFIX, rest);
            if crate::builtins::corepkgs::lookup(Path::new(&p)).is_some() {
                return Ok(Value::Path(p.into()));
            }
        }
        Err(EvalError::new(
            ErrorKind::Throw,
            format!(
                "file '{}' was not found in the Nix search path (add it using $NIX_PATH or -I)",
                name
            ),
            pos,
        ))
    }
}

/// The two frames `--show-trace` shows for a function call.
fn add_call_frames(e: &mut EvalError, lambda: &Lambda, call_pos: Pos) {
    let what = match &*lambda.name.borrow() {
        Some(n) => format!("while evaluating '{}'", n),
        None => "while evaluating anonymous lambda".to_string(),
    };
    e.add_trace(lambda.pos, what, false);
    if !call_pos.is_none() {
        e.add_trace(call_pos, "from call site".to_string(), false);
    }
}

pub fn lookup_local(env: &Rc<Env>, depth: u32, slot: u32) -> &Thunk {
    let mut e = env;
    for _ in 0..depth {
        e = e.parent.as_ref().expect("scope depth resolved at lowering");
    }
    &e.slots[slot as usize]
}

pub fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

pub fn io_msg(e: &std::io::Error) -> String {
    // A host's own message (e.g. a confinement refusal) says more than the kind's name.
    if e.get_ref().is_some() {
        return e.to_string();
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

fn expr_pos(e: &Expr) -> Pos {
    match e {
        Expr::Var(_, p)
        | Expr::Apply { pos: p, .. }
        | Expr::Select { pos: p, .. }
        | Expr::Binary { pos: p, .. }
        | Expr::If { pos: p, .. }
        | Expr::Assert { pos: p, .. }
        | Expr::Interp { pos: p, .. } => *p,
        Expr::Attrs(a) | Expr::Let(a, _) => a.pos,
        Expr::Lambda(l) => l.pos,
        _ => Pos::NONE,
    }
}

/// The attribute `name` (evaluated to `key`) of a set, through the name's hint when it
/// is written out.
#[inline]
fn find_attr<'a>(attrs: &'a Attrs, name: &AttrName, key: &str) -> Option<&'a Attr> {
    match name {
        AttrName::Static(_, hint) => attrs.get_attr_hinted(key, hint),
        AttrName::Dynamic(..) => attrs.get_attr(key),
    }
}

fn missing_attr(key: &str, attrs: &Attrs, pos: Pos) -> Box<EvalError> {
    let hint = crate::error::did_you_mean(key, attrs.entries.iter().map(|a| &*a.name));
    EvalError::new(ErrorKind::Eval, format!("attribute '{}' missing", key), pos).with_hint(hint)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut cut = s.len().min(max);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}
