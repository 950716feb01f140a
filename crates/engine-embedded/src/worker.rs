//! One evaluation thread: it owns an evaluator, keeps it (and everything it parsed and
//! imported) between requests while the files it read are unchanged, and runs the router
//! for each job under the request's limits.
//!
//! A failure stays inside its request: a panic is caught and answered 500, and the
//! evaluator it happened in is thrown away (it may be in any state); a thread that dies
//! anyway is replaced ([`Respawn`]); an evaluation stopped by the memory ceiling, or one
//! that fetched, leaves no evaluator behind.

use crate::cache::{FieldSet, ResponseCache};
use crate::fetch::{FailureKind, FetchFailure};
use crate::io::ConfinedIO;
use crate::request::{register_field_builtin, request_value, SharedSlot};
use crate::Shared;
use nixweb_app::engine::{Bound, EngineError, RouterCall, RouterMode, SourceLocation, StateReader};
use nixweb_eval::value::{Thunk, ThunkState};
use nixweb_eval::{ErrorKind, EvalError, Evaluator, Limit, Limits, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The evaluator's message when its interrupt (the memory ceiling's flag) stopped it.
const INTERRUPTED: &str = "evaluation interrupted by the host";

/// Cyclic scopes remembered before the first collection of an evaluator.
const MIN_COLLECT_AT: usize = 2_000;

/// A request for a worker, and where to send the answer.
pub struct Job {
    pub call: RouterCall,
    pub reply: tokio::sync::oneshot::Sender<Result<serde_json::Value, EngineError>>,
}

/// The state reader of the request being evaluated, for the state builtins.
type ReaderSlot = Rc<RefCell<Option<Arc<dyn StateReader>>>>;

/// An evaluator with the router loaded, valid while the files it read are unchanged.
struct Loaded {
    ev: Evaluator,
    /// Collect cyclic garbage once this many cyclic scopes are remembered.
    collect_at: usize,
    /// `request: mode: …`, the router applied to this app.
    entry: Value,
    io: Arc<ConfinedIO>,
    reader: ReaderSlot,
    /// The file watch's generation when this evaluator was made: later changes to a file
    /// it read make it stale.
    since: u64,
    /// Without a file watch (or past its limits), staleness is told by comparing stamps.
    compare_stamps: bool,
    /// A file changed before the watch covered it.
    changed_early: bool,
    /// `builtins.currentTime`: before each request, re-pointed at `nixwebClock now`, so
    /// forcing it records that the evaluation used the time.
    clock: Thunk,
    /// `builtins.nixwebClock`.
    clock_fn: Thunk,
    /// The request under evaluation, for the request value's field thunks.
    request: SharedSlot,
    /// `builtins.nixwebRequestField`, which the field thunks apply.
    request_field: Thunk,
    /// What the last evaluation depended on besides its request fields.
    last: Dependencies,
}

/// What an evaluation used, to tell whether its result may be answered again.
#[derive(Default)]
struct Dependencies {
    /// The request fields it forced.
    fields: FieldSet,
    /// It read state (through `req.db`); set by the state builtins.
    state: Rc<std::cell::Cell<bool>>,
    /// It printed (a trace), which must happen on every request.
    printed: bool,
    /// It forced `builtins.currentTime` (set by `nixwebClock`).
    time: Rc<std::cell::Cell<bool>>,
    /// The Unix second of its `builtins.currentTime`.
    second: u64,
    /// The file watch's generation before it started.
    generation: u64,
}

/// Starts evaluation thread `n`. A thread that dies (a panic that escaped, see
/// [`Respawn`]) is replaced by a fresh one with the same number.
pub fn spawn(
    shared: Arc<Shared>,
    jobs: crossbeam_channel::Receiver<Job>,
    n: usize,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("nixweb-eval-{n}"))
        // Freeing a deep structure recurses in drop; the evaluator itself grows its
        // stack on the heap as it needs.
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let _respawn = Respawn {
                shared: shared.clone(),
                jobs: jobs.clone(),
                n,
            };
            run(shared, jobs)
        })
        .map(drop)
}

