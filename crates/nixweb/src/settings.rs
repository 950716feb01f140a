//! Settings of a served app: flags first, then the app's `nixweb.toml`, then defaults.
//!
//! An app folder may hold a `nixweb.toml` so that `nixweb serve APP` alone runs it the way
//! it needs (the godbolt example needs the Nix engine and a sandbox with the host's
//! compilers). Unknown keys are errors: a misspelt limit must not silently fall back.

use crate::cli::{EngineKind, RunArgs, ServeArgs};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file's contents; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AppFile {
    pub engine: Option<EngineKind>,
    pub eval_timeout: Option<f64>,
    pub max_body: Option<usize>,
    pub workers: Option<usize>,
    pub queue: Option<usize>,
    pub dev: Option<bool>,
    pub access_log: Option<bool>,
    pub show_trace: Option<bool>,
    /// Nix engine: `--option NAME VALUE` pairs.
    #[serde(default)]
    pub nix_options: BTreeMap<String, String>,
    /// The state store; a relative `sqlite:` path is relative to the app's folder.
    pub db: Option<String>,
    pub allow_get_writes: Option<bool>,
    pub db_max_value: Option<usize>,
    /// Search path entries (`name=path` or `path`), relative to the app.
    #[serde(default)]
    pub include: Vec<String>,
    /// Environment variables `builtins.getEnv` may see.
    #[serde(default)]
    pub env: Vec<String>,
    /// Hosts `builtins.fetchurl` may fetch from.
    #[serde(default)]
    pub allow_fetch: Vec<String>,
    pub max_memory: Option<Size>,
    pub fetch_timeout: Option<f64>,
    pub fetch_max_bytes: Option<Size>,
    pub fetch_max_unpacked: Option<Size>,
    pub fetch_max_files: Option<u64>,
    pub nix_max_memory: Option<Size>,
    pub nix_max_cpu: Option<u64>,
    /// Embedded engine: answer requests from the response cache [default: true].
    pub response_cache: Option<bool>,
    pub max_steps: Option<u64>,
    pub max_depth: Option<usize>,
    pub eval_memory: Option<u64>,
    pub header_timeout: Option<f64>,
    pub idle_timeout: Option<f64>,
    pub body_timeout: Option<f64>,
    pub min_body_rate: Option<u64>,
    pub max_connections: Option<usize>,
    pub shutdown_timeout: Option<f64>,
    /// TLS: paths relative to the app's folder.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
    pub tls_client_cert_optional: Option<bool>,
    /// ETags on GET and HEAD answers [default: true].
    pub etag: Option<bool>,
    /// Session secrets (`file:PATH`, relative to the app, or `env:NAME`), the signing one first.
    #[serde(default)]
    pub session_secrets: Vec<String>,
    pub session_max_age: Option<u64>,
    pub csrf: Option<bool>,
    pub max_parts: Option<usize>,
}

impl AppFile {
    pub const NAME: &'static str = "nixweb.toml";

