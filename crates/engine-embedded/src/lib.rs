//! nixweb-engine-embedded: answers requests with nixweb-eval, inside the server process.
//!
//! A pool of evaluation threads (one per core by default) takes jobs from the async side;
//! no evaluation ever runs on the async runtime. Each thread keeps its evaluator between
//! requests, so parsed files and imported values that do not depend on the request are
//! reused, until a file the evaluation looked at changes; a GET or HEAD request that agrees
//! with an earlier one on every request field that evaluation used is answered from the
//! response cache ([`cache`]) without evaluating. Every evaluation is bounded
//! (time, steps, memory, call depth) and confined ([`io::ConfinedIO`]): the app reads only
//! its own folder and search path, sees only the environment it was given, and fetches only
//! from allowed hosts, within a budget per request ([`fetch`], [`unpack`]). A failure
//! inside one evaluation stays there: a panic is answered 500 and its evaluator thrown
//! away, a thread that dies is replaced ([`worker`]); past the process's memory ceiling
//! (`nixweb_app::memory`) new evaluations are refused and running ones stopped. It is not
//! for apps that build derivations: use the Nix engine.

pub mod cache;
pub mod fetch;
pub mod io;
mod release;
mod request;
pub mod unpack;
pub mod watch;
mod worker;

pub use fetch::FetchConfig;

use nixweb_app::engine::{BoxFuture, Engine, EngineError, RouterCall};
use nixweb_app::memory::{Ceiling, MemoryGuard};
use nixweb_app::request::Request;
// File names go into the entry expression as Nix string literals, quoted as Nix prints them.
use nixweb_eval::print::escape_string;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Bounds and permissions of the embedded engine.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Evaluation threads.
    pub workers: usize,
    /// Steps, call depth, memory and trace output per request (the deadline comes from
    /// each call).
    pub limits: nixweb_eval::Limits,
    /// Extra search path entries (`name=path` or `path`), as `-I` gives them.
    pub search_path: Vec<String>,
    /// The environment `builtins.getEnv` sees; nothing else of it is visible.
    pub env: HashMap<String, String>,
    pub fetch: FetchConfig,
    /// Answer a request from an earlier one's result when it agrees on every request field
    /// that evaluation used ([`cache`]).
    pub response_cache: bool,
    /// The process's memory ceiling; None: none.
    pub memory: Option<Ceiling>,
}

impl EmbeddedConfig {
    /// Limits that let ordinary apps run and stop runaway ones well before they hurt.
    pub fn default_limits() -> nixweb_eval::Limits {
        nixweb_eval::Limits {
            max_steps: Some(200_000_000),
            max_depth: Some(100_000),
            deadline: None,
            max_memory: Some(512 * 1024 * 1024),
            max_trace_bytes: Some(256 * 1024),
        }
    }
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            limits: Self::default_limits(),
            search_path: vec![],
            env: HashMap::new(),
            fetch: FetchConfig::default(),
            response_cache: true,
            memory: Some(Ceiling::for_this_machine()),
        }
    }
}

/// What every worker shares.
pub(crate) struct Shared {
    pub roots: Vec<PathBuf>,
    pub env: HashMap<String, String>,
    pub search_path: Vec<String>,
    pub limits: nixweb_eval::Limits,
    pub fetcher: Arc<fetch::Fetcher>,
    /// The expression every worker evaluates once: the router applied to the app, a
    /// function `request: mode: …`.
    pub entry_expr: String,
    pub workdir: PathBuf,
    /// The router and the library, as files: nixweb's own code, not the app's.
    pub runtime: nixweb_app::RuntimeFiles,
    /// Tells workers when a file they read changed; None: they compare stamps instead.
    pub watch: Option<watch::FileWatch>,
    /// None when turned off, or without the file watch (it is how entries go stale).
    pub cache: Option<cache::ResponseCache>,
    /// The process's memory ceiling, when there is one.
    pub memory: Option<Arc<MemoryGuard>>,
}

pub struct EmbeddedEngine {
    app_file: PathBuf,
    shared: Arc<Shared>,
    jobs: crossbeam_channel::Sender<worker::Job>,
    uploads: PathBuf,
    /// Holds the router, the library, downloads and uploads; removed with the engine, swept by the
    /// next start if the process dies without removing it.
    _workdir: nixweb_app::workdir::WorkDir,
}

