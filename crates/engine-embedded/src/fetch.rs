//! `builtins.fetchurl` and `fetchTarball` for the embedded engine: a real HTTP client with a
//! host allowlist, a timeout and a size cap. Every call fetches anew (like the Nix engine's
//! `tarball-ttl 0`), so an endpoint calling an API sees fresh data on every request.

use nixweb_eval::io::FetchRequest;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Limits of fetching.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Hosts that may be fetched from (`example.com`, `127.0.0.1`, or `*` for any). Empty:
    /// fetching is off.
    pub allow_hosts: Vec<String>,
    pub timeout: Duration,
    pub max_bytes: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            allow_hosts: vec![],
            timeout: Duration::from_secs(10),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

pub struct Fetcher {
    config: FetchConfig,
    /// Downloads land here; the folder is one of the app's readable roots.
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

    fn client(&self) -> Result<&reqwest::blocking::Client, String> {
        self.client
            .get_or_init(|| {
                let allow = self.config.allow_hosts.clone();
                reqwest::blocking::Client::builder()
                    .timeout(self.config.timeout)
                    .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                        if attempt.previous().len() >= 5 {
                            attempt.error("too many redirects")
                        } else if host_allowed(&allow, attempt.url().host_str().unwrap_or("")) {
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

    /// Fetches `request`, giving up at the configured timeout or at `deadline`, whichever
    /// comes first.
    pub fn fetch(
        &self,
        request: &FetchRequest,
        deadline: Option<std::time::Instant>,
    ) -> Result<PathBuf, String> {
        let kind = request.kind.as_str();
        if !matches!(kind, "fetchurl" | "fetchTarball") {
            return Err(format!(
                "'{kind}' is not available in the embedded engine; run the app with --engine nix"
            ));
        }
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| format!("'{kind}': invalid URL '{}': {e}", request.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "'{kind}': only http and https URLs can be fetched, not '{}'",
                request.url
            ));
        }
        let host = url.host_str().unwrap_or("");
        if !host_allowed(&self.config.allow_hosts, host) {
            return Err(format!(
                "'{kind}': fetching from '{host}' is not allowed; allow it with --allow-fetch {host} (or allow-fetch in nixweb.toml)"
            ));
        }
        if kind == "fetchTarball" && request.sha256.is_some() {
            return Err("'fetchTarball' with sha256 is not verified by the embedded engine; run the app with --engine nix".into());
        }
        let mut timeout = self.config.timeout;
        if let Some(deadline) = deadline {
            timeout = timeout.min(deadline.saturating_duration_since(std::time::Instant::now()));
        }
        let bytes = self.download(&url, timeout)?;
        if let Some(expected) = &request.sha256 {
            verify_sha256(&bytes, expected, &request.url)?;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = request.name.clone().unwrap_or_else(|| base_name(&url));
        let target = self.folder.join(format!("{n}-{}", sanitise(&name)));
        match kind {
            "fetchurl" => std::fs::write(&target, &bytes)
                .map(|()| target)
                .map_err(|e| format!("'{kind}': {e}")),
            _ => unpack_tarball(&bytes, &target)
                .map_err(|e| format!("'fetchTarball' of '{}': {e}", request.url)),
        }
    }

    fn download(&self, url: &reqwest::Url, timeout: Duration) -> Result<Vec<u8>, String> {
        let response = self
            .client()?
            .get(url.clone())
            .timeout(timeout)
            .send()
            .map_err(|e| format!("unable to download '{url}': {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "unable to download '{url}': HTTP error {}",
                status.as_u16()
            ));
        }
        let mut bytes = Vec::new();
        response
            .take(self.config.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("unable to download '{url}': {e}"))?;
        if bytes.len() as u64 > self.config.max_bytes {
            return Err(format!(
                "unable to download '{url}': larger than the limit of {} bytes",
                self.config.max_bytes
            ));
        }
        Ok(bytes)
    }

    /// Deletes what this fetcher downloaded (called when no value can refer to it any more).
    pub fn clean(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.folder) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

fn host_allowed(allow: &[String], host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    allow
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(host))
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

/// Unpacks a .tar.gz (or plain .tar) into `target`; like Nix, a tarball holding one
/// top-level folder yields that folder.
fn unpack_tarball(bytes: &[u8], target: &Path) -> Result<PathBuf, String> {
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzipped {
        Box::new(flate2::read::GzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    };
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(false);
    std::fs::create_dir_all(target).map_err(|e| e.to_string())?;
    // tar's unpack refuses entries that would land outside `target`.
    archive.unpack(target).map_err(|e| e.to_string())?;
    let entries: Vec<_> = std::fs::read_dir(target)
        .map_err(|e| e.to_string())?
        .flatten()
        .collect();
    match entries.as_slice() {
        [only] if only.path().is_dir() => Ok(only.path()),
        _ => Ok(target.to_owned()),
    }
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

    #[test]
    fn only_allowed_hosts_and_schemes() {
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::new(
            FetchConfig {
                allow_hosts: vec!["example.org".into()],
                ..FetchConfig::default()
            },
            dir.path().into(),
        );
        let err = fetcher
            .fetch(&request("fetchurl", "http://127.0.0.1:1/x"), None)
            .unwrap_err();
        assert!(err.contains("--allow-fetch 127.0.0.1"), "{err}");
        assert!(fetcher
            .fetch(&request("fetchurl", "file:///etc/passwd"), None)
            .unwrap_err()
            .contains("only http"));
        assert!(fetcher
            .fetch(&request("fetchGit", "https://example.org/x.git"), None)
            .unwrap_err()
            .contains("--engine nix"));
    }

    /// Serves `body` to every connection, on loopback.
    fn serve(body: &'static [u8]) -> String {
        use std::io::{Read, Write};
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
                let _ = stream.write_all(body);
            }
        });
        url
    }

    #[test]
    fn hashes_are_verified_and_sizes_capped() {
        let dir = tempfile::tempdir().unwrap();
        let config = FetchConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            max_bytes: 10,
            ..FetchConfig::default()
        };
        let fetcher = Fetcher::new(config, dir.path().into());
        let url = serve(b"hello");
        // sha256 of "hello", in Nix's base-32 and as SRI.
        for good in [
            "sha256:094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic",
            "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
        ] {
            let mut req = request("fetchurl", &url);
            req.sha256 = Some(good.into());
            let path = fetcher.fetch(&req, None).unwrap();
            assert_eq!(std::fs::read(path).unwrap(), b"hello");
        }
        let mut bad = request("fetchurl", &url);
        bad.sha256 = Some("sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
        assert!(fetcher
            .fetch(&bad, None)
            .unwrap_err()
            .contains("hash mismatch"));
        let big = serve(b"more than ten bytes");
        assert!(fetcher
            .fetch(&request("fetchurl", &big), None)
            .unwrap_err()
            .contains("larger than the limit"));
    }

    #[test]
    fn names_cannot_escape() {
        assert_eq!(sanitise("../../etc/passwd"), ".._.._etc_passwd");
    }
}