/// Replaces its thread when the thread dies by a panic, so the pool keeps its strength.
struct Respawn {
    shared: Arc<Shared>,
    jobs: crossbeam_channel::Receiver<Job>,
    n: usize,
}

impl Drop for Respawn {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return; // The engine went away: the channel closed.
        }
        tracing::error!(target: "nixweb::embedded", "evaluation thread {} died; starting another", self.n);
        if let Err(e) = spawn(self.shared.clone(), self.jobs.clone(), self.n) {
            tracing::error!(target: "nixweb::embedded", "cannot start an evaluation thread: {e}");
        }
    }
}

fn run(shared: Arc<Shared>, jobs: crossbeam_channel::Receiver<Job>) {
    let mut loaded: Option<Loaded> = None;
    let loop_sp = crate::release::stack_pointer();
    for job in jobs {
        // Its requester gave up (timed out) while the job waited: nobody wants the answer.
        if job.reply.is_closed() {
            continue;
        }
        // What the evaluation used, for giving it back (None: its evaluator is gone).
        let mut used = None;
        let result = serve(&mut loaded, &job.call, &shared, &mut used);
        crate::release::after_request(used, loop_sp);
        #[cfg(debug_assertions)]
        test_hooks::die_if_asked();
        // The requester may have given up (timeout); then nobody listens, which is fine.
        let _ = job.reply.send(result);
    }
}

/// Answers one job with the thread's evaluator (made afresh when there is none, or when
/// its files changed). A panic anywhere in it is answered 500, and the evaluator, which may
/// be in any state after it, is thrown away.
fn serve(
    loaded: &mut Option<Loaded>,
    call: &RouterCall,
    shared: &Shared,
    used: &mut Option<(u64, usize)>,
) -> Result<serde_json::Value, EngineError> {
    if let Some(memory) = shared.memory.as_ref().filter(|m| m.is_over()) {
        // Dropped too: what it holds may be what keeps the process over the ceiling.
        if loaded.take().is_some() {
            nixweb_app::memory::release();
        }
        return Err(EngineError::Overloaded(memory.describe()));
    }
    // Taken before the staleness check: a file changing between the two makes this
    // evaluation's result stale in the cache, not fresh.
    let generation = match (&shared.cache, &shared.watch) {
        (Some(_), Some(watch)) => watch.generation(),
        _ => 0,
    };
    if loaded.as_ref().is_some_and(|l| l.is_stale(shared)) {
        tracing::debug!(target: "nixweb::embedded", "app files changed: evaluating anew");
        *loaded = None;
    }
    let deadline = Instant::now() + call.timeout;
    let mut current = loaded.take();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let l = match &mut current {
            Some(l) => l,
            None => current.insert(Loaded::new(shared, call, deadline)?),
        };
        l.last.generation = generation;
        let (result, keep) = l.run(call, shared, deadline);
        *used = Some((l.ev.memory_high(), l.ev.stack_low));
        if keep {
            l.watch_fresh_paths(shared);
            if let (Some(cache), Ok(result)) = (&shared.cache, &result) {
                l.offer_to_cache(cache, call, result);
            }
            l.collect_garbage_now_and_then();
        }
        // Past its bounds, what the evaluator keeps between requests is let go.
        if !keep || !l.ev.end_request() {
            discard(current.take());
        }
        result
    }));
    if current.is_none() && shared.memory.as_ref().is_some_and(|m| m.is_over()) {
        nixweb_app::memory::release();
    }
    match outcome {
        Ok(result) => {
            *loaded = current;
            result
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            tracing::error!(target: "nixweb::embedded", id = %call.request.id, "the evaluation panicked ({what}); its evaluator is thrown away");
            discard(current);
            Err(EngineError::Internal(format!(
                "the evaluation failed inside nixweb ({what}); this is a bug in nixweb"
            )))
        }
    }
}

