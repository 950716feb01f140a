//! What each subcommand does.

use crate::cli::{Cli, Command, EngineKind, EvalArgs, RunArgs};
use crate::settings::Settings;
use anyhow::{bail, Context, Result};
use axum::body::Body;
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
        Command::Eval(args) => eval(args),
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
            run,
        } => {
            let (nixweb, listener) = listen(&app, &host, port, &run).await?;
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
            run,
        } => {
            let (engine, config) = open_app(&app, &run)?;
            let nixweb = Nixweb::new(engine, config);
            let request = build_request(&method, &path, &query, &header, data.as_deref())?;
            let response = nixweb.respond(request, Some([127, 0, 0, 1].into())).await;
            print_response(response).await
        }
        Command::Routes { app, run } => {
            let (engine, config) = open_app(&app, &run)?;
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
fn open_app(app: &Path, run: &RunArgs) -> Result<(Arc<dyn Engine>, ServerConfig)> {
    let entry = entry_file(app)?;
    let app_dir = entry
        .parent()
        .expect("an absolute file has a parent")
        .to_owned();
    let settings = Settings::resolve(&app_dir, run)?;
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
    run: &RunArgs,
) -> Result<(Arc<Nixweb>, tokio::net::TcpListener)> {
    let (engine, config) = open_app(app, run)?;
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
        run,
    } = cli.command
    else {
        bail!("start_server takes the arguments of `nixweb serve`");
    };
    let (nixweb, listener) = listen(&app, &host, port, &run).await?;
    let address = listener.local_addr()?;
    tokio::spawn(nixweb_server::http::serve(listener, nixweb));
    Ok(address)
}

fn build_request(
    method: &str,
    path: &str,
    query: &[String],
    headers: &[String],
    data: Option<&str>,
) -> Result<http::Request<Body>> {
    let method: http::Method = method
        .to_ascii_uppercase()
        .parse()
        .context("invalid method")?;
    let mut uri = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    for (i, pair) in query.iter().enumerate() {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let separator = if i == 0 && !uri.contains('?') {
            '?'
        } else {
            '&'
        };
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        uri.push_str(&format!("{separator}{}={}", encode(key), encode(value)));
    }
    let mut builder = http::Request::builder().method(method).uri(&uri);
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("header {header:?} is not 'Name: value'"))?;
        builder = builder.header(name.trim(), value.trim());
    }
    let body = match data {
        Some(file) if file.starts_with('@') => {
            std::fs::read(&file[1..]).with_context(|| format!("cannot read {}", &file[1..]))?
        }
        Some(text) => text.as_bytes().to_vec(),
        None => Vec::new(),
    };
    if !body.is_empty() {
        builder = builder.header(http::header::CONTENT_LENGTH, body.len());
    }
    builder
        .body(Body::from(body))
        .with_context(|| format!("invalid request for {uri}"))
}

async fn print_response(response: http::Response<Body>) -> Result<ExitCode> {
    let status = response.status();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "HTTP/1.1 {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )?;
    for (name, value) in response.headers() {
        writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
    }
    writeln!(out)?;
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(if status.is_success() || status.is_redirection() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `nixweb eval`: the Nix engine hands the flags to `nix-instantiate --eval` itself.
fn eval(args: EvalArgs) -> Result<ExitCode> {
    match args.engine {
        EngineKind::Embedded => {
            use nixweb_eval::{ArgValue, InstantiateOptions, OutputFormat, Source};
            let source = match (&args.expr, &args.file) {
                (Some(text), _) => Source::Expr {
                    text: text.clone(),
                    base_dir: std::env::current_dir()?,
                },
                (None, Some(file)) => Source::File(file.clone()),
                (None, None) => bail!("give a FILE or -E EXPR"),
            };
            let format = if args.json {
                OutputFormat::Json
            } else if args.xml {
                OutputFormat::Xml {
                    location: !args.no_location,
                }
            } else {
                OutputFormat::Nix
            };
            let pairs =
                |flat: &[String], make: fn(String) -> ArgValue| -> Vec<(String, ArgValue)> {
                    flat.chunks(2)
                        .map(|p| (p[0].clone(), make(p[1].clone())))
                        .collect()
                };
            // -I entries first, then NIX_PATH, as nix-instantiate orders them.
            let mut search_path = args.include.clone();
            if let Ok(nix_path) = std::env::var("NIX_PATH") {
                search_path.extend(
                    nix_path
                        .split(':')
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned),
                );
            }
            let options = InstantiateOptions {
                source,
                strict: args.strict,
                format,
                args: pairs(&args.arg, ArgValue::Expr)
                    .into_iter()
                    .chain(pairs(&args.argstr, ArgValue::Str))
                    .collect(),
                attr_paths: args.attr.clone(),
                search_path,
            };
            let output = nixweb_eval::instantiate(&options, Arc::new(nixweb_eval::StdIO));
            print!("{}", output.stdout);
            eprint!("{}", output.stderr);
            std::io::stdout().flush()?;
            Ok(ExitCode::from(output.exit_code.clamp(0, 255) as u8))
        }
        EngineKind::Nix => {
            let mut cmd = std::process::Command::new("nix-instantiate");
            cmd.arg("--eval");
            for (flag, on) in [
                ("--strict", args.strict),
                ("--json", args.json),
                ("--xml", args.xml),
                ("--no-location", args.no_location),
            ] {
                if on {
                    cmd.arg(flag);
                }
            }
            for pair in args.arg.chunks(2) {
                cmd.arg("--arg").args(pair);
            }
            for pair in args.argstr.chunks(2) {
                cmd.arg("--argstr").args(pair);
            }
            for attr in &args.attr {
                cmd.arg("-A").arg(attr);
            }
            for include in &args.include {
                cmd.arg("-I").arg(include);
            }
            match (&args.expr, &args.file) {
                (Some(expr), _) => cmd.arg("-E").arg(expr),
                (None, Some(file)) => cmd.arg(file),
                (None, None) => bail!("give a FILE or -E EXPR"),
            };
            let status = cmd.status().context(
                "cannot run nix-instantiate: install Nix (`apt-get install nix-bin` on Debian)",
            )?;
            Ok(ExitCode::from(
                status.code().unwrap_or(1).clamp(0, 255) as u8
            ))
        }
    }
}
