//! `nixweb serve` before and beside serving: the app is opened, its route table evaluated
//! once (so a broken app says so at start-up, with its source, rather than with a 500 on
//! every request), the socket bound; while it serves, its nixweb.toml is watched.

use crate::cli::{Cli, Command, RunArgs, ServeArgs};
use crate::commands::{open_app, Opened};
use crate::settings::{AppFile, Settings};
use anyhow::{bail, Context, Result};
use nixweb_server::routes::Row;
use nixweb_server::signals::Signals;
use nixweb_server::tls::Tls;
use nixweb_server::Nixweb;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A server ready to serve: the app opened, the socket bound, TLS (if asked for) loaded.
pub struct Listening {
    pub nixweb: Arc<Nixweb>,
    pub listener: tokio::net::TcpListener,
    pub tls: Option<Arc<Tls>>,
}

impl Listening {
    /// `http://ADDRESS` or `https://ADDRESS`.
    pub fn url(&self) -> Result<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        Ok(format!("{scheme}://{}", self.listener.local_addr()?))
    }

    /// Serves until SIGTERM or Ctrl-C (see nixweb_server::http).
    pub async fn serve(self, signals: Signals) -> std::io::Result<()> {
        nixweb_server::http::serve(self.listener, self.nixweb, signals, self.tls).await
    }
}

/// Opens the app, checks its route table, loads TLS and binds the listening socket:
/// everything `serve` does before serving. It serves whatever the check found: the app may
/// be fixed while it runs, and the engines pick up edits; TLS files that do not load stop
/// it here.
pub async fn listen(
    app: &Path,
    host: &str,
    port: u16,
    serve: &ServeArgs,
    run: &RunArgs,
) -> Result<Listening> {
    // Before the engine opens anything and before the address is announced, so that whoever
    // sees the server listening sees its final limit (serving raises it too, idempotently).
    nixweb_server::descriptors::raise_limit();
    let Opened {
        engine,
        config,
        settings,
        app_dir,
    } = open_app(app, serve, run)?;
    let tls = match &config.tls {
        Some(files) => Some(Tls::start(files.clone()).map_err(|e| anyhow::anyhow!("TLS: {e}"))?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port}"))?;
    let workers = config.workers;
    let listening = Listening {
        nixweb: Arc::new(Nixweb::new(engine, config)),
        listener,
        tls,
    };
    tracing::info!(
        target: "nixweb",
        "serving {} with the {} engine ({workers} workers) on {}",
        listening.nixweb.engine().app_file().display(),
        listening.nixweb.engine().name(),
        listening.url()?
    );
    check_routes(&listening.nixweb).await;
    tokio::spawn(watch_settings(
        app_dir,
        run.clone(),
        serve.clone(),
        settings,
    ));
    Ok(listening)
}

/// Evaluates the route table once and logs what fails, each error with its source.
async fn check_routes(nixweb: &Nixweb) {
    match nixweb.routes().await {
        Ok(rows) => {
            let mut routes = 0;
            for row in &rows {
                match row {
                    Row::Route(_) => routes += 1,
                    Row::Failed { pattern, failure } => tracing::error!(
                        target: "nixweb",
                        "the app's subtree {pattern} does not evaluate: {failure}"
                    ),
                }
            }
            tracing::info!(target: "nixweb", "the app has {routes} routes");
        }
        Err(failure) => tracing::error!(
            target: "nixweb",
            "the app does not evaluate; every request will fail until it is fixed: {failure}"
        ),
    }
}

/// How often nixweb.toml is looked at.
const SETTINGS_POLL: Duration = Duration::from_secs(1);

/// Settings are read at start-up only. When nixweb.toml changes, the log says which of the
/// settings in force it would change and that a restart applies them, or that the file no
/// longer reads.
async fn watch_settings(app_dir: PathBuf, run: RunArgs, serve: ServeArgs, running: Settings) {
    let path = app_dir.join(AppFile::NAME);
    // Nothing seen yet: the first look compares with the settings in force, which may have
    // been read before a change that came before this task started.
    let mut seen: Option<Option<Vec<u8>>> = None;
    let mut ticks = tokio::time::interval(SETTINGS_POLL);
    loop {
        ticks.tick().await;
        let now = std::fs::read(&path).ok();
        let first = seen.is_none();
        if seen.as_ref() == Some(&now) {
            continue;
        }
        seen = Some(now);
        match Settings::resolve(&app_dir, &run, &serve) {
            Ok(wanted) if first && running.differences(&wanted).is_empty() => {}
            Err(e) => tracing::warn!(
                target: "nixweb",
                "{} changed and no longer reads ({e:#}); the server keeps the settings it started with",
                path.display()
            ),
            Ok(wanted) => {
                let changed = running.differences(&wanted);
                if changed.is_empty() {
                    tracing::info!(
                        target: "nixweb",
                        "{} changed; the settings in force are the same (flags win over the file)",
                        path.display()
                    );
                } else {
                    tracing::warn!(
                        target: "nixweb",
                        "{} changed {}; restart nixweb serve to apply it (settings are read at start-up)",
                        path.display(),
                        changed.join(", ")
                    );
                }
            }
        }
    }
}

/// Starts `nixweb serve ARGS…` inside this process on the current runtime, exactly as the
/// command would, and returns the address it listens on. For tests (see nixweb-testkit).
pub async fn start_server(args: &[&str]) -> Result<std::net::SocketAddr> {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("nixweb").chain(args.iter().copied()))?;
    let Command::Serve {
        app,
        host,
        port,
        serve,
        run,
    } = cli.command
    else {
        bail!("start_server takes the arguments of `nixweb serve`");
    };
    let signals = Signals::install()?;
    let listening = listen(&app, &host, port, &serve, &run).await?;
    let address = listening.listener.local_addr()?;
    tokio::spawn(listening.serve(signals));
    Ok(address)
}