/// Drops an evaluator that may be in any state; if dropping it panics too, what is left of
/// it leaks rather than taking the thread down.
fn discard(loaded: Option<Loaded>) {
    if let Some(l) = loaded {
        l.io.end_request();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(l))).is_err() {
            tracing::error!(target: "nixweb::embedded", "dropping a broken evaluator panicked; its memory is not freed");
        }
    }
}

impl Loaded {
    /// A fresh evaluator with the app loaded, within `call`'s limits (loading evaluates
    /// the app's top level, which is code like any other).
    fn new(shared: &Shared, call: &RouterCall, deadline: Instant) -> Result<Loaded, EngineError> {
        let io = Arc::new(ConfinedIO::new(
            shared.roots.clone(),
            shared.env.clone(),
            shared.fetcher.clone(),
        ));
        let mut ev = Evaluator::new(io.clone());
        ev.set_search_path(&shared.search_path);
        ev.interrupt = shared.memory.as_ref().map(|m| m.flag());
        ev.reset_budget(Limits {
            deadline: Some(deadline),
            ..shared.limits.clone()
        });
        io.begin_request(deadline, ev.interrupt.clone());
        #[cfg(debug_assertions)]
        test_hooks::register(&mut ev);
        let reader: ReaderSlot = Rc::default();
        let last = Dependencies::default();
        register_state_builtins(&mut ev, &reader, &last.state);
        let request = SharedSlot::default();
        register_field_builtin(&mut ev, &request);
        let time_used = last.time.clone();
        ev.register_builtin("nixwebClock", 1, false, move |_, args| {
            time_used.set(true);
            Ok(args[0].clone())
        });
        // Until the first request re-points it, the time the evaluator was made (what the
        // app's top level sees while it loads).
        let clock = Thunk::cell(ThunkState::Done(Value::Int(unix_now())));
        nixweb_eval::builtins::set_builtin_thunk(&mut ev, "currentTime", clock.clone());
        let mut builtin = |name: &str| {
            ev.eval_expr_str(&format!("builtins.{name}"), &shared.workdir)
                .map(Thunk::value)
        };
        let (request_field, clock_fn) = builtin("nixwebRequestField")
            .and_then(|field| Ok((field, builtin("nixwebClock")?)))
            .map_err(|e| eval_error(&ev, &e, shared))?;
        let since = shared.watch.as_ref().map_or(0, |w| w.generation());
        let entry = ev.eval_expr_str(&shared.entry_expr, &shared.workdir);
        hand_traces(&mut ev, call);
        let entry = entry.map_err(|e| {
            let failed_fetch = io.end_request();
            classify(&ev, e, call, shared, deadline, failed_fetch)
        })?;
        let mut loaded = Loaded {
            ev,
            entry,
            io,
            reader,
            collect_at: MIN_COLLECT_AT,
            since,
            compare_stamps: shared.watch.is_none(),
            changed_early: false,
            clock,
            clock_fn,
            request,
            request_field,
            last,
        };
        loaded.watch_fresh_paths(shared);
        Ok(loaded)
    }

    /// Has the file watch cover the files read for the first time by the last evaluation.
    fn watch_fresh_paths(&mut self, shared: &Shared) {
        let fresh = self.io.take_fresh();
        if fresh.is_empty() || self.compare_stamps {
            return;
        }
        match shared.watch.as_ref().and_then(|w| w.cover(&fresh)) {
            Some(changed) => self.changed_early |= changed,
            None => {
                tracing::debug!(target: "nixweb::embedded", "a folder could not be watched: checking file stamps instead");
                self.compare_stamps = true;
            }
        }
    }

    /// Frees the reference cycles left by finished requests (scopes that refer to
    /// themselves), keeping everything the app's cached values still reach. Runs once the
    /// cyclic scopes have doubled since the last run, so its cost (proportional to what is
    /// cached) is spread thinly over many requests.
    fn collect_garbage_now_and_then(&mut self) {
        if self.ev.cyclic_envs.len() >= self.collect_at {
            let entry = self.entry.clone();
            self.ev.collect_garbage(&[&entry]);
            self.collect_at = (self.ev.cyclic_envs.len() * 2).max(MIN_COLLECT_AT);
        }
    }

