//! nixweb-engine-nix: answers requests by running the real Nix evaluator.
//!
//! Each call starts one `nix-instantiate --eval --strict --json` process on the shared
//! router (`nixweb_app::ROUTER_NIX`), with the request handed over in a JSON file (request
//! bodies can exceed argv limits). The child is bounded and confined ([`process`]): memory
//! and CPU limits, a cleared environment, its own process group (killed on timeout), a
//! bounded part of its output kept; and Nix's own confinement is on by default
//! (`restrict-eval`, with `allowed-uris` from `--allow-fetch`), so an app reads only its
//! folder, the search path and what it fetched, as with the embedded engine. This engine
//! is for apps that need what only real Nix has: building derivations (import from
//! derivation), nixpkgs, the store. It is not fast: a process per request costs tens of
//! milliseconds before any work.

pub mod process;

use nixweb_app::engine::{Bound, BoxFuture, Engine, EngineError, RouterCall, SourceLocation};
use nixweb_app::memory::{Ceiling, MemoryGuard};
use nixweb_app::RuntimeFiles;
use process::Ended;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::process::Command;

/// How to run Nix.
#[derive(Debug, Clone)]
pub struct NixConfig {
    /// The `nix-instantiate` to run.
    pub nix_instantiate: PathBuf,
    /// `--option NAME VALUE` pairs, after [`NixConfig::default_options`].
    pub options: Vec<(String, String)>,
    /// Search path entries (`name=path` or `path`), passed as `-I`: the app's own and
    /// NIX_PATH's, so lookups do not depend on the environment Nix is started with.
    pub search_path: Vec<String>,
    /// Variables the child gets besides Nix's own (`NIX_*`, `SSL_CERT_FILE`): the `--env`
    /// names with their values. (Under `restrict-eval`, Nix's `getEnv` hides every one.)
    pub env: Vec<(String, String)>,
    /// Hosts (or `host:port`, or `*`) the app may fetch from: `allowed-uris`.
    pub allow_fetch: Vec<String>,
    /// A child's memory (`RLIMIT_DATA`), bytes; None: unbounded.
    pub max_memory: Option<u64>,
    /// A child's CPU time, seconds; None: the call's timeout, rounded up, plus one.
    pub max_cpu_seconds: Option<u64>,
    /// The server's own memory ceiling: past it no child is started.
    pub memory: Option<Ceiling>,
}

impl Default for NixConfig {
    fn default() -> Self {
        NixConfig {
            nix_instantiate: "nix-instantiate".into(),
            options: vec![],
            search_path: vec![],
            env: vec![],
            allow_fetch: vec![],
            max_memory: Some(Self::default_max_memory(1)),
            max_cpu_seconds: None,
            memory: Some(Ceiling::for_this_machine()),
        }
    }
}

