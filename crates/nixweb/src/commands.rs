//! What each subcommand does.

use crate::cli::{Cli, Command, EngineKind, RunArgs, ServeArgs};
use crate::request::RequestArgs;
use crate::settings::Settings;
use anyhow::{bail, Context, Result};
use nixweb_app::engine::Engine;
use nixweb_engine_embedded::{EmbeddedConfig, EmbeddedEngine, FetchConfig};
use nixweb_engine_nix::{NixConfig, NixEngine};
use nixweb_server::connection::Timeouts;
use nixweb_server::http::ConnectionLimits;
use nixweb_server::signals::Signals;
use nixweb_server::tls::TlsFiles;
use nixweb_server::{routes, Nixweb, ServerConfig, StateConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Eval(args) => crate::eval::eval(args),
        command => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let result = runtime.block_on(run_app_command(command));
            // What is still running (connections past the shutdown timeout, lingering
            // closes, a blocking state commit) must not keep the process alive.
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
            result
        }
    }
}

async fn run_app_command(command: Command) -> Result<ExitCode> {
    match command {
        Command::Serve {
            app,
            host,
            port,
            serve,
            run,
        } => {
            // Before anything else, so that no signal finds its default action (SIGHUP's
            // kills the process).
            let signals = Signals::install().context("cannot handle signals")?;
            let listening = crate::serve::listen(&app, &host, port, &serve, &run).await?;
            // Scripts read this line to learn the port when --port 0 was given.
            println!("nixweb listening on {}", listening.url()?);
            std::io::stdout().flush()?;
            listening.serve(signals).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Request {
            method,
            path,
            app,
            query,
            header,
            data,
            json,
            run,
        } => {
            let request = crate::request::build(&RequestArgs {
                method: &method,
                path: &path,
                query: &query,
                headers: &header,
                data: &data,
                json: &json,
            })?;
            let nixweb = open_server(&app, &ServeArgs::default(), &run)?;
            let response = nixweb.respond(request, Some([127, 0, 0, 1].into())).await;
            crate::request::print(response).await
        }
        Command::Routes { app, run } => {
            let opened = open_app(&app, &ServeArgs::default(), &run)?;
            let rows = Nixweb::new(opened.engine, opened.config).routes().await?;
            print_routes(&rows)
        }
        Command::Eval(_) => unreachable!("eval runs without the async runtime"),
    }
}

/// The route table, a row per route: its pattern and methods, or `failed:` and the first
/// line of the error of a subtree that does not evaluate (the whole error goes to the log).
/// Exits 1 when a subtree failed.
fn print_routes(rows: &[routes::Row]) -> Result<ExitCode> {
    let pattern = |row: &routes::Row| match row {
        routes::Row::Route(route) => route.pattern.clone(),
        routes::Row::Failed { pattern, .. } => pattern.clone(),
    };
    let width = rows.iter().map(|r| pattern(r).len()).max().unwrap_or(0);
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for row in rows {
        match row {
            routes::Row::Route(route) => writeln!(
                out,
                "{:width$}  {}",
                route.pattern,
                route.methods.join(", ")
            )?,
            routes::Row::Failed { pattern, failure } => {
                failed = true;
                log_route_failure(pattern, failure);
                let text = failure.to_string();
                let first = text.lines().next().unwrap_or_default();
                writeln!(out, "{pattern:width$}  failed: {first}")?;
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn log_route_failure(pattern: &str, failure: &nixweb_server::render::Failure) {
    tracing::error!(target: "nixweb::routes", "the subtree {pattern} does not evaluate: {failure}");
}

/// The server of an app, as `nixweb serve` would make it from these flags, without its
/// listener: for tools that drive [`Nixweb::respond`] themselves (the `respond` example
/// profiles it).
pub fn open_server(app: &Path, serve: &ServeArgs, run: &RunArgs) -> Result<Nixweb> {
    let opened = open_app(app, serve, run)?;
    Ok(Nixweb::new(opened.engine, opened.config))
}

/// An app, ready to serve.
pub(crate) struct Opened {
    pub engine: Arc<dyn Engine>,
    pub config: ServerConfig,
    /// The settings `config` and the engine were made from.
    pub settings: Settings,
    pub app_dir: PathBuf,
}

/// The app's engine and the server settings, from the flags and the app's nixweb.toml.
pub(crate) fn open_app(app: &Path, serve: &ServeArgs, run: &RunArgs) -> Result<Opened> {
    let entry = entry_file(app)?;
    let app_dir = entry
        .parent()
        .expect("an absolute file has a parent")
        .to_owned();
    let settings = Settings::resolve(&app_dir, run, serve)?;
    let mut config = ServerConfig::for_app_dir(app_dir.clone());
    // The server's default is one worker per core.
    let cores = config.workers;
    // A Nix process spends about half its time waiting on the store rather than computing:
    // measured on 2 cores, 4 workers serve 46 requests/s where 2 serve 30 and 8 serve 27.
    // Embedded evaluations are pure CPU: one per core.
    let workers = settings.workers.unwrap_or(match settings.engine {
        EngineKind::Nix => cores * 2,
        EngineKind::Embedded => cores,
    });
    let engine: Arc<dyn Engine> = match settings.engine {
        EngineKind::Nix => {
            let restricted = !settings
                .nix_options
                .iter()
                .any(|(name, value)| name == "restrict-eval" && value == "false");
            if restricted && !settings.env.is_empty() {
                tracing::warn!(
                    target: "nixweb",
                    "the Nix engine evaluates with restrict-eval, under which builtins.getEnv gives \"\" for every \
                     variable, the --env names ({}) included; if the app needs them, turn restrict-eval off \
                     (--nix-option restrict-eval false) and lose Nix's file confinement",
                    settings.env.join(", ")
                );
            }
            let config = NixConfig {
                options: settings.nix_options.clone(),
                search_path: settings.include.clone(),
                env: visible_env(&settings).into_iter().collect(),
                allow_fetch: settings.allow_fetch.clone(),
                max_memory: settings
                    .nix_max_memory
                    .unwrap_or(Some(NixConfig::default_max_memory(workers))),
                max_cpu_seconds: settings.nix_max_cpu,
                memory: memory_ceiling(&settings),
                ..NixConfig::default()
            };
            Arc::new(NixEngine::new(&entry, config)?)
        }
        EngineKind::Embedded => Arc::new(EmbeddedEngine::new(
            &entry,
            embedded_config(&settings, workers)?,
        )?),
    };
    config.eval_timeout = settings.eval_timeout;
    config.max_body = settings.max_body;
    config.body_timeout = settings.http.body_timeout;
    config.min_body_rate = settings.http.min_body_rate;
    config.connections = ConnectionLimits {
        timeouts: Timeouts {
            header: settings.http.header_timeout,
            idle: settings.http.idle_timeout,
        },
        max_connections: settings.http.max_connections,
        shutdown_timeout: settings.http.shutdown_timeout,
    };
    config.tls = match (&settings.http.tls_cert, &settings.http.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: settings.http.tls_client_ca.clone(),
            client_cert_required: !settings.http.tls_client_cert_optional,
        }),
        _ => None,
    };
    config.dev = settings.dev;
    config.show_trace = settings.show_trace;
    config.access_log = settings.access_log;
    config.workers = workers;
    config.queue = settings.queue;
    config.etag = settings.web.etag;
    config.max_parts = settings.web.max_parts;
    config.sessions = nixweb_server::SessionConfig {
        secrets: settings.web.session_secrets.clone(),
        max_age: settings.web.session_max_age,
        csrf: settings.web.csrf,
    };
    config.state = Some(StateConfig {
        url: settings.db.clone(),
        allow_get_writes: settings.allow_get_writes,
        max_value_bytes: settings.db_max_value,
        max_attempts: nixweb_server::state::DEFAULT_MAX_ATTEMPTS,
    });
    Ok(Opened {
        engine,
        config,
        settings,
        app_dir,
    })
}

/// The `--env` variables that are set, with their values. (One that is not set is simply
/// absent, as getEnv makes it "".)
fn visible_env(settings: &Settings) -> std::collections::HashMap<String, String> {
    settings
        .env
        .iter()
        .filter_map(|name| Some((name.clone(), std::env::var(name).ok()?)))
        .collect()
}

/// `--max-memory`: the machine's default, off, or a number of bytes.
fn memory_ceiling(settings: &Settings) -> Option<nixweb_app::memory::Ceiling> {
    use nixweb_app::memory::Ceiling;
    match settings.max_memory {
        None => Some(Ceiling::for_this_machine()),
        Some(bytes) => bytes.map(Ceiling::resident),
    }
}

fn embedded_config(settings: &Settings, workers: usize) -> Result<EmbeddedConfig> {
    let env = visible_env(settings);
    Ok(EmbeddedConfig {
        workers,
        limits: nixweb_eval::Limits {
            max_steps: Some(settings.max_steps),
            max_depth: Some(settings.max_depth),
            max_memory: Some(settings.eval_memory),
            ..EmbeddedConfig::default_limits()
        },
        search_path: settings.include.clone(),
        env,
        fetch: FetchConfig {
            allow_hosts: settings.allow_fetch.clone(),
            timeout: settings.fetch_timeout,
            max_bytes: settings.fetch_max_bytes,
            max_unpacked_bytes: settings.fetch_max_unpacked,
            max_files: settings.fetch_max_files,
        },
        response_cache: settings.response_cache,
        memory: memory_ceiling(settings),
    })
}

/// A folder means its default.nix; the result is absolute, so Nix can import it from anywhere.
fn entry_file(app: &Path) -> Result<PathBuf> {
    let path = if app.is_dir() {
        app.join("default.nix")
    } else {
        app.to_owned()
    };
    let path = path.canonicalize().with_context(|| {
        format!(
            "no app at {}: expected a folder with default.nix, or a .nix file",
            path.display()
        )
    })?;
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    Ok(path)
}

pub use crate::serve::start_server;