    /// Stores the last evaluation's result in the response cache if nothing but its request
    /// fields (and the files the watch covers) could have shaped it.
    fn offer_to_cache(&self, cache: &ResponseCache, call: &RouterCall, result: &serde_json::Value) {
        let asks_for_writes = result
            .get("response")
            .and_then(|r| r.get("db"))
            .is_some_and(|db| !db.is_null());
        let depends_on_more = self.last.state.get() || self.last.printed || asks_for_writes;
        if call.mode != RouterMode::Handle
            || depends_on_more
            || self.compare_stamps
            || self.changed_early
        {
            return;
        }
        // A result that used the time holds only while the clock shows the same second.
        let until_second_ends = self.last.time.get().then_some(self.last.second);
        cache.store(
            &call.request,
            self.last.fields,
            result,
            self.last.generation,
            until_second_ends,
        );
    }

    /// Whether a file this evaluator looked at has changed (or appeared, or gone) since.
    fn is_stale(&self, shared: &Shared) -> bool {
        match &shared.watch {
            _ if self.changed_early => true,
            Some(watch) if !self.compare_stamps => {
                watch.changed_since(self.since, |path| self.io.depends_on(path))
            }
            _ => self
                .io
                .seen()
                .iter()
                .any(|(path, stamp)| crate::io::Stamp::of(path) != *stamp),
        }
    }

    /// Runs the router for `call`. Also says whether this evaluator may serve the next
    /// request: not after a fetch (fetched data must not outlive its request) nor after an
    /// interruption by the memory ceiling (what it holds may be what is too much).
    fn run(
        &mut self,
        call: &RouterCall,
        shared: &Shared,
        deadline: Instant,
    ) -> (Result<serde_json::Value, EngineError>, bool) {
        let now = unix_now();
        // Re-pointed in place (the builtins set stays as it is): whatever forces it during
        // this request gets this request's time, and marks the result as depending on it.
        self.clock.fill(ThunkState::apply(
            &self.clock_fn,
            Thunk::value(Value::Int(now)),
        ));
        self.last.time.set(false);
        self.ev.reset_budget(Limits {
            deadline: Some(deadline),
            ..shared.limits.clone()
        });
        self.io.begin_request(deadline, self.ev.interrupt.clone());
        *self.reader.borrow_mut() = call.state.as_ref().map(|s| s.reader.clone());

        self.request.borrow_mut().begin(call.request.clone());
        self.last.state.set(false);
        self.last.second = now as u64;
        let request = request_value(&self.request_field);
        let result = self
            .ev
            .call_function(&self.entry, request)
            .and_then(|f| self.ev.call_function(&f, Value::str(call.mode.as_str())))
            .and_then(|v| self.result_json(&v));

        *self.reader.borrow_mut() = None;
        self.last.fields = self.request.borrow_mut().end();
        self.last.printed = hand_traces(&mut self.ev, call);
        // The request's downloads go now, whatever happens to this evaluator.
        let failed_fetch = self.io.end_request();
        let interrupted = self.interrupted() || matches!(&result, Err(e) if e.msg == INTERRUPTED);
        let keep = !(self.io.take_volatile() || interrupted);
        let result =
            result.map_err(|e| classify(&self.ev, e, call, shared, deadline, failed_fetch));
        (result, keep)
    }