impl EmbeddedEngine {
    pub fn new(app_file: &Path, config: EmbeddedConfig) -> Result<Self, EngineError> {
        let unavailable =
            |what: &str, e: std::io::Error| EngineError::Unavailable(format!("{what}: {e}"));
        let workdir = nixweb_app::workdir::WorkDir::create("nixweb-embedded-")
            .map_err(|e| unavailable("working folder", e))?;
        let base = workdir
            .path()
            .canonicalize()
            .map_err(|e| unavailable("working folder", e))?;
        let runtime =
            nixweb_app::write_runtime(&base).map_err(|e| unavailable("router and library", e))?;
        let downloads = base.join("downloads");
        std::fs::create_dir_all(&downloads).map_err(|e| unavailable("downloads", e))?;
        // A root of its own (below), so the app may read uploaded files like its own.
        let uploads = base.join("uploads");
        std::fs::create_dir_all(&uploads).map_err(|e| unavailable("uploads", e))?;

        let app_dir = app_file.parent().unwrap_or(Path::new("/")).to_owned();
        // Entries as given, their paths resolved once, so that what the app names lies
        // lexically below the roots.
        let search_path: Vec<String> = std::iter::once(format!("nixweb={}", runtime.lib.display()))
            .chain(config.search_path.iter().map(|entry| resolve_entry(entry)))
            .collect();
        // The app may read its folder, nixweb's library and router, uploaded files, the
        // search path, and the downloads of the request under evaluation (added per
        // request): not the rest of the working folder, where other requests' downloads
        // live.
        let mut roots = vec![
            app_dir,
            runtime.lib.clone(),
            runtime.router.clone(),
            uploads.clone(),
        ];
        for entry in &search_path[1..] {
            let path = entry.split_once('=').map(|(_, p)| p).unwrap_or(entry);
            if let Ok(real) = Path::new(path).canonicalize() {
                roots.push(real);
            }
        }
        let watch = watch::FileWatch::new();
        let cache = (config.response_cache && watch.is_some()).then(cache::ResponseCache::default);
        let shared = Arc::new(Shared {
            roots,
            env: config.env,
            search_path,
            limits: config.limits,
            fetcher: Arc::new(fetch::Fetcher::new(config.fetch, downloads)),
            entry_expr: entry_expression(&runtime.router, app_file),
            workdir: base,
            runtime,
            watch,
            cache,
            memory: config.memory.map(MemoryGuard::start),
        });

        let (sender, receiver) = crossbeam_channel::unbounded();
        for n in 0..config.workers.max(1) {
            worker::spawn(shared.clone(), receiver.clone(), n)
                .map_err(|e| unavailable("evaluation thread", e))?;
        }
        Ok(EmbeddedEngine {
            app_file: app_file.to_owned(),
            shared,
            jobs: sender,
            uploads,
            _workdir: workdir,
        })
    }

    async fn run(&self, call: RouterCall) -> Result<serde_json::Value, EngineError> {
        if let Some(memory) = self.shared.memory.as_ref().filter(|m| m.is_over()) {
            return Err(EngineError::Overloaded(memory.describe()));
        }
        let timeout = call.timeout;
        let traces = call.traces.clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(worker::Job { call, reply })
            .map_err(|_| EngineError::Unavailable("the evaluation threads have stopped".into()))?;
        // The evaluator stops itself at the deadline; the grace covers a long single step.
        let result = match tokio::time::timeout(timeout + Duration::from_secs(2), answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(EngineError::Internal(
                "the evaluation thread died; another took its place".into(),
            )),
            Err(_) => Err(EngineError::Timeout(timeout)),
        };
        traces.finish();
        result
    }
}

/// A search path entry (`name=path` or `path`) with its path resolved (links, `..`), when
/// it exists.
fn resolve_entry(entry: &str) -> String {
    let (name, path) = match entry.split_once('=') {
        Some((name, path)) => (Some(name), path),
        None => (None, entry),
    };
    let path = Path::new(path)
        .canonicalize()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_owned());
    match name {
        Some(name) => format!("{name}={path}"),
        None => path,
    }
}

impl Engine for EmbeddedEngine {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn app_file(&self) -> &Path {
        &self.app_file
    }

    fn runtime_files(&self) -> Option<&nixweb_app::RuntimeFiles> {
        Some(&self.shared.runtime)
    }

    fn upload_dir(&self) -> &Path {
        &self.uploads
    }

    /// Measured on 2 cores (hello under wrk): one call per worker leaves each thread asleep
    /// between requests, waiting for the async side to hand over the next; with four, the
    /// next is already queued and throughput went from 14,000 to 25,000 requests/s. A slow
    /// evaluation holds up nobody: the queue is shared, so free threads take the next job.
    fn calls_per_worker(&self) -> usize {
        4
    }

    fn cached(&self, request: &Request) -> Option<Arc<serde_json::Value>> {
        let (cache, watch) = (self.shared.cache.as_ref()?, self.shared.watch.as_ref()?);
        cache.lookup(request, watch)
    }

    fn run_router(
        &self,
        call: RouterCall,
    ) -> BoxFuture<'_, Result<serde_json::Value, EngineError>> {
        Box::pin(self.run(call))
    }
}

/// The router applied to the app, waiting for a request and a mode (`request: mode: …`).
/// Given no request file, the router evaluates what does not depend on the request once.
fn entry_expression(router: &Path, app_file: &Path) -> String {
    format!(
        "import {} {{ appFile = {}; \
         dbPrimops = {{ get = builtins.nixwebStateGet; list = builtins.nixwebStateList; }}; }}",
        escape_string(&router.display().to_string()),
        escape_string(&app_file.display().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::escape_string;

    #[test]
    fn nix_strings_are_escaped() {
        assert_eq!(escape_string(r#"/a "b" ${c}\d"#), r#""/a \"b\" \${c}\\d""#);
    }
}
