//! nixweb-engine-nix: answers requests by running the real Nix evaluator.
//!
//! Each call starts one `nix-instantiate --eval --strict --json` process on the shared
//! router (`nixweb_app::ROUTER_NIX`), with the request handed over in a JSON file (request
//! bodies can exceed argv limits). The process runs in its own process group, so a timeout
//! kills it together with anything it started. This engine is for apps that need what only
//! real Nix has: building derivations (import from derivation), nixpkgs, the store. It is
//! not fast: a process per request costs tens of milliseconds before any work.

use nixweb_app::engine::{BoxFuture, Engine, EngineError, RouterCall, SourceLocation};
use nixweb_app::RuntimeFiles;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
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
}

impl Default for NixConfig {
    fn default() -> Self {
        NixConfig {
            nix_instantiate: "nix-instantiate".into(),
            options: vec![],
            search_path: vec![],
        }
    }
}

impl NixConfig {
    /// Options nixweb always passes, before the user's own:
    /// - `tarball-ttl 0`: `builtins.fetchurl` without a hash fetches anew on every request,
    ///   so an endpoint that calls an API sees fresh data (the default caches for an hour);
    /// - `sandbox true`: derivations built during evaluation run in Nix's build sandbox;
    /// - `substituters ""`: no binary cache is asked (this machine is offline, and asking
    ///   cache.nixos.org costs seconds per build otherwise).
    pub fn default_options() -> Vec<(String, String)> {
        [
            ("tarball-ttl", "0"),
            ("sandbox", "true"),
            ("substituters", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

/// The engine: a working folder holding the router and per-request files.
pub struct NixEngine {
    app_file: PathBuf,
    config: NixConfig,
    workdir: tempfile::TempDir,
    /// The router, and the library on the search path as `nixweb`.
    runtime: RuntimeFiles,
    next_request: AtomicU64,
}

impl NixEngine {
    /// Checks that Nix can be run and prepares the router. Fails with a message saying how
    /// to install Nix when it is missing.
    pub fn new(app_file: &Path, config: NixConfig) -> Result<Self, EngineError> {
        check_nix(&config.nix_instantiate)?;
        let workdir = tempfile::Builder::new()
            .prefix("nixweb-nix-")
            .tempdir()
            .map_err(|e| {
                EngineError::Unavailable(format!("cannot create a working folder: {e}"))
            })?;
        let runtime = nixweb_app::write_runtime(workdir.path())
            .map_err(|e| EngineError::Unavailable(format!("cannot write the router: {e}")))?;
        Ok(NixEngine {
            app_file: app_file.to_owned(),
            config,
            workdir,
            runtime,
            next_request: AtomicU64::new(0),
        })
    }

    fn command(&self, mode: &str, request_file: &Path) -> Command {
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
        // <nixweb/…> is the library that ships with nixweb.
        cmd.arg("-I")
            .arg(format!("nixweb={}", self.runtime.lib.display()));
        for entry in &self.config.search_path {
            cmd.arg("-I").arg(entry);
        }
        for (name, value) in NixConfig::default_options()
            .iter()
            .chain(&self.config.options)
        {
            cmd.arg("--option").arg(name).arg(value);
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
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            // Its own process group, so a timeout can kill builders and fetchers too.
            .process_group(0)
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, call: RouterCall) -> Result<Value, EngineError> {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let request_file = RemoveOnDrop(self.workdir.path().join(format!("request-{n}.json")));
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

        let child = self
            .command(call.mode.as_str(), &request_file.0)
            .spawn()
            .map_err(|e| EngineError::Unavailable(format!("cannot start nix-instantiate: {e}")))?;
        let group = child.id().map(|pid| pid as libc::pid_t);
        let output = match tokio::time::timeout(call.timeout, child.wait_with_output()).await {
            Ok(result) => result
                .map_err(|e| EngineError::Unavailable(format!("nix-instantiate failed: {e}")))?,
            Err(_) => {
                if let Some(pgid) = group {
                    // SAFETY: killpg only sends a signal; the group is the child's own.
                    unsafe { libc::killpg(pgid, libc::SIGKILL) };
                }
                return Err(EngineError::Timeout(call.timeout));
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            if !stderr.trim().is_empty() {
                tracing::debug!(target: "nixweb::nix", "{}", stderr.trim_end());
            }
            return serde_json::from_slice(&output.stdout).map_err(|e| EngineError::Eval {
                message: format!("nix-instantiate printed something that is not JSON ({e})"),
                location: None,
            });
        }
        if output.status.code().is_none() {
            // Killed by a signal not of nixweb's sending: the kernel's out-of-memory killer
            // or a resource limit, which the same request would meet again.
            return Err(EngineError::Eval {
                message: format!(
                    "nix-instantiate was killed ({}): it may have run out of memory",
                    output.status
                ),
                location: None,
            });
        }
        Err(EngineError::Eval {
            message: error_message(&stderr),
            location: error_location(&stderr, &self.runtime),
        })
    }
}

impl Engine for NixEngine {
    fn name(&self) -> &'static str {
        "nix"
    }

    /// Nix reads any file the server's user can: the engine's own private folder will do.
    fn upload_dir(&self) -> &Path {
        self.workdir.path()
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

/// The error itself, without the build logs and warnings that may come before it.
fn error_message(stderr: &str) -> String {
    let start = stderr.find("error:").unwrap_or(0);
    stderr[start..].trim_end().to_owned()
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
    fn finds_the_message_and_its_location() {
        assert!(error_message(STDERR).starts_with("error: undefined variable 'x'"));
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
    fn a_missing_nix_says_how_to_install_it() {
        let err = check_nix(Path::new("/nonexistent/nix-instantiate")).unwrap_err();
        assert!(err.to_string().contains("apt-get install nix-bin"), "{err}");
    }
}