    fn interrupted(&self) -> bool {
        self.ev
            .interrupt
            .as_ref()
            .is_some_and(|flag| flag.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The router's result as JSON, except that a response's text body is taken from the
    /// Nix string as it is: a page of HTML would otherwise be escaped into JSON text and
    /// parsed back (measured: a tenth of the time of a 50 KB page).
    fn result_json(&mut self, result: &Value) -> nixweb_eval::error::EResult<serde_json::Value> {
        let Some((body, rest)) = self.split_text_body(result)? else {
            return self.ev.to_json(result);
        };
        let mut json = self.ev.to_json(&rest)?;
        json["response"]["body"] = serde_json::Value::String(body.to_string());
        Ok(json)
    }

    /// For a result `{ response = { body = "…"; … }; … }`: the body, and the result with the
    /// body set to null.
    fn split_text_body(
        &mut self,
        result: &Value,
    ) -> nixweb_eval::error::EResult<Option<(nixweb_eval::value::NixStr, Value)>> {
        let Value::Attrs(top) = result else {
            return Ok(None);
        };
        let Some(response) = top.get("response") else {
            return Ok(None);
        };
        let Value::Attrs(response) = self.ev.force(response)? else {
            return Ok(None);
        };
        let Some(body) = response.get("body") else {
            return Ok(None);
        };
        let Value::String(body) = self.ev.force(body)? else {
            return Ok(None);
        };
        let replace = |attrs: &nixweb_eval::value::Attrs, name: &str, value: Value| {
            let mut attrs = attrs.clone();
            for attr in attrs.entries.iter_mut().filter(|a| &*a.name == name) {
                attr.value = nixweb_eval::value::Thunk::value(value.clone());
            }
            Value::attrs(attrs)
        };
        let response = replace(&response, "body", Value::Null);
        Ok(Some((body, replace(top, "response", response))))
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `builtins.nixwebStateGet key` and `builtins.nixwebStateList prefix after limit`, reading
/// the snapshot of the request under evaluation (the router wraps them as `req.db`).
fn register_state_builtins(
    ev: &mut Evaluator,
    slot: &ReaderSlot,
    used: &Rc<std::cell::Cell<bool>>,
) {
    let no_state = || "nixweb: this request has no state: no database is configured".to_owned();
    let get_slot = slot.clone();
    let get_used = used.clone();
    ev.register_builtin("nixwebStateGet", 1, false, move |ev, args| {
        get_used.set(true);
        let reader = get_slot.borrow().clone().ok_or_else(no_state)?;
        let key = ev.to_json(&args[0]).map_err(|e| e.msg)?;
        let value = reader
            .get(key.as_str().unwrap_or_default())
            .map_err(|e| format!("nixweb: reading state failed: {e}"))?;
        Ok(value.map(|v| ev.from_json(&v)).unwrap_or(Value::Null))
    });
    let list_slot = slot.clone();
    let list_used = used.clone();
    ev.register_builtin("nixwebStateList", 3, false, move |ev, args| {
        list_used.set(true);
        let reader = list_slot.borrow().clone().ok_or_else(no_state)?;
        let prefix = ev.to_json(&args[0]).map_err(|e| e.msg)?;
        let after = ev.to_json(&args[1]).map_err(|e| e.msg)?;
        let limit = ev.to_json(&args[2]).map_err(|e| e.msg)?;
        let limit = limit
            .as_u64()
            .ok_or("nixweb: the limit of a state list must be a non-negative integer")?;
        let entries = reader
            .list(
                prefix.as_str().unwrap_or_default(),
                after.as_str(),
                limit as usize,
            )
            .map_err(|e| format!("nixweb: reading state failed: {e}"))?;
        let json: Vec<serde_json::Value> = entries
            .into_iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
            .collect();
        Ok(ev.from_json(&serde_json::Value::Array(json)))
    });
}

/// What a failed evaluation means for its request: which bound stopped it, whether its
/// upstream failed (a failed fetch ends the evaluation: Nix cannot catch it), or else the
/// app's own error.
fn classify(
    ev: &Evaluator,
    e: Box<EvalError>,
    call: &RouterCall,
    shared: &Shared,
    deadline: Instant,
    failed_fetch: Option<FetchFailure>,
) -> EngineError {
    let stopped_by_memory = e.msg == INTERRUPTED
        || ev
            .interrupt
            .as_ref()
            .is_some_and(|flag| flag.load(std::sync::atomic::Ordering::Relaxed));
    if let (true, Some(memory)) = (stopped_by_memory, &shared.memory) {
        return EngineError::Overloaded(memory.describe());
    }
    if let Some(failure) =
        failed_fetch.filter(|f| f.message == e.msg || e.msg.ends_with(&f.message))
    {
        return match failure.kind {
            FailureKind::Upstream => EngineError::Upstream(failure.message),
            FailureKind::Timeout => EngineError::UpstreamTimeout(failure.message),
            FailureKind::Stopped => EngineError::Timeout(call.timeout),
            FailureKind::Budget(bound) => EngineError::Exceeded(bound, failure.message),
            FailureKind::App => eval_error(ev, &e, shared),
        };
    }
    match e.kind {
        // Past the deadline, whatever failed (the clock check, say) failed because time ran
        // out.
        _ if Instant::now() >= deadline => EngineError::Timeout(call.timeout),
        ErrorKind::Limit(Limit::Time) => EngineError::Timeout(call.timeout),
        ErrorKind::Limit(Limit::Steps) => {
            EngineError::Exceeded(Bound::Steps, format!("the {}", e.msg))
        }
        ErrorKind::Limit(Limit::Memory) => {
            EngineError::Exceeded(Bound::Memory, format!("the {}", e.msg))
        }
        ErrorKind::Limit(Limit::Depth) => {
            EngineError::Exceeded(Bound::Depth, format!("the {}", e.msg))
        }
        _ => eval_error(ev, &e, shared),
    }
}

/// Moves what the evaluation printed to the request's traces, counting what the
/// evaluator already dropped past its own cap; says whether anything was printed.
fn hand_traces(ev: &mut Evaluator, call: &RouterCall) -> bool {
    let (printed, dropped) = ev.take_stderr();
    call.traces.push_output(&printed);
    call.traces.count_dropped(dropped);
    !printed.is_empty() || dropped > 0
}

/// An evaluation error as the server shows it: Nix's text, and the first location that is
/// in the app rather than in nixweb's router.
fn eval_error(ev: &Evaluator, e: &EvalError, shared: &Shared) -> EngineError {
    let positions = std::iter::once(e.pos).chain(e.trace.iter().map(|(pos, _)| *pos));
    let locations: Vec<SourceLocation> = positions
        .filter_map(|pos| {
            let path = ev.sources.get(pos.file)?.path.clone()?;
            let (line, column) = ev.sources.line_col(pos)?;
            Some(SourceLocation {
                file: path,
                line,
                column,
            })
        })
        .collect();
    let location = locations
        .iter()
        .find(|l| !shared.runtime.contains(&l.file))
        .or(locations.first())
        .cloned();
    // With the trace: it is what locates a `throw` (the log and --dev pages are for people
    // fixing the app; clients never see it).
    let message = nixweb_eval::error::format_error(e, &ev.sources, true);
    EngineError::Eval {
        message: message.trim_end().to_owned(),
        location,
    }
}

/// Ways to make an evaluation fail as no app can, so tests can check that the pool
/// survives it. Only in debug builds, and only when the server runs with
/// `NIXWEB_TEST_HOOKS=1` in its environment: `builtins.nixwebTestHook "panic"` panics
/// inside the evaluation, `"kill-thread"` makes the thread die after it (outside any
/// catching).
#[cfg(debug_assertions)]
mod test_hooks {
    use nixweb_eval::{Evaluator, Value};
    use std::cell::Cell;

    thread_local! {
        static DIE: Cell<bool> = const { Cell::new(false) };
    }

    pub fn register(ev: &mut Evaluator) {
        if std::env::var_os("NIXWEB_TEST_HOOKS").is_none_or(|v| v != "1") {
            return;
        }
        ev.register_builtin("nixwebTestHook", 1, false, |ev, args| {
            let what = ev.to_json(&args[0]).map_err(|e| e.msg)?;
            match what.as_str() {
                Some("panic") => panic!("test hook: a panicking evaluation"),
                Some("kill-thread") => DIE.with(|die| die.set(true)),
                _ => return Err("nixwebTestHook: \"panic\" or \"kill-thread\"".into()),
            }
            Ok(Value::Null)
        });
    }

    pub fn die_if_asked() {
        if DIE.with(|die| die.replace(false)) {
            panic!("test hook: an evaluation thread dies");
        }
    }
}
