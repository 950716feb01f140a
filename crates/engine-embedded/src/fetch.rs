//! `builtins.fetchurl` and `fetchTarball` for the embedded engine: a real HTTP client with a
//! host allowlist, a timeout and a budget per request. Every call fetches anew (like the
//! Nix engine's `tarball-ttl 0`), so an endpoint calling an API sees fresh data on every
//! request.
//!
//! Each request fetches into a folder of its own ([`RequestFetches`]), created on its first
//! fetch and removed when the request ends, by that request only; its downloads and
//! unpacked files together are bounded in bytes and entries ([`FetchConfig`]), and no
//! fetch outlasts the request's deadline. A failure says what kind it was
//! ([`FetchFailure`]), so the engine can answer 502 for an upstream that failed and 504 for
//! one that did not answer in time.

use crate::unpack::{self, UnpackError};
use nixweb_app::engine::Bound;
use nixweb_eval::io::FetchRequest;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Limits of fetching; the byte and entry bounds are per request, all its fetches together.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Hosts that may be fetched from (`example.com`, `127.0.0.1`, or `*` for any). Empty:
    /// fetching is off.
    pub allow_hosts: Vec<String>,
    /// How long one download may take (never past the request's deadline).
    pub timeout: Duration,
    /// Bytes a request may download.
    pub max_bytes: u64,
    /// Bytes of files a request's `fetchTarball`s may unpack.
    pub max_unpacked_bytes: u64,
    /// Files, folders and links a request's `fetchTarball`s may unpack.
    pub max_files: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            allow_hosts: vec![],
            timeout: Duration::from_secs(10),
            max_bytes: 16 * 1024 * 1024,
            max_unpacked_bytes: 64 * 1024 * 1024,
            max_files: 10_000,
        }
    }
}

/// What kind of failure a fetch had, for the answer the request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The app asked for something it may not (a host not allowed, a bad URL): its error.
    App,
    /// The upstream failed: refused, DNS, TLS, an HTTP error status, a broken transfer.
    Upstream,
    /// The upstream did not answer in time.
    Timeout,
    /// Over the request's fetch budget: this part of it.
    Budget(Bound),
    /// The request's deadline passed, or the server stopped evaluations (memory).
    Stopped,
}

#[derive(Debug, Clone)]
pub struct FetchFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl FetchFailure {
    fn new(kind: FailureKind, message: impl Into<String>) -> FetchFailure {
        FetchFailure {
            kind,
            message: message.into(),
        }
    }
}

pub struct Fetcher {
    config: FetchConfig,
    /// Requests' download folders are made here.
    folder: PathBuf,
    /// Built on first use, on an evaluation thread (the blocking client must not be
    /// created inside the async runtime).
    client: OnceLock<Result<reqwest::blocking::Client, String>>,
    counter: AtomicU64,
}

impl Fetcher {
    pub fn new(config: FetchConfig, folder: PathBuf) -> Fetcher {
        Fetcher {
            config,
            folder,
            client: OnceLock::new(),
            counter: AtomicU64::new(0),
        }
    }

    /// A fetcher that refuses everything (for tests).
    pub fn disabled() -> Fetcher {
        Fetcher::new(FetchConfig::default(), std::env::temp_dir())
    }

