//! What every attack case shares: a server process for an app written into a temporary
//! folder, and the checks after each hostile request.

pub use nixweb_testkit::process::ServerProcess;
use std::time::Duration;

/// A normal request must answer within this after any attack.
pub const RECOVERY: Duration = Duration::from_secs(10);

/// An app in a fresh temporary folder, from `(file name, contents)` pairs. Every app also
/// gets an uncached health route at `/health` (it reads the request id, so the response
/// cache never answers it).
pub fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("nixweb-attack-")
        .tempdir()
        .expect("a temporary folder");
    for (name, contents) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the app's folders");
        }
        std::fs::write(path, contents).expect("an app file");
    }
    dir
}

/// Wraps route definitions (Nix attribute bindings) into an app with `/health`.
pub fn routes(bindings: &str) -> String {
    format!("{{\n  health.GET = req: \"ok ${{req.id}}\";\n{bindings}\n}}\n")
}

/// Starts `nixweb serve` on `dir` with `flags`.
pub fn serve(dir: &tempfile::TempDir, flags: &[&str]) -> ServerProcess {
    ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), flags)
}

#[test]
fn a_fresh_server_is_healthy_and_stops_on_sigterm() {
    let dir = app(&[("default.nix", &routes(""))]);
    let mut server = serve(&dir, &[]);
    server.assert_healthy("nothing", "/health", RECOVERY, 200);
    let status = server.terminate(Duration::from_secs(10));
    assert!(status.is_some(), "the server did not stop on SIGTERM");
}

/// Starts `nixweb serve` on `dir` with `flags` and extra environment variables.
pub fn serve_with_env(
    dir: &tempfile::TempDir,
    flags: &[&str],
    env: &[(&str, &str)],
) -> ServerProcess {
    ServerProcess::start_with_env(env!("CARGO_BIN_EXE_nixweb"), dir.path(), flags, env)
}

/// What the server answers a request over one of its bounds (steps and time aside): the
/// app's error, which a retry would meet again.
pub const LIMIT_STATUS: u16 = 500;

/// The working folder (`nixweb-embedded-*` or `nixweb-nix-*`) of the server with `pid`:
/// the one whose lock file names it.
pub fn workdir_of(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("nixweb-embedded-") || n.starts_with("nixweb-nix-"))
        })
        .find(|p| {
            std::fs::read_to_string(p.join(".lock"))
                .is_ok_and(|text| text.trim() == pid.to_string())
        })
}

/// Bytes of files below `dir` and their number (links not followed).
pub fn disk_usage(dir: &std::path::Path) -> (u64, u64) {
    let (mut bytes, mut files) = (0, 0);
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            files += 1;
            if meta.is_dir() {
                folders.push(entry.path());
            } else {
                bytes += meta.len();
            }
        }
    }
    (bytes, files)
}

/// Waits up to `within` for `condition`; whether it came true.
pub fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    loop {
        if condition() {
            return true;
        }
        if started.elapsed() > within {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server's log shows `text` within a few seconds (it is written from a
/// thread of its own, so a line may follow its response by a moment).
pub fn logged(server: &ServerProcess, text: &str) -> bool {
    eventually(Duration::from_secs(5), || server.stderr().contains(text))
}

/// How a hostile upstream answers a path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Bytes(Vec<u8>),
    /// Accepts, reads the request, never answers (until the test process ends).
    Hang,
    /// Waits, then answers 200 with these bytes.
    After(Duration, Vec<u8>),
    /// Answers 200 only once this many requests for barrier paths are open at once, all
    /// of them together; 503 to each if that does not happen within 30 s.
    Barrier(usize),
}

/// A server on loopback that answers each path (matched by prefix, first match wins) as
/// its [`Reply`] says; 404 otherwise. Returns its `host:port`.
pub fn upstream(replies: Vec<(&str, Reply)>) -> String {
    use std::io::{Read, Write};
    use std::sync::{Arc, Condvar, Mutex};
    let replies: Vec<(String, Reply)> = replies
        .into_iter()
        .map(|(p, r)| (p.to_owned(), r))
        .collect();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address").to_string();
    let barrier = Arc::new((Mutex::new(0usize), Condvar::new()));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (replies, barrier) = (replies.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let reply = replies
                    .iter()
                    .find(|(p, _)| path.starts_with(p.as_str()))
                    .map(|(_, r)| r.clone());
                let answer = |stream: &mut std::net::TcpStream, status: &str, body: &[u8]| {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(body);
                };
                match reply {
                    None => answer(&mut stream, "404 Not Found", b""),
                    Some(Reply::Bytes(body)) => answer(&mut stream, "200 OK", &body),
                    Some(Reply::Hang) => std::thread::sleep(Duration::from_secs(3600)),
                    Some(Reply::After(wait, body)) => {
                        std::thread::sleep(wait);
                        answer(&mut stream, "200 OK", &body);
                    }
                    Some(Reply::Barrier(n)) => {
                        let (count, released) = &*barrier;
                        let mut open = count.lock().expect("barrier lock");
                        *open += 1;
                        released.notify_all();
                        let (open, timeout) = released
                            .wait_timeout_while(open, Duration::from_secs(30), |open| *open < n)
                            .expect("barrier lock");
                        drop(open);
                        if timeout.timed_out() {
                            answer(&mut stream, "503 Service Unavailable", b"");
                        } else {
                            answer(&mut stream, "200 OK", b"released");
                        }
                    }
                }
            });
        }
    });
    address
}

