//! `nixweb eval`: what `nix-instantiate --eval` prints, from either engine, with nixweb's own
//! library on the search path as `<nixweb/…>` (as apps see it).

use crate::cli::{EngineKind, EvalArgs};
use crate::settings::search_path_entries;
use anyhow::{bail, Context, Result};
use nixweb_engine_embedded::fetch::{FetchConfig, Fetcher, RequestFetches};
use nixweb_eval::io::{EvalIO, FetchRequest, FileType, StdIO};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub fn eval(args: EvalArgs) -> Result<ExitCode> {
    // Holds `<nixweb/…>` (and downloads) while the evaluation runs.
    let runtime = tempfile::Builder::new()
        .prefix("nixweb-eval-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let files =
        nixweb_app::write_runtime(runtime.path()).context("cannot write nixweb's library")?;
    let nixweb_entry = format!("nixweb={}", files.lib.display());
    match args.engine {
        EngineKind::Embedded => embedded(&args, &nixweb_entry, runtime.path()),
        EngineKind::Nix => nix(&args, &nixweb_entry),
    }
}

fn embedded(args: &EvalArgs, nixweb_entry: &str, runtime: &Path) -> Result<ExitCode> {
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
    let pairs = |flat: &[String], make: fn(String) -> ArgValue| -> Vec<(String, ArgValue)> {
        flat.chunks(2)
            .map(|p| (p[0].clone(), make(p[1].clone())))
            .collect()
    };
    // nixweb's library first (as the engines put it), then -I, then NIX_PATH, as
    // nix-instantiate orders them.
    let mut search_path = vec![nixweb_entry.to_owned()];
    search_path.extend(args.include.iter().cloned());
    search_path.extend(search_path_entries(
        std::env::var("NIX_PATH").ok().as_deref(),
    ));
    let mut settings = nixweb_eval::Settings {
        abort_on_warn: args.abort_on_warn,
        trace_verbose: args.trace_verbose,
        max_call_depth: args.max_call_depth,
        ..Default::default()
    };
    for (name, value) in [
        (
            "lint-absolute-path-literals",
            &args.lint_absolute_path_literals,
        ),
        ("lint-short-path-literals", &args.lint_short_path_literals),
        ("lint-url-literals", &args.lint_url_literals),
    ] {
        if let Some(value) = value {
            settings
                .set_option(name, value)
                .map_err(anyhow::Error::msg)?;
        }
    }
    let mut show_trace = args.show_trace;
    for pair in args.option.chunks(2) {
        let (name, value) = (&pair[0], &pair[1]);
        if name == "show-trace" {
            show_trace = matches!(value.as_str(), "true" | "yes" | "1");
        } else if !settings
            .set_option(name, value)
            .map_err(anyhow::Error::msg)?
        {
            // As Nix does with a setting it does not know.
            eprintln!("warning: unknown setting '{name}'");
        }
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
        show_trace,
        settings,
    };
    let downloads = runtime.join("downloads");
    std::fs::create_dir_all(&downloads).context("cannot create the downloads folder")?;
    let io = FetchingIO {
        fetches: std::sync::Mutex::new(
            Arc::new(Fetcher::new(
                FetchConfig {
                    allow_hosts: args.allow_fetch.clone(),
                    ..FetchConfig::default()
                },
                downloads,
            ))
            .for_request(None, None),
        ),
    };
    // The process ends right after: its heap is left to the system, as Nix does.
    let output = nixweb_eval::instantiate_then_exit(&options, Arc::new(io));
    print!("{}", output.stdout);
    eprint!("{}", output.stderr);
    std::io::stdout().flush()?;
    Ok(ExitCode::from(output.exit_code.clamp(0, 255) as u8))
}

/// The Nix engine hands the flags to `nix-instantiate --eval` itself.
fn nix(args: &EvalArgs, nixweb_entry: &str) -> Result<ExitCode> {
    let mut cmd = std::process::Command::new("nix-instantiate");
    cmd.arg("--eval");
    for (flag, on) in [
        ("--strict", args.strict),
        ("--json", args.json),
        ("--xml", args.xml),
        ("--no-location", args.no_location),
        ("--show-trace", args.show_trace),
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
    // Nix 2.8 has neither setting: it warns that it does not know them.
    for (setting, on) in [
        ("abort-on-warn", args.abort_on_warn),
        ("trace-verbose", args.trace_verbose),
    ] {
        if on {
            cmd.args(["--option", setting, "true"]);
        }
    }
    for pair in args.option.chunks(2) {
        cmd.arg("--option").args(pair);
    }
    if let Some(depth) = args.max_call_depth {
        cmd.args(["--option", "max-call-depth", &depth.to_string()]);
    }
    for (setting, value) in [
        (
            "lint-absolute-path-literals",
            &args.lint_absolute_path_literals,
        ),
        ("lint-short-path-literals", &args.lint_short_path_literals),
        ("lint-url-literals", &args.lint_url_literals),
    ] {
        if let Some(value) = value {
            cmd.args(["--option", setting, value]);
        }
    }
    for attr in &args.attr {
        cmd.arg("-A").arg(attr);
    }
    cmd.arg("-I").arg(nixweb_entry);
    for include in &args.include {
        cmd.arg("-I").arg(include);
    }
    match (&args.expr, &args.file) {
        (Some(expr), _) => cmd.arg("-E").arg(expr),
        (None, Some(file)) => cmd.arg(file),
        (None, None) => bail!("give a FILE or -E EXPR"),
    };
    let status = cmd
        .status()
        .context("cannot run nix-instantiate: install Nix (`apt-get install nix-bin` on Debian)")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// The real file system and environment, as nix-instantiate sees them, and fetches from
/// the hosts `--allow-fetch` names (the embedded engine's fetcher, with its limits).
struct FetchingIO {
    /// The whole evaluation is one "request" to the fetcher: one budget, one folder.
    fetches: std::sync::Mutex<RequestFetches>,
}

impl EvalIO for FetchingIO {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        StdIO.read_file(path)
    }
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        StdIO.read_dir(path)
    }
    fn file_type(&self, path: &Path) -> Option<FileType> {
        StdIO.file_type(path)
    }
    fn canonicalize(&self, path: &Path) -> PathBuf {
        StdIO.canonicalize(path)
    }
    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        StdIO.read_link(path)
    }
    fn is_executable(&self, path: &Path) -> bool {
        StdIO.is_executable(path)
    }
    fn get_env(&self, name: &str) -> Option<String> {
        StdIO.get_env(name)
    }
    fn current_dir(&self) -> Option<PathBuf> {
        StdIO.current_dir()
    }
    fn current_time(&self) -> i64 {
        StdIO.current_time()
    }
    fn fetch(&self, request: &FetchRequest) -> Option<Result<PathBuf, String>> {
        let mut fetches = self.fetches.lock().unwrap_or_else(|e| e.into_inner());
        Some(fetches.fetch(request))
    }
}