    /// Reads `nixweb.toml` from the app folder; an absent file is an empty one.
    pub fn read(app_dir: &Path) -> Result<AppFile> {
        let path = app_dir.join(Self::NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AppFile::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// The settings in force. Serialised only to tell two apart by the names of their
/// nixweb.toml keys ([`Settings::differences`]).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Settings {
    pub engine: EngineKind,
    pub eval_timeout: Duration,
    pub max_body: usize,
    /// None: one per core.
    pub workers: Option<usize>,
    pub queue: usize,
    pub dev: bool,
    /// A line per request in the log.
    pub access_log: bool,
    pub show_trace: bool,
    /// The file's options, then the flags' (Nix lets the later one win).
    pub nix_options: Vec<(String, String)>,
    /// The state store's URL.
    pub db: String,
    pub allow_get_writes: bool,
    pub db_max_value: usize,
    /// The file's entries, then the flags'.
    pub include: Vec<String>,
    pub env: Vec<String>,
    pub allow_fetch: Vec<String>,
    pub response_cache: bool,
    pub max_steps: u64,
    pub max_depth: usize,
    pub eval_memory: u64,
    #[serde(flatten)]
    pub web: crate::web::WebSettings,
    /// None: the default, from the machine; `Some(None)`: off.
    pub max_memory: Option<Option<u64>>,
    pub fetch_timeout: Duration,
    pub fetch_max_bytes: u64,
    pub fetch_max_unpacked: u64,
    pub fetch_max_files: u64,
    /// None: the default, from the machine and the workers; `Some(None)`: off.
    pub nix_max_memory: Option<Option<u64>>,
    /// None: the evaluation timeout, rounded up, plus one.
    pub nix_max_cpu: Option<u64>,
    /// Flattened: its fields are nixweb.toml keys too.
    #[serde(flatten)]
    pub http: HttpSettings,
}

/// How `serve` bounds connections and request bodies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HttpSettings {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_timeout: Duration,
    pub min_body_rate: u64,
    /// None: derived from the descriptor limit.
    pub max_connections: Option<usize>,
    pub shutdown_timeout: Duration,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
    pub tls_client_cert_optional: bool,
}

impl HttpSettings {
    fn merge(file: &AppFile, serve: &ServeArgs) -> Result<HttpSettings> {
        let min_body_rate = serve.min_body_rate.or(file.min_body_rate).unwrap_or(8192);
        if min_body_rate == 0 {
            bail!("min-body-rate must be at least 1 byte per second");
        }
        let max_connections = serve.max_connections.or(file.max_connections);
        if max_connections == Some(0) {
            bail!("max-connections must be at least 1");
        }
        // The flags' certificate and key go together, or the file's do: never one of each.
        let (tls_cert, tls_key) = match (&serve.tls_cert, &serve.tls_key) {
            (Some(cert), Some(key)) => (Some(cert.clone()), Some(key.clone())),
            _ => (file.tls_cert.clone(), file.tls_key.clone()),
        };
        if tls_cert.is_some() != tls_key.is_some() {
            bail!("tls-cert and tls-key go together: give both or neither");
        }
        let tls_client_ca = serve.tls_client_ca.clone().or(file.tls_client_ca.clone());
        if tls_client_ca.is_some() && tls_cert.is_none() {
            bail!("tls-client-ca needs tls-cert and tls-key");
        }
        let timeout = |name: &str, flag: Option<f64>, key: Option<f64>, default: f64| {
            seconds(name, flag.or(key), default)
        };
        Ok(HttpSettings {
            header_timeout: timeout(
                "header-timeout",
                serve.header_timeout,
                file.header_timeout,
                10.0,
            )?,
            idle_timeout: timeout("idle-timeout", serve.idle_timeout, file.idle_timeout, 60.0)?,
            body_timeout: timeout("body-timeout", serve.body_timeout, file.body_timeout, 10.0)?,
            min_body_rate,
            max_connections,
            shutdown_timeout: timeout(
                "shutdown-timeout",
                serve.shutdown_timeout,
                file.shutdown_timeout,
                10.0,
            )?,
            tls_cert,
            tls_key,
            tls_client_ca,
            tls_client_cert_optional: serve.tls_client_cert_optional
                || file.tls_client_cert_optional.unwrap_or(false),
        })
    }
}

/// A positive number of seconds, or the default.
fn seconds(name: &str, given: Option<f64>, default: f64) -> Result<Duration> {
    let seconds = given.unwrap_or(default);
    if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) {
        bail!("{name} must be a positive number of seconds, not {seconds}");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A size in bytes, written as a number, optionally with K, M, G or T (powers of 1024),
/// or `off` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub Option<u64>);

impl std::str::FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Size, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Size(None));
        }
        let (digits, shift) = match text.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => {
                let shift = match c.to_ascii_uppercase() {
                    'K' => 10,
                    'M' => 20,
                    'G' => 30,
                    'T' => 40,
                    _ => {
                        return Err(format!(
                            "'{text}': a size is bytes, or a number with K, M, G or T, or off"
                        ))
                    }
                };
                (&text[..i], shift)
            }
            _ => (text, 0),
        };
        let number: u64 = digits.trim().parse().map_err(|_| {
            format!("'{text}': a size is bytes, or a number with K, M, G or T, or off")
        })?;
        number
            .checked_mul(1 << shift)
            .map(|bytes| Size(Some(bytes)))
            .ok_or_else(|| format!("'{text}' is too large"))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Size, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Bytes(u64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Bytes(bytes) => Ok(Size(Some(bytes))),
            Written::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Settings {
    /// The names (as nixweb.toml spells them) of the settings that differ.
    pub fn differences(&self, other: &Settings) -> Vec<String> {
        let as_map = |s: &Settings| match serde_json::to_value(s) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let (mine, theirs) = (as_map(self), as_map(other));
        mine.iter()
            .filter(|(key, value)| theirs.get(*key) != Some(value))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The settings for the app in `app_dir`: `serve` holds the server's own flags (the
    /// defaults for `request` and `routes`), and NIX_PATH adds search path entries.
    pub fn resolve(app_dir: &Path, flags: &RunArgs, serve: &ServeArgs) -> Result<Settings> {
        let mut file = AppFile::read(app_dir)?;
        // Paths in the file are relative to the app; on the command line, to the shell.
        file.db = file.db.map(|url| match url.strip_prefix("sqlite:") {
            Some(path) if Path::new(path).is_relative() => {
                format!("sqlite:{}", app_dir.join(path).display())
            }
            _ => url,
        });
        file.session_secrets = crate::web::relative_to(app_dir, file.session_secrets);
        file.include = file
            .include
            .into_iter()
            .map(|entry| match entry.split_once('=') {
                Some((name, path)) if Path::new(path).is_relative() => {
                    format!("{name}={}", app_dir.join(path).display())
                }
                None if Path::new(&entry).is_relative() => {
                    app_dir.join(&entry).display().to_string()
                }
                _ => entry,
            })
            .collect();
        for path in [
            &mut file.tls_cert,
            &mut file.tls_key,
            &mut file.tls_client_ca,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() {
                *path = app_dir.join(&*path);
            }
        }
        let nix_path = std::env::var("NIX_PATH").ok();
        let mut settings = Self::merge(file, flags, serve, nix_path.as_deref())?;
        if settings.db.is_empty() {
            settings.db = format!("sqlite:{}", app_dir.join("nixweb.db").display());
        }
        Ok(settings)
    }

    /// Merges flags over the file over defaults; `db` stays empty when neither gives one.
    /// Search path entries: the file's, the flags', then NIX_PATH's (as nix-instantiate
    /// puts `-I` before NIX_PATH).
    fn merge(
        file: AppFile,
        flags: &RunArgs,
        serve: &ServeArgs,
        nix_path: Option<&str>,
    ) -> Result<Settings> {
        let eval_timeout = seconds(
            "eval-timeout",
            flags.eval_timeout.or(file.eval_timeout),
            10.0,
        )?;
        let http = HttpSettings::merge(&file, serve)?;
        if serve.workers.or(file.workers) == Some(0) {
            bail!("workers must be at least 1");
        }
        let web = crate::web::WebSettings::merge(&flags.web, &file)?;
        let mut nix_options: Vec<(String, String)> = file.nix_options.into_iter().collect();
        nix_options.extend(
            flags
                .nix_option
                .chunks(2)
                .map(|pair| (pair[0].clone(), pair[1].clone())),
        );
        let dev = flags.dev || file.dev.unwrap_or(false);
        let fetch_seconds = flags.fetch_timeout.or(file.fetch_timeout).unwrap_or(10.0);
        if !(fetch_seconds.is_finite() && fetch_seconds > 0.0) {
            bail!("the fetch timeout must be a positive number of seconds, not {fetch_seconds}");
        }
        let size = |flag: Option<Size>, key: Option<Size>, default: u64| {
            flag.or(key).map_or(default, |s| s.0.unwrap_or(u64::MAX))
        };
        Ok(Settings {
            engine: flags.engine.or(file.engine).unwrap_or(EngineKind::Embedded),
            eval_timeout,
            max_body: serve.max_body.or(file.max_body).unwrap_or(1024 * 1024),
            workers: serve.workers.or(file.workers),
            queue: serve.queue.or(file.queue).unwrap_or(256),
            dev,
            // Off unless asked for (or developing): formatting and writing a line costs about
            // a fifth of a small request's CPU (measured on hello, see BENCHMARKS.md).
            access_log: serve.access_log || file.access_log.unwrap_or(dev),
            show_trace: flags.show_trace || file.show_trace.unwrap_or(false),
            nix_options,
            db: flags.db.clone().or(file.db).unwrap_or_default(),
            allow_get_writes: flags.allow_get_writes || file.allow_get_writes.unwrap_or(false),
            db_max_value: flags
                .db_max_value
                .or(file.db_max_value)
                .unwrap_or(1024 * 1024),
            include: [
                file.include,
                flags.include.clone(),
                search_path_entries(nix_path),
            ]
            .concat(),
            env: [file.env, flags.env.clone()].concat(),
            allow_fetch: [file.allow_fetch, flags.allow_fetch.clone()].concat(),
            response_cache: !serve.no_response_cache && file.response_cache.unwrap_or(true),
            max_steps: flags.max_steps.or(file.max_steps).unwrap_or(200_000_000),
            max_depth: flags.max_depth.or(file.max_depth).unwrap_or(100_000),
            eval_memory: flags
                .eval_memory
                .or(file.eval_memory)
                .unwrap_or(512 * 1024 * 1024),
            http,
            web,
            max_memory: flags.max_memory.or(file.max_memory).map(|s| s.0),
            fetch_timeout: Duration::from_secs_f64(fetch_seconds),
            fetch_max_bytes: size(flags.fetch_max_bytes, file.fetch_max_bytes, 16 << 20),
            fetch_max_unpacked: size(flags.fetch_max_unpacked, file.fetch_max_unpacked, 64 << 20),
            fetch_max_files: flags
                .fetch_max_files
                .or(file.fetch_max_files)
                .unwrap_or(10_000),
            nix_max_memory: flags.nix_max_memory.or(file.nix_max_memory).map(|s| s.0),
            nix_max_cpu: flags.nix_max_cpu.or(file.nix_max_cpu),
        })
    }
}

/// The entries of a NIX_PATH value (`name=path` or `path`, separated by colons).
pub fn search_path_entries(nix_path: Option<&str>) -> Vec<String> {
    nix_path
        .unwrap_or_default()
        .split(':')
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> AppFile {
        toml::from_str(text).unwrap()
    }

    /// Settings from a file's text and the flags, with no server flags and no NIX_PATH.
    fn merged(text: &str, flags: &RunArgs) -> Result<Settings> {
        Settings::merge(file(text), flags, &ServeArgs::default(), None)
    }

    #[test]
    fn defaults_without_file_or_flags() {
        let s = merged("", &RunArgs::default()).unwrap();
        assert_eq!(s.engine, EngineKind::Embedded);
        assert_eq!(s.eval_timeout, Duration::from_secs(10));
        assert_eq!(
            (s.max_body, s.workers, s.queue, s.dev),
            (1024 * 1024, None, 256, false)
        );
    }

    #[test]
    fn the_file_gives_defaults_and_flags_win() {
        let f = file("engine = \"nix\"\neval-timeout = 30\nworkers = 2\n[nix-options]\nextra-sandbox-paths = \"/bin /usr\"\n");
        let flags = RunArgs {
            eval_timeout: Some(5.0),
            nix_option: vec!["timeout".into(), "20".into()],
            ..RunArgs::default()
        };
        let s = Settings::merge(f, &flags, &ServeArgs::default(), None).unwrap();
        assert_eq!(s.eval_timeout, Duration::from_secs(5), "the flag wins");
        assert_eq!(s.workers, Some(2), "the file fills what the flags leave");
        assert_eq!(
            s.nix_options,
            [
                ("extra-sandbox-paths".to_owned(), "/bin /usr".to_owned()),
                ("timeout".to_owned(), "20".to_owned())
            ]
        );
    }

    #[test]
    fn the_response_cache_is_on_unless_turned_off() {
        let merged = |text: &str, serve: ServeArgs| {
            Settings::merge(file(text), &RunArgs::default(), &serve, None).unwrap()
        };
        assert!(merged("", ServeArgs::default()).response_cache);
        assert!(!merged("response-cache = false", ServeArgs::default()).response_cache);
        let off = ServeArgs {
            no_response_cache: true,
            ..ServeArgs::default()
        };
        assert!(!merged("response-cache = true", off).response_cache);
    }

    #[test]
    fn the_access_log_is_off_unless_asked_for_or_developing() {
        let merged = |text: &str, flags: RunArgs, serve: ServeArgs| {
            Settings::merge(file(text), &flags, &serve, None).unwrap()
        };
        let none = || (RunArgs::default(), ServeArgs::default());
        let (flags, serve) = none();
        assert!(!merged("", flags, serve).access_log);
        let (flags, serve) = none();
        assert!(merged("dev = true", flags, serve).access_log);
        let (flags, serve) = none();
        assert!(merged("access-log = true", flags, serve).access_log);
        let dev = RunArgs {
            dev: true,
            ..RunArgs::default()
        };
        assert!(
            !merged("access-log = false", dev, ServeArgs::default()).access_log,
            "the file may turn it off"
        );
        let asked = ServeArgs {
            access_log: true,
            ..ServeArgs::default()
        };
        assert!(
            merged("access-log = false", RunArgs::default(), asked).access_log,
            "the flag wins"
        );
    }

    #[test]
    fn nix_path_entries_follow_the_file_and_the_flags() {
        let flags = RunArgs {
            include: vec!["flag=/f".into()],
            ..RunArgs::default()
        };
        let s = Settings::merge(
            file("include = [\"file=/a\"]"),
            &flags,
            &ServeArgs::default(),
            Some("nixpkgs=/n::/plain"),
        )
        .unwrap();
        assert_eq!(s.include, ["file=/a", "flag=/f", "nixpkgs=/n", "/plain"]);
        assert!(merged("", &RunArgs::default()).unwrap().include.is_empty());
    }

    #[test]
    fn sizes_take_units_and_off() {
        assert_eq!("1048576".parse(), Ok(Size(Some(1 << 20))));
        assert_eq!("512M".parse(), Ok(Size(Some(512 << 20))));
        assert_eq!("2g".parse(), Ok(Size(Some(2 << 30))));
        assert_eq!("off".parse(), Ok(Size(None)));
        assert!("12X".parse::<Size>().is_err() && "M".parse::<Size>().is_err());
        let s = Settings::merge(
            file("max-memory = \"1G\"\nfetch-max-bytes = 100\nnix-max-memory = \"off\""),
            &RunArgs::default(),
            &ServeArgs::default(),
            None,
        )
        .unwrap();
        assert_eq!(s.max_memory, Some(Some(1 << 30)));
        assert_eq!(s.fetch_max_bytes, 100);
        assert_eq!(s.nix_max_memory, Some(None));
        let s = merged("", &RunArgs::default()).unwrap();
        assert_eq!(
            (s.max_memory, s.fetch_max_unpacked, s.nix_max_memory),
            (None, 64 << 20, None)
        );
    }

    #[test]
    fn mistakes_are_errors() {
        assert!(
            toml::from_str::<AppFile>("eval-timout = 3").is_err(),
            "unknown keys are refused"
        );
        assert!(toml::from_str::<AppFile>("engine = \"fast\"").is_err());
        assert!(merged("eval-timeout = 0", &RunArgs::default()).is_err());
        assert!(merged("workers = 0", &RunArgs::default()).is_err());
    }

    #[test]
    fn connection_limits_from_the_file_and_flags() {
        let f = file("header-timeout = 2.5\nmax-connections = 300\nmin-body-rate = 100");
        let serve = ServeArgs {
            header_timeout: Some(1.0),
            shutdown_timeout: Some(3.0),
            ..ServeArgs::default()
        };
        let s = Settings::merge(f, &RunArgs::default(), &serve, None)
            .unwrap()
            .http;
        assert_eq!(s.header_timeout, Duration::from_secs(1), "the flag wins");
        assert_eq!(s.max_connections, Some(300));
        assert_eq!(s.min_body_rate, 100);
        assert_eq!(s.shutdown_timeout, Duration::from_secs(3));
        assert_eq!(s.idle_timeout, Duration::from_secs(60), "the default");
        for wrong in [
            "idle-timeout = 0",
            "body-timeout = -1",
            "min-body-rate = 0",
            "max-connections = 0",
        ] {
            assert!(merged(wrong, &RunArgs::default()).is_err(), "{wrong}");
        }
    }

    #[test]
    fn tls_files_from_the_file_are_relative_to_the_app_and_go_in_pairs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nixweb.toml"),
            "tls-cert = \"tls/cert.pem\"\ntls-key = \"/etc/k.pem\"\ntls-client-ca = \"ca.pem\"",
        )
        .unwrap();
        let s = Settings::resolve(dir.path(), &RunArgs::default(), &ServeArgs::default())
            .unwrap()
            .http;
        assert_eq!(s.tls_cert, Some(dir.path().join("tls/cert.pem")));
        assert_eq!(s.tls_key, Some(PathBuf::from("/etc/k.pem")));
        assert_eq!(s.tls_client_ca, Some(dir.path().join("ca.pem")));
        assert!(!s.tls_client_cert_optional);
        // The flags' pair wins as a pair.
        let serve = ServeArgs {
            tls_cert: Some("c".into()),
            tls_key: Some("k".into()),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(dir.path(), &RunArgs::default(), &serve)
            .unwrap()
            .http;
        assert_eq!(
            (s.tls_cert, s.tls_key),
            (Some("c".into()), Some("k".into()))
        );
        for wrong in [
            "tls-cert = \"c\"",
            "tls-key = \"k\"",
            "tls-client-ca = \"ca\"",
        ] {
            assert!(merged(wrong, &RunArgs::default()).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_database_defaults_beside_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::resolve(dir.path(), &RunArgs::default(), &ServeArgs::default()).unwrap();
        assert_eq!(
            s.db,
            format!("sqlite:{}", dir.path().join("nixweb.db").display())
        );
        std::fs::write(
            dir.path().join("nixweb.toml"),
            "db = \"sqlite:data/todo.db\"",
        )
        .unwrap();
        let s = Settings::resolve(dir.path(), &RunArgs::default(), &ServeArgs::default()).unwrap();
        assert_eq!(
            s.db,
            format!("sqlite:{}", dir.path().join("data/todo.db").display())
        );
        let flags = RunArgs {
            db: Some("postgres://u@h/d".into()),
            ..RunArgs::default()
        };
        assert_eq!(
            Settings::resolve(dir.path(), &flags, &ServeArgs::default())
                .unwrap()
                .db,
            "postgres://u@h/d"
        );
    }

    #[test]
    fn an_absent_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(AppFile::read(dir.path()).unwrap().engine.is_none());
        std::fs::write(dir.path().join("nixweb.toml"), "workers = \"many\"").unwrap();
        let err = format!("{:#}", AppFile::read(dir.path()).unwrap_err());
        assert!(err.contains("nixweb.toml"), "{err}");
    }
}