/// A server on loopback that answers every connection with a line of text where a TLS
/// handshake is expected. Returns its `host:port`.
pub fn not_tls() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address").to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.read(&mut [0u8; 4096]);
            let _ = stream.write_all(b"this is not TLS\r\n");
        }
    });
    address
}

/// An app whose routes fetch from failing upstreams on loopback: `/refused` (nobody
/// listens), `/hang` (never answers), `/tls` (no TLS where TLS is asked for), `/status`
/// (404). Returns it with the upstreams' `host:port`s, to allow.
pub fn failing_upstreams_app() -> (tempfile::TempDir, [String; 3]) {
    let host = upstream(vec![("/hang", Reply::Hang)]);
    let garbage = not_tls();
    let refused = refusing_port();
    let dir = app(&[(
        "default.nix",
        &routes(&format!(
            r#"
  refused.GET = req: builtins.readFile (builtins.fetchurl "http://{refused}/x");
  hang.GET = req: builtins.readFile (builtins.fetchurl "http://{host}/hang");
  tls.GET = req: builtins.readFile (builtins.fetchurl "https://{garbage}/x");
  status.GET = req: builtins.readFile (builtins.fetchurl "http://{host}/nothing-here");
"#
        )),
    )]);
    (dir, [refused, host, garbage])
}

/// GETs each `(path, status, cause)` of a server started with `--dev`: the status, and the
/// cause on the page and in the log; then the health check.
pub fn assert_failures(server: &mut ServerProcess, cases: &[(&str, u16, &str)], rss_mib: u64) {
    for &(path, status, cause) in cases {
        let response = server
            .get(path)
            .unwrap_or_else(|| panic!("GET {path}: no answer"));
        let got = response.status().as_u16();
        let page = response.text().unwrap_or_default();
        assert_eq!(got, status, "{path}: {page}");
        assert!(
            page.contains(cause),
            "{path}: the page names the cause: {page}"
        );
        assert!(logged(server, cause), "{path}: the log names the cause");
        server.assert_healthy(path, "/health", RECOVERY, rss_mib);
    }
}

/// A loopback port nobody listens on (bound, then closed).
pub fn refusing_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("an address").to_string()
}

/// A kind of tarball entry, for [`tarball`].
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Folder(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

/// A gzipped tarball of `entries`, names written as given (`..` and `/` included: the tar
/// crate's builder would refuse the hostile ones).
pub fn tarball(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        let (name, kind, link, data): (&str, tar::EntryType, Option<&str>, &[u8]) = match entry {
            Entry::File(name, data) => (name, tar::EntryType::Regular, None, data),
            Entry::Folder(name) => (name, tar::EntryType::Directory, None, b""),
            Entry::Symlink(name, to) => (name, tar::EntryType::Symlink, Some(to), b""),
            Entry::HardLink(name, to) => (name, tar::EntryType::Link, Some(to), b""),
        };
        header.set_entry_type(kind);
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(to) = link {
            header.set_link_name(to).expect("a short link");
        }
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, data).expect("an entry");
    }
    builder
        .into_inner()
        .expect("a tarball")
        .finish()
        .expect("gzip")
}

/// A gzipped tarball of one file of `size` zero bytes: a few hundred KiB that expand to
/// `size`. Compressed by the system's gzip, which is fast where a debug build is not.
pub fn gzip_bomb(size: u64) -> Vec<u8> {
    use std::io::Write;
    let mut header = tar::Header::new_gnu();
    header.set_path("bomb/zeros").expect("a name");
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    let mut gzip = std::process::Command::new("gzip")
        .arg("-1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    let mut input = gzip.stdin.take().expect("gzip's stdin");
    let writer = std::thread::spawn(move || {
        input.write_all(header.as_bytes()).expect("the header");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..size.div_ceil(1 << 20) {
            input.write_all(&zeros).expect("zeros");
        }
    });
    let output = gzip.wait_with_output().expect("gzip's output");
    writer.join().expect("the writer");
    output.stdout
}
