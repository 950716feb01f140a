//! Command-line flags.

pub use crate::settings::Size;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Said under every app command's help: the flags are not the only way to set things.
const SETTINGS_FILE_HELP: &str =
    "Every flag of serve, request and routes can also be set in nixweb.toml in the \
app's folder (e.g. `eval-timeout = 30` for --eval-timeout); a flag wins over the file. \
See docs/configuration.md.";

#[derive(Parser)]
#[command(
    name = "nixweb",
    version,
    about = "Web backends written in the Nix language",
    after_help = SETTINGS_FILE_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How log lines on stderr look: text for people, json (one object per line) for tools.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum LogFormat {
    /// One line per event; a multi-line message continues on lines that repeat its prefix.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve an app over HTTP.
    #[command(after_help = SETTINGS_FILE_HELP)]
    Serve {
        /// The app: a folder holding default.nix, or a .nix file.
        #[arg(default_value = ".")]
        app: PathBuf,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// 0 picks a free port; the address is printed on start.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Run one request through an app without a server and print the response.
    ///
    /// The response goes to stdout, log lines to stderr. Exits 0 for 2xx and 3xx
    /// responses, 1 otherwise.
    #[command(after_help = SETTINGS_FILE_HELP)]
    Request {
        /// GET, POST, …
        method: String,
        /// The path, optionally with a query: /test/my/hello?name=x
        path: String,
        #[arg(default_value = ".")]
        app: PathBuf,
        /// A query parameter, key=value (repeatable).
        #[arg(short = 'q', long = "query", value_name = "KEY=VALUE")]
        query: Vec<String>,
        /// A header, 'Name: value' (repeatable).
        #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
        header: Vec<String>,
        /// A body, as curl sends it: form-encoded (unless -H gives a Content-Type),
        /// several joined with &; @FILE reads a file (newlines dropped), @- stdin.
        #[arg(short = 'd', long = "data", value_name = "DATA")]
        data: Vec<String>,
        /// A JSON body, as curl sends it: Content-Type and Accept application/json;
        /// @FILE reads a file, @- stdin.
        #[arg(long, value_name = "JSON", conflicts_with = "data")]
        json: Vec<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print the app's route table. A subtree that fails to evaluate is listed with its error.
    #[command(after_help = SETTINGS_FILE_HELP)]
    Routes {
        #[arg(default_value = ".")]
        app: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Evaluate a Nix file or expression, printing what `nix-instantiate --eval` prints.
    Eval(EvalArgs),
}

/// Settings only a server has: how many requests it takes at once and how it logs them.
/// Like [`RunArgs`], each can also come from `nixweb.toml`.
#[derive(Args, Clone, Default)]
pub struct ServeArgs {
    /// Largest request body accepted, in bytes; larger ones get 413 [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<usize>,
    /// Evaluations that may run at once [default: one per core with the embedded engine,
    /// two per core with the nix engine].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Requests that may wait for a worker before the server answers 503 [default: 256].
    #[arg(long)]
    pub queue: Option<usize>,
    /// Log a line per request (client, method, path, status, bytes, time, user agent, id)
    /// [default: on with --dev].
    #[arg(long)]
    pub access_log: bool,
    /// Embedded engine: evaluate every request; never answer one with the stored result
    /// of an earlier request that agreed on every field its evaluation used.
    #[arg(long)]
    pub no_response_cache: bool,
    /// Seconds a client has to send a request head, from its first byte [default: 10].
    #[arg(long, value_name = "SECONDS", help_heading = "Connections")]
    pub header_timeout: Option<f64>,
    /// Seconds a connection may sit idle between requests, or a response go unread,
    /// before it is closed [default: 60].
    #[arg(long, value_name = "SECONDS", help_heading = "Connections")]
    pub idle_timeout: Option<f64>,
    /// Seconds a request body has to start arriving; --min-body-rate bytes received add a
    /// second each; slower bodies get 408 [default: 10].
    #[arg(long, value_name = "SECONDS", help_heading = "Connections")]
    pub body_timeout: Option<f64>,
    /// Bytes per second a request body must keep up [default: 8192].
    #[arg(long, value_name = "BYTES", help_heading = "Connections")]
    pub min_body_rate: Option<u64>,
    /// Connections held at once; more are answered 503 and closed [default: the
    /// descriptor limit less 256, at most 10000].
    #[arg(long, value_name = "N", help_heading = "Connections")]
    pub max_connections: Option<usize>,
    /// Seconds requests under way may take to finish after SIGTERM or Ctrl-C [default: 10].
    #[arg(long, value_name = "SECONDS", help_heading = "Connections")]
    pub shutdown_timeout: Option<f64>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key. The
    /// files are reloaded when they change.
    #[arg(long, value_name = "FILE", requires = "tls_key", help_heading = "TLS")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert", help_heading = "TLS")]
    pub tls_key: Option<PathBuf>,
    /// Ask clients for a certificate and verify it against these CA certificates (PEM);
    /// handlers see it as req.tls.clientCert. Clients without one are refused unless
    /// --tls-client-cert-optional.
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub tls_client_ca: Option<PathBuf>,
    /// With --tls-client-ca: let clients without a certificate in (req.tls.clientCert is
    /// null for them).
    #[arg(long, help_heading = "TLS")]
    pub tls_client_cert_optional: bool,
}

/// How an app is evaluated; shared by serve, request and routes. Each setting can also come
/// from `nixweb.toml` in the app's folder (see docs/configuration.md); a flag wins over it.
#[derive(Args, Clone, Default)]
pub struct RunArgs {
    /// The evaluator [default: embedded].
    #[arg(long, value_enum)]
    pub engine: Option<EngineKind>,
    /// Seconds an evaluation may take before it is stopped with 504 [default: 10].
    #[arg(long, value_name = "SECONDS")]
    pub eval_timeout: Option<f64>,
    /// Development mode: error pages show the Nix error and the source around it.
    #[arg(long)]
    pub dev: bool,
    /// Nix engine: pass `--option NAME VALUE` to Nix (repeatable).
    #[arg(long = "nix-option", num_args = 2, value_names = ["NAME", "VALUE"])]
    pub nix_option: Vec<String>,
    /// Show nixweb's own frames (its router's) in error traces too; without it, traces
    /// show only the app's.
    #[arg(long)]
    pub show_trace: bool,
    /// The state store: sqlite:PATH or postgres://… [default: sqlite:APP/nixweb.db].
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Let GET and HEAD handlers write state (refused by default).
    #[arg(long)]
    pub allow_get_writes: bool,
    /// Largest state value, in bytes of JSON [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub db_max_value: Option<usize>,
    /// Add a search path entry for <name> lookups (repeatable); NIX_PATH's entries
    /// follow these, as with nix-instantiate.
    #[arg(short = 'I', long = "include", value_name = "NAME=PATH|PATH")]
    pub include: Vec<String>,
    /// Let builtins.getEnv see this variable (repeatable; the Nix engine hides every
    /// variable unless restrict-eval is turned off).
    #[arg(long = "env", value_name = "NAME")]
    pub env: Vec<String>,
    /// Let builtins.fetchurl and fetchTarball fetch from this host (HOST, HOST:PORT or *;
    /// repeatable).
    #[arg(long = "allow-fetch", value_name = "HOST")]
    pub allow_fetch: Vec<String>,
    /// The server's memory ceiling (bytes, or with K, M, G; "off"): past it evaluations
    /// are refused with 503 and running ones stopped [default: 3/4 of the machine's or the
    /// cgroup's memory].
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<Size>,
    /// Embedded engine: seconds one fetch may take [default: 10].
    #[arg(long, value_name = "SECONDS")]
    pub fetch_timeout: Option<f64>,
    /// Embedded engine: bytes a request may download, all fetches together [default: 16M].
    #[arg(long, value_name = "SIZE")]
    pub fetch_max_bytes: Option<Size>,
    /// Embedded engine: bytes of files a request's fetchTarballs may unpack [default: 64M].
    #[arg(long, value_name = "SIZE")]
    pub fetch_max_unpacked: Option<Size>,
    /// Embedded engine: files a request's fetchTarballs may unpack [default: 10000].
    #[arg(long, value_name = "N")]
    pub fetch_max_files: Option<u64>,
    /// Nix engine: memory of each nix-instantiate (RLIMIT_DATA; bytes, or with K, M, G;
    /// "off") [default: 3/4 of the machine's memory shared by the workers, 256M-4G].
    #[arg(long, value_name = "SIZE")]
    pub nix_max_memory: Option<Size>,
    /// Nix engine: CPU seconds of each nix-instantiate [default: the eval timeout + 1].
    #[arg(long, value_name = "SECONDS")]
    pub nix_max_cpu: Option<u64>,
    /// Embedded engine: evaluation steps per request [default: 200000000]; over: 504.
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Embedded engine: nested calls per request [default: 100000]; over: 500.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Embedded engine: bytes of memory an evaluation may hold [default: 536870912];
    /// over: 500.
    #[arg(long, value_name = "BYTES")]
    pub eval_memory: Option<u64>,
    #[command(flatten)]
    pub web: WebArgs,
}

/// ETags, sessions, CSRF checks and uploads (docs/web.md); also keys of `nixweb.toml`.
#[derive(Args, Clone, Default)]
pub struct WebArgs {
    /// Send GET and HEAD answers without an ETag of nixweb's making, so no 304 for them
    /// (files keep theirs).
    #[arg(long)]
    pub no_etag: bool,
    /// A secret that signs session cookies, at least 32 bytes: file:PATH or env:NAME.
    /// Repeat to rotate: the first signs, each verifies [default: random at each start].
    #[arg(long = "session-secret", value_name = "file:PATH|env:NAME")]
    pub session_secret: Vec<String>,
    /// Seconds a session lasts after the answer that last set it [default: 1209600].
    #[arg(long, value_name = "SECONDS")]
    pub session_max_age: Option<u64>,
    /// Refuse POST, PUT, PATCH and DELETE without the session's CSRF token (403).
    #[arg(long)]
    pub csrf: bool,
    /// Most parts a multipart/form-data body may have; more: 413 [default: 100].
    #[arg(long, value_name = "N")]
    pub max_parts: Option<usize>,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq, Debug, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// nixweb's own evaluator, in process: fast, bounded, confined; no Nix needed.
    Embedded,
    /// The real Nix, one nix-instantiate process per request: for apps that build.
    Nix,
}

#[derive(Args)]
pub struct EvalArgs {
    /// A file to evaluate (default.nix of a folder).
    #[arg(conflicts_with = "expr")]
    pub file: Option<PathBuf>,
    /// Evaluate this expression instead of a file.
    #[arg(short = 'E', long = "expr")]
    pub expr: Option<String>,
    /// Evaluate deeply, as --strict does.
    #[arg(long)]
    pub strict: bool,
    /// Print the value as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the value as XML.
    #[arg(long, conflicts_with = "json")]
    pub xml: bool,
    /// With --xml, leave out source locations.
    #[arg(long, requires = "xml")]
    pub no_location: bool,
    /// Pass NAME = EXPR to a top-level function.
    #[arg(long, num_args = 2, value_names = ["NAME", "EXPR"])]
    pub arg: Vec<String>,
    /// Pass NAME = "STRING" to a top-level function.
    #[arg(long, num_args = 2, value_names = ["NAME", "STRING"])]
    pub argstr: Vec<String>,
    /// Select an attribute of the result (repeatable).
    #[arg(short = 'A', long = "attr")]
    pub attr: Vec<String>,
    /// Add a search path entry for <name> lookups (repeatable); NIX_PATH's entries follow,
    /// and <nixweb/…> is nixweb's own library.
    #[arg(short = 'I', long = "include")]
    pub include: Vec<String>,
    /// Embedded engine: let builtins.fetchurl fetch from this host, or * (repeatable).
    #[arg(long = "allow-fetch", value_name = "HOST")]
    pub allow_fetch: Vec<String>,
    /// On an error, print its enclosing frames (builtins.addErrorContext, "while evaluating …").
    #[arg(long)]
    pub show_trace: bool,
    /// Fail the evaluation at the first builtins.warn (as current Nix's abort-on-warn;
    /// NIX_ABORT_ON_WARN=1 does the same).
    #[arg(long)]
    pub abort_on_warn: bool,
    /// Let builtins.traceVerbose trace (as current Nix's trace-verbose).
    #[arg(long)]
    pub trace_verbose: bool,
    /// Warn about (warn) or refuse (fatal) /absolute and ~/home path literals (as current
    /// Nix's lint-absolute-path-literals; default ignore).
    #[arg(long, value_name = "ignore|warn|fatal")]
    pub lint_absolute_path_literals: Option<String>,
    /// The same for relative path literals not starting with `.` (lint-short-path-literals).
    #[arg(long, value_name = "ignore|warn|fatal")]
    pub lint_short_path_literals: Option<String>,
    /// The same for unquoted URLs (lint-url-literals).
    #[arg(long, value_name = "ignore|warn|fatal")]
    pub lint_url_literals: Option<String>,
    /// Fail with "stack overflow" beyond this many nested function calls (as current Nix's
    /// max-call-depth).
    #[arg(long, value_name = "N")]
    pub max_call_depth: Option<u32>,
    /// Set a Nix setting: abort-on-warn, trace-verbose, show-trace, max-call-depth or a
    /// lint-* one (repeatable).
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"])]
    pub option: Vec<String>,
    #[arg(long, value_enum, default_value_t = EngineKind::Embedded)]
    pub engine: EngineKind,
}
