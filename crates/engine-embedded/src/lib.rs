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
//! from allowed hosts. It is not for apps that build derivations: use the Nix engine.

pub mod cache;
pub mod fetch;
pub mod io;
mod release;
mod request;
pub mod watch;
mod worker;

pub use fetch::FetchConfig;

use nixweb_app::engine::{BoxFuture, Engine, EngineError, RouterCall};
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
}

pub struct EmbeddedEngine {
    app_file: PathBuf,
    shared: Arc<Shared>,
    jobs: crossbeam_channel::Sender<worker::Job>,
    uploads: PathBuf,
    /// Holds the router, the library, downloads and uploads; removed with the engine.
    _workdir: tempfile::TempDir,
}

impl EmbeddedEngine {
    pub fn new(app_file: &Path, config: EmbeddedConfig) -> Result<Self, EngineError> {
        let unavailable =
            |what: &str, e: std::io::Error| EngineError::Unavailable(format!("{what}: {e}"));
        let workdir = tempfile::Builder::new()
            .prefix("nixweb-embedded-")
            .tempdir()
            .map_err(|e| unavailable("working folder", e))?;
        let base = workdir
            .path()
            .canonicalize()
            .map_err(|e| unavailable("working folder", e))?;
        let runtime =
            nixweb_app::write_runtime(&base).map_err(|e| unavailable("router and library", e))?;
        let downloads = base.join("downloads");
        std::fs::create_dir_all(&downloads).map_err(|e| unavailable("downloads", e))?;
        // Inside the working folder, so the app may read uploaded files like its own.
        let uploads = base.join("uploads");
        std::fs::create_dir_all(&uploads).map_err(|e| unavailable("uploads", e))?;

        let app_dir = app_file.parent().unwrap_or(Path::new("/")).to_owned();
        let mut search_path = vec![format!("nixweb={}", runtime.lib.display())];
        search_path.extend(config.search_path.iter().cloned());
        // The app may read its folder, nixweb's own files, downloads, uploads and the
        // search path.
        let mut roots = vec![app_dir, base.clone()];
        for entry in &config.search_path {
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
        });

        let (sender, receiver) = crossbeam_channel::unbounded();
        let engine_shared = shared.clone();
        for n in 0..config.workers.max(1) {
            let (shared, receiver) = (shared.clone(), receiver.clone());
            std::thread::Builder::new()
                .name(format!("nixweb-eval-{n}"))
                // Freeing a deep structure recurses in drop; the evaluator itself grows its
                // stack on the heap as it needs.
                .stack_size(64 * 1024 * 1024)
                .spawn(move || worker::run(shared, receiver))
                .map_err(|e| unavailable("evaluation thread", e))?;
        }
        Ok(EmbeddedEngine {
            app_file: app_file.to_owned(),
            shared: engine_shared,
            jobs: sender,
            uploads,
            _workdir: workdir,
        })
    }

    async fn run(&self, call: RouterCall) -> Result<serde_json::Value, EngineError> {
        let timeout = call.timeout;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(worker::Job { call, reply })
            .map_err(|_| EngineError::Unavailable("the evaluation threads have stopped".into()))?;
        // The evaluator stops itself at the deadline; the grace covers a long single step.
        match tokio::time::timeout(timeout + Duration::from_secs(2), answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(EngineError::Unavailable("an evaluation thread died".into())),
            Err(_) => Err(EngineError::Timeout(timeout)),
        }
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