    /// The fetches of one request, which must end by `deadline`; `interrupt` stops them
    /// too (the memory ceiling).
    pub fn for_request(
        self: &Arc<Self>,
        deadline: Option<Instant>,
        interrupt: Option<Arc<AtomicBool>>,
    ) -> RequestFetches {
        RequestFetches {
            fetcher: self.clone(),
            folder: None,
            deadline,
            interrupt,
            used: Used::default(),
            last_failure: None,
        }
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, String> {
        self.client
            .get_or_init(|| {
                let allow = self.config.allow_hosts.clone();
                reqwest::blocking::Client::builder()
                    .timeout(self.config.timeout)
                    .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                        if attempt.previous().len() >= 5 {
                            attempt.error("too many redirects")
                        } else if host_allowed(&allow, attempt.url()) {
                            attempt.follow()
                        } else {
                            attempt.error("redirect to a host that is not allowed")
                        }
                    }))
                    .build()
                    .map_err(|e| format!("cannot create the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// What a request's fetches used so far.
#[derive(Debug, Default, Clone, Copy)]
struct Used {
    downloaded: u64,
    unpacked: unpack::Used,
}

/// One request's fetches: its folder (removed when this is dropped), its budget, its
/// deadline.
pub struct RequestFetches {
    fetcher: Arc<Fetcher>,
    folder: Option<PathBuf>,
    deadline: Option<Instant>,
    interrupt: Option<Arc<AtomicBool>>,
    used: Used,
    last_failure: Option<FetchFailure>,
}

impl RequestFetches {
    /// The request's download folder, once it fetched something.
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// Sets the deadline and interrupt of fetches made before the request began (while the
    /// app was loaded for it).
    pub fn limit(&mut self, deadline: Instant, interrupt: Option<Arc<AtomicBool>>) {
        self.deadline = Some(deadline);
        self.interrupt = interrupt;
    }

    /// The last fetch that failed in this request.
    pub fn last_failure(&self) -> Option<&FetchFailure> {
        self.last_failure.as_ref()
    }

    pub fn fetch(&mut self, request: &FetchRequest) -> Result<PathBuf, String> {
        let result = self.try_fetch(request);
        if let Err(failure) = &result {
            self.last_failure = Some(failure.clone());
        }
        result.map_err(|failure| failure.message)
    }

    fn try_fetch(&mut self, request: &FetchRequest) -> Result<PathBuf, FetchFailure> {
        use FailureKind::*;
        let config = &self.fetcher.config;
        let kind = request.kind.as_str();
        if !matches!(kind, "fetchurl" | "fetchTarball") {
            return Err(FetchFailure::new(
                App,
                format!(
                "'{kind}' is not available in the embedded engine; run the app with --engine nix"
            ),
            ));
        }
        let url = reqwest::Url::parse(&request.url).map_err(|e| {
            FetchFailure::new(App, format!("'{kind}': invalid URL '{}': {e}", request.url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchFailure::new(
                App,
                format!(
                    "'{kind}': only http and https URLs can be fetched, not '{}'",
                    request.url
                ),
            ));
        }
        let host = url.host_str().unwrap_or("");
        if !host_allowed(&config.allow_hosts, &url) {
            return Err(FetchFailure::new(App, format!(
                "'{kind}': fetching from '{host}' is not allowed; allow it with --allow-fetch {host} (or allow-fetch in nixweb.toml)"
            )));
        }
        if kind == "fetchTarball" && request.sha256.is_some() {
            return Err(FetchFailure::new(App, "'fetchTarball' with sha256 is not verified by the embedded engine; run the app with --engine nix"));
        }
        let mut timeout = config.timeout;
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FetchFailure::new(
                    Stopped,
                    format!("'{kind}' of '{url}': the request's time is up"),
                ));
            }
            timeout = timeout.min(left);
        }
        let left = config.max_bytes.saturating_sub(self.used.downloaded);
        let bytes = download(
            self.fetcher
                .client()
                .map_err(|e| FetchFailure::new(Upstream, e))?,
            &url,
            timeout,
            left,
        )
        .map_err(|mut failure| {
            if failure.kind == Budget(Bound::FetchBytes) {
                failure.message = format!(
                    "{}: a request may download {} bytes in all",
                    failure.message, config.max_bytes
                );
            }
            failure
        })?;
        self.used.downloaded += bytes.len() as u64;
        if let Some(expected) = &request.sha256 {
            verify_sha256(&bytes, expected, &request.url)
                .map_err(|e| FetchFailure::new(Upstream, e))?;
        }
        let folder = self
            .make_folder()
            .map_err(|e| FetchFailure::new(Upstream, e))?;
        let n = self.fetcher.counter.fetch_add(1, Ordering::Relaxed);
        let name = request.name.clone().unwrap_or_else(|| base_name(&url));
        let target = folder.join(format!("{n}-{}", sanitise(&name)));
        if kind == "fetchurl" {
            return std::fs::write(&target, &bytes)
                .map(|()| target)
                .map_err(|e| FetchFailure::new(Upstream, format!("'{kind}': {e}")));
        }
        self.unpack(&bytes, &target).map_err(|mut failure| {
            failure.message = format!("'fetchTarball' of '{url}': {}", failure.message);
            failure
        })
    }

    /// The request's folder, made on first use below the fetcher's.
    fn make_folder(&mut self) -> Result<PathBuf, String> {
        if let Some(folder) = &self.folder {
            return Ok(folder.clone());
        }
        let n = self.fetcher.counter.fetch_add(1, Ordering::Relaxed);
        let folder = self.fetcher.folder.join(format!("request-{n}"));
        std::fs::create_dir(&folder).map_err(|e| format!("cannot make a download folder: {e}"))?;
        let folder = folder.canonicalize().map_err(|e| e.to_string())?;
        self.folder = Some(folder.clone());
        Ok(folder)
    }

    fn unpack(&mut self, bytes: &[u8], target: &Path) -> Result<PathBuf, FetchFailure> {
        let config = &self.fetcher.config;
        let bounds = unpack::Bounds {
            max_bytes: config
                .max_unpacked_bytes
                .saturating_sub(self.used.unpacked.bytes),
            max_entries: config.max_files.saturating_sub(self.used.unpacked.entries),
            deadline: self.deadline,
            interrupt: self.interrupt.clone(),
        };
        match unpack::unpack(bytes, target, &bounds) {
            Ok((path, used)) => {
                self.used.unpacked.bytes += used.bytes;
                self.used.unpacked.entries += used.entries;
                Ok(path)
            }
            Err(e) => {
                // What was unpacked goes at once, not with the request.
                let _ = std::fs::remove_dir_all(target);
                Err(match e {
                    UnpackError::Limit(bound, what) => FetchFailure::new(FailureKind::Budget(bound), format!(
                        "cannot unpack: {what}, over what is left of the request's budget \
                         ({} bytes of files and {} entries in all)",
                        config.max_unpacked_bytes, config.max_files
                    )),
                    UnpackError::Stopped => FetchFailure::new(FailureKind::Stopped, "unpacking was stopped: the request's time is up or the server is short of memory"),
                    UnpackError::Invalid(why) => FetchFailure::new(FailureKind::Upstream, format!("refused: {why}")),
                })
            }
        }
    }
}

impl Drop for RequestFetches {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

/// Downloads `url` into memory: at most `max_bytes`, within `timeout`.
fn download(
    client: &reqwest::blocking::Client,
    url: &reqwest::Url,
    timeout: Duration,
    max_bytes: u64,
) -> Result<Vec<u8>, FetchFailure> {
    let failed = |e: &reqwest::Error| upstream_failure(url, timeout, e);
    let response = client
        .get(url.clone())
        .timeout(timeout)
        .send()
        .map_err(|e| failed(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchFailure::new(
            FailureKind::Upstream,
            format!("unable to download '{url}': HTTP error {}", status.as_u16()),
        ));
    }
    let mut bytes = Vec::new();
    response
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(
            |e| match e.get_ref().and_then(|e| e.downcast_ref::<reqwest::Error>()) {
                Some(e) => failed(e),
                None if e.kind() == std::io::ErrorKind::TimedOut => FetchFailure::new(
                    FailureKind::Timeout,
                    format!("unable to download '{url}': no complete answer within {timeout:?}"),
                ),
                None => FetchFailure::new(
                    FailureKind::Upstream,
                    format!("unable to download '{url}': {e}"),
                ),
            },
        )?;
    if bytes.len() as u64 > max_bytes {
        return Err(FetchFailure::new(
            FailureKind::Budget(Bound::FetchBytes),
            format!(
            "unable to download '{url}': larger than the {max_bytes} bytes the request has left"
        ),
        ));
    }
    Ok(bytes)
}

/// A failed transfer, named by its cause: what a person fixing it looks for first.
fn upstream_failure(url: &reqwest::Url, timeout: Duration, e: &reqwest::Error) -> FetchFailure {
    if e.is_timeout() {
        return FetchFailure::new(
            FailureKind::Timeout,
            format!("unable to download '{url}': no complete answer within {timeout:?}"),
        );
    }
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    let all = chain.join(": ").to_ascii_lowercase();
    let cause = if all.contains("connection refused") {
        "connection refused"
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        "DNS lookup failed"
    } else if [
        "tls",
        "certificate",
        "handshake",
        "invalid message",
        "corrupt message",
        "peer",
    ]
    .iter()
    .any(|word| all.contains(word))
    {
        "TLS failed"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "the transfer failed"
    };
    let detail = if chain.is_empty() {
        e.to_string()
    } else {
        chain.join(": ")
    };
    FetchFailure::new(
        FailureKind::Upstream,
        format!("unable to download '{url}': {cause} ({detail})"),
    )
}

/// Whether `url` may be fetched: an entry `host` allows any port of that host,
/// `host:port` that port only, `*` everything.
fn host_allowed(allow: &[String], url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let with_port = url
        .port_or_known_default()
        .map(|port| format!("{host}:{port}"));
    allow.iter().any(|a| {
        a == "*"
            || a.eq_ignore_ascii_case(host)
            || with_port
                .as_ref()
                .is_some_and(|hp| a.eq_ignore_ascii_case(hp))
    })
}

fn base_name(url: &reqwest::Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back().map(str::to_owned))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "download".into())
}

/// A file name that cannot escape the download folder.
fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn verify_sha256(bytes: &[u8], expected: &str, url: &str) -> Result<(), String> {
    use nixweb_store::{Hash, HashAlgo};
    let wanted = Hash::parse_any(expected, Some(HashAlgo::Sha256))
        .map_err(|e| format!("invalid sha256 '{expected}': {e}"))?;
    if Hash::digest(HashAlgo::Sha256, bytes) != wanted {
        return Err(format!("hash mismatch in file downloaded from '{url}': the content does not match sha256 '{expected}'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: &str, url: &str) -> FetchRequest {
        FetchRequest {
            kind: kind.into(),
            url: url.into(),
            name: None,
            sha256: None,
            rev: None,
            git_ref: None,
        }
    }

    fn fetcher(dir: &Path, config: FetchConfig) -> Arc<Fetcher> {
        Arc::new(Fetcher::new(config, dir.into()))
    }

    fn loopback() -> FetchConfig {
        FetchConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            ..FetchConfig::default()
        }
    }

    #[test]
    fn only_allowed_hosts_and_schemes() {
        let dir = tempfile::tempdir().unwrap();
        let fetcher = fetcher(
            dir.path(),
            FetchConfig {
                allow_hosts: vec!["example.org".into()],
                ..FetchConfig::default()
            },
        );
        let mut fetches = fetcher.for_request(None, None);
        let err = fetches
            .fetch(&request("fetchurl", "http://127.0.0.1:1/x"))
            .unwrap_err();
        assert!(err.contains("--allow-fetch 127.0.0.1"), "{err}");
        assert_eq!(fetches.last_failure().unwrap().kind, FailureKind::App);
        assert!(fetches
            .fetch(&request("fetchurl", "file:///etc/passwd"))
            .unwrap_err()
            .contains("only http"));
        assert!(fetches
            .fetch(&request("fetchGit", "https://example.org/x.git"))
            .unwrap_err()
            .contains("--engine nix"));
    }

    /// Serves `body` to every connection, on loopback.
    fn serve(body: Vec<u8>) -> String {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/data", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.read(&mut [0u8; 4096]);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        url
    }

    #[test]
    fn hashes_are_verified_and_sizes_capped_per_request() {
        let dir = tempfile::tempdir().unwrap();
        let fetcher = fetcher(
            dir.path(),
            FetchConfig {
                max_bytes: 12,
                ..loopback()
            },
        );
        let url = serve(b"hello".to_vec());
        // sha256 of "hello", in Nix's base-32 and as SRI.
        let mut fetches = fetcher.for_request(None, None);
        for good in [
            "sha256:094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic",
            "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
        ] {
            let mut req = request("fetchurl", &url);
            req.sha256 = Some(good.into());
            let path = fetches.fetch(&req).unwrap();
            assert_eq!(std::fs::read(path).unwrap(), b"hello");
        }
        // Two fetches of 5 bytes used 10 of the 12: a third does not fit.
        let err = fetches.fetch(&request("fetchurl", &url)).unwrap_err();
        assert!(
            err.contains("larger than the 2 bytes the request has left"),
            "{err}"
        );
        assert_eq!(
            fetches.last_failure().unwrap().kind,
            FailureKind::Budget(Bound::FetchBytes)
        );
        // A new request has its whole budget again.
        let mut next = fetcher.for_request(None, None);
        let mut bad = request("fetchurl", &url);
        bad.sha256 = Some("sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
        assert!(next.fetch(&bad).unwrap_err().contains("hash mismatch"));
    }

    #[test]
    fn each_request_has_its_own_folder_and_removes_only_it() {
        let dir = tempfile::tempdir().unwrap();
        let fetcher = fetcher(dir.path(), loopback());
        let url = serve(b"data".to_vec());
        let mut first = fetcher.for_request(None, None);
        let mut second = fetcher.for_request(None, None);
        let a = first.fetch(&request("fetchurl", &url)).unwrap();
        let b = second.fetch(&request("fetchurl", &url)).unwrap();
        assert_ne!(first.folder(), second.folder());
        drop(first);
        assert!(!a.exists(), "a request's downloads go with it");
        assert_eq!(
            std::fs::read(&b).unwrap(),
            b"data",
            "another request's stay"
        );
    }

    #[test]
    fn failures_say_their_cause() {
        let dir = tempfile::tempdir().unwrap();
        let fetcher = fetcher(
            dir.path(),
            FetchConfig {
                timeout: Duration::from_millis(500),
                ..loopback()
            },
        );
        let mut fetches = fetcher.for_request(None, None);
        // Refused: a port nobody listens on any more.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let err = fetches
            .fetch(&request("fetchurl", &format!("http://127.0.0.1:{port}/x")))
            .unwrap_err();
        assert!(err.contains("connection refused"), "{err}");
        assert_eq!(fetches.last_failure().unwrap().kind, FailureKind::Upstream);
        // Hanging: accepts, never answers.
        let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", hanging.local_addr().unwrap());
        let err = fetches.fetch(&request("fetchurl", &url)).unwrap_err();
        assert!(err.contains("no complete answer"), "{err}");
        assert_eq!(fetches.last_failure().unwrap().kind, FailureKind::Timeout);
        // Not TLS where TLS was asked for.
        let plain = serve(b"not tls".to_vec()).replace("http://", "https://");
        let err = fetches.fetch(&request("fetchurl", &plain)).unwrap_err();
        assert!(err.contains("TLS failed"), "{err}");
        drop(hanging);
    }

    #[test]
    fn an_entry_with_a_port_allows_that_port_only() {
        let allow = ["example.org".to_owned(), "127.0.0.1:8080".to_owned()];
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(host_allowed(&allow, &url("http://example.org:81/x")));
        assert!(host_allowed(&allow, &url("http://127.0.0.1:8080/x")));
        assert!(!host_allowed(&allow, &url("http://127.0.0.1:8081/x")));
        assert!(!host_allowed(&allow, &url("http://example.org.evil/x")));
    }

    #[test]
    fn names_cannot_escape() {
        assert_eq!(sanitise("../../etc/passwd"), ".._.._etc_passwd");
    }
}