impl NixConfig {
    /// Options nixweb always passes, before the user's own:
    /// - `tarball-ttl 0`: `builtins.fetchurl` without a hash fetches anew on every request,
    ///   so an endpoint that calls an API sees fresh data (the default caches for an hour);
    /// - `download-attempts 1`: a failed fetch fails the request at once (502) rather than
    ///   after four retries;
    /// - `sandbox true`: derivations built during evaluation run in Nix's build sandbox;
    /// - `substituters ""`: no binary cache is asked (this machine is offline, and asking
    ///   cache.nixos.org costs seconds per build otherwise);
    /// - `restrict-eval true`: files only from the search path (where nixweb puts the app's
    ///   folder, the router and the request) and what was fetched or built; `getEnv` gives
    ///   "" for everything;
    /// - `allowed-uris`: what `--allow-fetch` allows (see [`allowed_uris`]).
    pub fn default_options(&self) -> Vec<(String, String)> {
        [
            ("tarball-ttl", "0"),
            ("download-attempts", "1"),
            ("sandbox", "true"),
            ("substituters", ""),
            ("restrict-eval", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .chain([(
            "allowed-uris".to_owned(),
            allowed_uris(&self.allow_fetch).join(" "),
        )])
        .collect()
    }

    /// A child's memory limit by default: the machine's budget shared by `workers`
    /// children at once, between 256 MiB and 4 GiB.
    pub fn default_max_memory(workers: usize) -> u64 {
        let budget = Ceiling::for_this_machine().resident;
        (budget / workers.max(1) as u64).clamp(256 << 20, 4 << 30)
    }
}

/// `allowed-uris` prefixes for `--allow-fetch` entries: `host` allows http and https on
/// their default ports, `host:port` that port, `*` everything. (Nix compares prefixes up
/// to a `/`, so `http://host` would not allow `http://host:8080/`, nor `http://host.evil/`.)
pub fn allowed_uris(allow_fetch: &[String]) -> Vec<String> {
    allow_fetch
        .iter()
        .flat_map(|entry| {
            if entry == "*" {
                vec!["http://".to_owned(), "https://".to_owned()]
            } else {
                vec![format!("http://{entry}/"), format!("https://{entry}/")]
            }
        })
        .collect()
}

/// The engine: a working folder holding the router and per-request files.
pub struct NixEngine {
    app_file: PathBuf,
    config: NixConfig,
    workdir: nixweb_app::workdir::WorkDir,
    /// Where the server puts uploaded files: on the search path, so that restrict-eval
    /// lets the app read them.
    uploads: PathBuf,
    /// The router, and the library on the search path as `nixweb`.
    runtime: RuntimeFiles,
    next_request: AtomicU64,
    memory: Option<Arc<MemoryGuard>>,
}

impl NixEngine {
    /// Checks that Nix can be run and prepares the router. Fails with a message saying how
    /// to install Nix when it is missing.
    pub fn new(app_file: &Path, config: NixConfig) -> Result<Self, EngineError> {
        check_nix(&config.nix_instantiate)?;
        let unavailable = |what: &str, e: std::io::Error| {
            EngineError::Unavailable(format!("cannot create {what}: {e}"))
        };
        let workdir = nixweb_app::workdir::WorkDir::create("nixweb-nix-")
            .map_err(|e| unavailable("a working folder", e))?;
        let runtime =
            nixweb_app::write_runtime(workdir.path()).map_err(|e| unavailable("the router", e))?;
        std::fs::create_dir(workdir.path().join("requests"))
            .map_err(|e| unavailable("the requests folder", e))?;
        let uploads = workdir.path().join("uploads");
        std::fs::create_dir(&uploads).map_err(|e| unavailable("the uploads folder", e))?;
        Ok(NixEngine {
            app_file: app_file.to_owned(),
            memory: config.memory.map(MemoryGuard::start),
            config,
            workdir,
            uploads,
            runtime,
            next_request: AtomicU64::new(0),
        })
    }

    fn command(&self, mode: &str, request_file: &Path, state_url: Option<&str>) -> Command {
        let mut cmd = Command::new(&self.config.nix_instantiate);
        // --read-write-mode: without it --eval cannot write .drv files, so derivations
        // cannot be built during evaluation (import from derivation).
        // --show-trace: without it, Nix 2.8 does not say where a `throw` is; nixweb hides the
        // router's frames itself (nixweb_app::report).
        cmd.args([
            "--eval",
            "--strict",
            "--json",
            "--read-write-mode",
            "--show-trace",
        ]);
        // <nixweb/…> is the library that ships with nixweb. The other entries are what
        // restrict-eval lets the evaluation read: the app's folder, the router, this
        // request's file (files, not their folder: other requests' files stay out) and
        // uploaded files.
        let app_dir = self.app_file.parent().unwrap_or(Path::new("/"));
        cmd.arg("-I")
            .arg(format!("nixweb={}", self.runtime.lib.display()));
        for entry in &self.config.search_path {
            cmd.arg("-I").arg(entry);
        }
        for (name, path) in [
            ("nixweb-app", app_dir),
            ("nixweb-router", &self.runtime.router),
            ("nixweb-request", request_file),
            ("nixweb-uploads", &self.uploads),
        ] {
            cmd.arg("-I").arg(format!("{name}={}", path.display()));
        }
        for (name, value) in self
            .config
            .default_options()
            .iter()
            .chain(&self.config.options)
        {
            cmd.arg("--option").arg(name).arg(value);
        }
        // Last, so that the user's own allowed-uris cannot take it away.
        if let Some(url) = state_url {
            cmd.args(["--option", "extra-allowed-uris", url]);
        }
        cmd.arg(&self.runtime.router)
            .arg("--argstr")
            .arg("appFile")
            .arg(&self.app_file)
            .arg("--argstr")
            .arg("requestFile")
            .arg(request_file)
            .arg("--argstr")
            .arg("mode")
            .arg(mode);
        cmd.env_clear();
        for (name, value) in std::env::vars_os() {
            let keep = name
                .to_str()
                .is_some_and(|n| n.starts_with("NIX_") || n == "SSL_CERT_FILE");
            if keep {
                cmd.env(name, value);
            }
        }
        cmd.envs(self.config.env.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1");
        cmd
    }

    async fn run(&self, call: RouterCall) -> Result<Value, EngineError> {
        if let Some(memory) = self.memory.as_ref().filter(|m| m.is_over()) {
            return Err(EngineError::Overloaded(memory.describe()));
        }
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let request_file = RemoveOnDrop(
            self.workdir
                .path()
                .join("requests")
                .join(format!("request-{n}.json")),
        );
        // State is read over loopback HTTP: the router finds the address in `dbUrl`. (In the
        // file rather than on the command line, where other users could read it.)
        let url = call
            .state
            .as_ref()
            .and_then(|state| state.http_url.as_deref());
        let json = format!(
            r#"{{"dbUrl":{},"request":{}}}"#,
            serde_json::to_string(&url).expect("a URL serialises"),
            call.request.to_json()
        );
        tokio::fs::write(&request_file.0, json)
            .await
            .map_err(|e| EngineError::Unavailable(format!("cannot write the request file: {e}")))?;

        let cpu_seconds = self
            .config
            .max_cpu_seconds
            .unwrap_or(call.timeout.as_secs_f64().ceil() as u64 + 1);
        let limits = process::Limits {
            memory: self.config.max_memory,
            cpu_seconds: Some(cpu_seconds),
        };
        let command = self.command(call.mode.as_str(), &request_file.0, url);
        let ended = process::run(command, limits, call.timeout, &call.traces).await;
        call.traces.finish();
        let ended = ended
            .map_err(|e| EngineError::Unavailable(format!("cannot run nix-instantiate: {e}")))?;
        let (status, stdout, error, other) = match ended {
            Ended::TimedOut => return Err(EngineError::Timeout(call.timeout)),
            Ended::ResultTooLarge => {
                return Err(EngineError::Eval {
                    message: format!(
                        "the router's result is larger than {} MiB, more than nixweb reads",
                        process::MAX_RESULT >> 20
                    ),
                    location: None,
                })
            }
            Ended::Exited {
                status,
                stdout,
                error,
                other,
            } => (status, stdout, error, other),
        };
        if status.success() {
            if !other.trim().is_empty() {
                tracing::debug!(target: "nixweb::nix", id = %call.request.id, "{}", other.trim_end());
            }
            return serde_json::from_slice(&stdout).map_err(|e| EngineError::Eval {
                message: format!("nix-instantiate printed something that is not JSON ({e})"),
                location: None,
            });
        }
        if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
            return Err(self.killed(signal, cpu_seconds, &other));
        }
        Err(self.failed(&error))
    }

    /// A child that a signal ended: its CPU limit (SIGXCPU, then SIGKILL), or the kernel.
    fn killed(&self, signal: i32, cpu_seconds: u64, other: &str) -> EngineError {
        if signal == libc::SIGXCPU || signal == libc::SIGKILL {
            return EngineError::Exceeded(Bound::Cpu, format!(
                "nix-instantiate was killed (signal {signal}) at its CPU time limit of {cpu_seconds} s, or by the kernel for want of memory"
            ));
        }
        EngineError::Eval {
            message: format!(
                "nix-instantiate was killed by signal {signal}; its last output: {}",
                other.trim_end()
            ),
            location: None,
        }
    }

    /// A child that exited with an error: its memory limit, an upstream that failed, or
    /// the app's own error.
    fn failed(&self, error: &str) -> EngineError {
        let message = error.trim_end().to_owned();
        let first = message.lines().next().unwrap_or_default();
        if first.contains("error: out of memory") {
            let limit = self
                .config
                .max_memory
                .map(|b| format!("{} MiB", b >> 20))
                .unwrap_or_else(|| "the machine's".into());
            return EngineError::Exceeded(
                Bound::NixMemory,
                format!("nix-instantiate ran out of memory at its limit of {limit}"),
            );
        }
        if first.starts_with("error: unable to download") {
            return if first.contains("Timeout was reached") {
                EngineError::UpstreamTimeout(message)
            } else {
                EngineError::Upstream(message)
            };
        }
        EngineError::Eval {
            location: error_location(error, &self.runtime),
            message: if message.is_empty() {
                "nix-instantiate failed without saying why".into()
            } else {
                message
            },
        }
    }
}

impl Engine for NixEngine {
    fn name(&self) -> &'static str {
        "nix"
    }

    /// A folder of its own in the engine's working folder, on the search path.
    fn upload_dir(&self) -> &Path {
        &self.uploads
    }

    fn reads_state_over_http(&self) -> bool {
        true
    }

    fn app_file(&self) -> &Path {
        &self.app_file
    }

    fn runtime_files(&self) -> Option<&RuntimeFiles> {
        Some(&self.runtime)
    }

    fn run_router(&self, call: RouterCall) -> BoxFuture<'_, Result<Value, EngineError>> {
        Box::pin(self.run(call))
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn check_nix(program: &Path) -> Result<(), EngineError> {
    match std::process::Command::new(program)
        .arg("--version")
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(EngineError::Unavailable(format!(
            "`{} --version` failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Err(e) => Err(EngineError::Unavailable(format!(
            "the nix engine runs `{}`, which could not be started ({e}).\n\
             Install Nix: on Debian or Ubuntu `sudo apt-get install nix-bin`, elsewhere see \
             https://nixos.org/download; or run with `--engine embedded`, which needs no Nix.",
            program.display()
        ))),
    }
}

/// The first `at FILE:LINE:COL:` in the app's files, not in nixweb's own.
pub fn error_location(stderr: &str, runtime: &RuntimeFiles) -> Option<SourceLocation> {
    nixweb_app::report::first_app_location(stderr, runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(dir: &str) -> RuntimeFiles {
        RuntimeFiles {
            router: Path::new(dir).join("router.nix"),
            lib: Path::new(dir).join("lib"),
        }
    }

    const STDERR: &str = "building '/nix/store/x.drv'...\nerror: undefined variable 'x'\n\n       at /srv/app/default.nix:3:5:\n\n            2| {\n            3|   x\n             |   ^\n";

    #[test]
    fn finds_the_location() {
        let loc = error_location(STDERR, &runtime("/tmp")).unwrap();
        assert_eq!(
            loc,
            SourceLocation {
                file: "/srv/app/default.nix".into(),
                line: 3,
                column: 5
            }
        );
    }

    #[test]
    fn prefers_app_locations_over_the_router() {
        let stderr = "error: boom\n\n       at /tmp/r/router.nix:10:2:\n\n       … while\n       at /srv/app/x.nix:1:1:\n";
        let loc = error_location(stderr, &runtime("/tmp/r")).unwrap();
        assert_eq!(loc.file, PathBuf::from("/srv/app/x.nix"));
        assert!(error_location("error: boom\n", &runtime("/")).is_none());
    }

    #[test]
    fn allowed_uris_end_where_a_host_ends() {
        let uris = allowed_uris(&["example.org".into(), "127.0.0.1:8080".into()]);
        assert_eq!(
            uris,
            [
                "http://example.org/",
                "https://example.org/",
                "http://127.0.0.1:8080/",
                "https://127.0.0.1:8080/"
            ]
        );
        assert_eq!(allowed_uris(&["*".into()]), ["http://", "https://"]);
    }

    #[test]
    fn a_missing_nix_says_how_to_install_it() {
        let err = check_nix(Path::new("/nonexistent/nix-instantiate")).unwrap_err();
        assert!(err.to_string().contains("apt-get install nix-bin"), "{err}");
    }
}
