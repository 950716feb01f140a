//! What each subcommand does.

use crate::cli::{Cli, Command, EngineKind, RunArgs, ServeArgs};
use crate::request::RequestArgs;
use crate::settings::Settings;
use anyhow::{bail, Context, Result};
use nixweb_app::engine::Engine;
use nixweb_engine_embedded::{EmbeddedConfig, EmbeddedEngine, FetchConfig};
use nixweb_engine_nix::{NixConfig, NixEngine};
use nixweb_server::{Nixweb, ServerConfig, StateConfig};
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
            runtime.block_on(run_app_command(command))
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
            let (nixweb, listener) = listen(&app, &host, port, &serve, &run).await?;
            // Scripts read this line to learn the port when --port 0 was given.
            println!("nixweb listening on http://{}", listener.local_addr()?);
            std::io::stdout().flush()?;
            nixweb_server::http::serve(listener, nixweb).await?;
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
            let (engine, config) = open_app(&app, &ServeArgs::default(), &run)?;
            let nixweb = Nixweb::new(engine, config);
            let response = nixweb.respond(request, Some([127, 0, 0, 1].into())).await;
            crate::request::print(response).await
        }
        Command::Routes { app, run } => {
            let (engine, config) = open_app(&app, &ServeArgs::default(), &run)?;
            let routes = Nixweb::new(engine, config).routes().await?;
            let width = routes.iter().map(|r| r.pattern.len()).max().unwrap_or(0);
            for route in routes {
                println!("{:width$}  {}", route.pattern, route.methods.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(_) => unreachable!("eval runs without the async runtime"),
    }
}

/// The app's engine and the server settings, from the flags and the app's nixweb.toml.
fn open_app(
    app: &Path,
    serve: &ServeArgs,
    run: &RunArgs,
) -> Result<(Arc<dyn Engine>, ServerConfig)> {
    let entry = entry_file(app)?;
    let app_dir = entry
        .parent()
        .expect("an absolute file has a parent")
        .to_owned();
    let settings = Settings::resolve(&app_dir, run, serve)?;
    let mut config = ServerConfig::for_app_dir(app_dir);
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
            let config = NixConfig {
                options: settings.nix_options.clone(),
                show_trace: settings.show_trace || settings.dev,
                search_path: settings.include.clone(),
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
    config.dev = settings.dev;
    config.access_log = settings.access_log;
    config.workers = workers;
    config.queue = settings.queue;
    config.state = Some(StateConfig {
        url: settings.db,
        allow_get_writes: settings.allow_get_writes,
        max_value_bytes: settings.db_max_value,
        max_attempts: nixweb_server::state::DEFAULT_MAX_ATTEMPTS,
    });
    Ok((engine, config))
}

fn embedded_config(settings: &Settings, workers: usize) -> Result<EmbeddedConfig> {
    let mut env = std::collections::HashMap::new();
    for name in &settings.env {
        // A variable that is not set is simply absent, as getEnv makes it "".
        if let Ok(value) = std::env::var(name) {
            env.insert(name.clone(), value);
        }
    }
    Ok(EmbeddedConfig {
        workers,
        limits: nixweb_eval::Limits {
            max_steps: Some(settings.max_steps),
            max_depth: Some(settings.max_depth),
            max_allocs: Some(settings.max_values),
            deadline: None,
        },
        search_path: settings.include.clone(),
        env,
        fetch: FetchConfig {
            allow_hosts: settings.allow_fetch.clone(),
            ..FetchConfig::default()
        },
        response_cache: settings.response_cache,
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

/// Opens the app and binds the listening socket: everything `serve` does before serving.
async fn listen(
    app: &Path,
    host: &str,
    port: u16,
    serve: &ServeArgs,
    run: &RunArgs,
) -> Result<(Arc<Nixweb>, tokio::net::TcpListener)> {
    let (engine, config) = open_app(app, serve, run)?;
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port}"))?;
    tracing::info!(
        target: "nixweb",
        "serving {} with the {} engine ({} workers) on http://{}",
        engine.app_file().display(),
        engine.name(),
        config.workers,
        listener.local_addr()?
    );
    Ok((Arc::new(Nixweb::new(engine, config)), listener))
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
    let (nixweb, listener) = listen(&app, &host, port, &serve, &run).await?;
    let address = listener.local_addr()?;
    tokio::spawn(nixweb_server::http::serve(listener, nixweb));
    Ok(address)
}
