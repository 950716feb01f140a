//! A nixweb server as a separate process, for attack tests: a hostile request may abort a
//! process, and only a child process shows that (an in-process [`crate::TestServer`] would
//! take the test down with it).
//!
//! [`ServerProcess::start`] runs the `nixweb` binary (tests pass
//! `env!("CARGO_BIN_EXE_nixweb")`) with `serve APP --port 0` and the given flags, and learns
//! the port from the line it prints. The child's standard error is kept, its last 256 KiB
//! only, so a test can show what the server logged (nixweb writes its log from a thread of
//! its own, so a line may reach the pipe a moment after the response it belongs to:
//! [`ServerProcess::stderr`] waits until the log has been quiet for a moment). After each hostile request a test calls
//! [`ServerProcess::assert_healthy`]: the process is alive, a normal request answers 200
//! within seconds, and its resident memory is under the test's bound.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much of the child's standard error is kept.
const STDERR_TAIL: usize = 256 * 1024;

/// A `nixweb serve` child process on a free loopback port; killed when dropped.
pub struct ServerProcess {
    child: Child,
    address: SocketAddr,
    /// "http" or "https", from the line the server printed.
    scheme: String,
    stderr: Arc<Mutex<Tail>>,
    client: reqwest::blocking::Client,
}

/// The end of the child's standard error, and when it last grew.
struct Tail {
    bytes: VecDeque<u8>,
    grew: Instant,
}

/// The log counts as written once it has not grown for this long.
const QUIET: Duration = Duration::from_millis(300);

impl ServerProcess {
    /// Starts `nixweb serve APP --port 0 FLAGS…` and waits (up to a minute) until it listens.
    pub fn start(binary: impl AsRef<Path>, app: impl AsRef<Path>, flags: &[&str]) -> Self {
        Self::start_with_env(binary, app, flags, &[])
    }

    /// [`ServerProcess::start`] with extra environment variables for the child.
    pub fn start_with_env(
        binary: impl AsRef<Path>,
        app: impl AsRef<Path>,
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut command = Self::command(binary, app, flags);
        for (name, value) in env {
            command.env(name, value);
        }
        Self::launch(command)
    }

    /// [`ServerProcess::start`] with the child's descriptor limit (`RLIMIT_NOFILE`) set to
    /// `soft` and `hard`, as `ulimit -Sn`/`-Hn` would before starting it.
    pub fn start_with_descriptor_limit(
        binary: impl AsRef<Path>,
        app: impl AsRef<Path>,
        flags: &[&str],
        soft: u64,
        hard: u64,
    ) -> Self {
        use std::os::unix::process::CommandExt;
        let mut command = Self::command(binary, app, flags);
        let limit = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        // SAFETY: setrlimit is async-signal-safe and touches nothing but the child's limit.
        unsafe {
            command.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        Self::launch(command)
    }

    /// `nixweb serve APP --port 0 FLAGS…`, its output piped.
    fn command(binary: impl AsRef<Path>, app: impl AsRef<Path>, flags: &[&str]) -> Command {
        let mut command = Command::new(binary.as_ref());
        command
            .arg("serve")
            .arg(app.as_ref())
            .args(["--port", "0"])
            .args(flags)
            // As a server runs in production: with RUST_BACKTRACE (which test runs often
            // set), the first panic reads the binary's debug info into memory for good,
            // hundreds of MiB for a debug build, which the RSS bounds are not about.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Starts the command and waits (up to a minute) until it listens.
    fn launch(mut command: Command) -> Self {
        let mut child = command.spawn().expect("nixweb starts");
        let stderr = Arc::new(Mutex::new(Tail {
            bytes: VecDeque::new(),
            grew: Instant::now(),
        }));
        keep_tail(child.stderr.take().expect("piped stderr"), stderr.clone());
        let (scheme, address) = wait_for_address(&mut child, &stderr);
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        ServerProcess {
            child,
            address,
            scheme,
            stderr,
            client,
        }
    }

    /// The child's descriptor limits now, (soft, hard), from /proc/PID/limits.
    pub fn descriptor_limit(&self) -> (u64, u64) {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id()))
            .unwrap_or_default();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap_or_default();
        let numbers: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        (
            numbers.first().copied().unwrap_or(0),
            numbers.get(1).copied().unwrap_or(0),
        )
    }

    /// Descriptors the child has open now.
    pub fn open_descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|entries| entries.count())
            .unwrap_or(0)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://ADDRESS/path`, or `https://…` for a server started with TLS flags.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.address)
    }

    /// The HTTP client tests use (no redirects followed, 30 s timeout).
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    /// Replaces the client that [`ServerProcess::get`] and the health check use (one that
    /// trusts a test's own CA, for a server with TLS).
    pub fn set_client(&mut self, client: reqwest::blocking::Client) {
        self.client = client;
    }

    /// GET `path`; `None` when the connection failed or timed out.
    pub fn get(&self, path: &str) -> Option<reqwest::blocking::Response> {
        self.client.get(self.url(path)).send().ok()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory of the process now (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.child.id(), "VmRSS:")
    }

    /// The largest resident memory the process has had (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    /// What the child wrote to standard error so far (its last 256 KiB), once nothing was
    /// added to it for a moment after this call (at most 3 s), so that what the server
    /// logged about a request it answered is there.
    pub fn stderr(&self) -> String {
        let called = Instant::now();
        loop {
            let tail = self.stderr.lock().expect("stderr lock");
            let quiet_since = tail.grew.max(called);
            if quiet_since.elapsed() >= QUIET || called.elapsed() >= Duration::from_secs(3) {
                let bytes: Vec<u8> = tail.bytes.iter().copied().collect();
                return String::from_utf8_lossy(&bytes).into_owned();
            }
            drop(tail);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the child's log comes to contain `needle` within `within` (log lines reach
    /// standard error through a buffer, so a line may come a moment after its event).
    pub fn wait_for_log(&self, needle: &str, within: Duration) -> bool {
        let started = Instant::now();
        loop {
            if self.stderr().contains(needle) {
                return true;
            }
            if started.elapsed() >= within {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log's lines that contain `needle`, once there is one (waiting up to 20 s);
    /// panics with the end of the log if none comes.
    pub fn log_lines(&self, needle: &str) -> String {
        assert!(
            self.wait_for_log(needle, Duration::from_secs(20)),
            "no {needle:?} in the server's log:\n{}",
            self.stderr_end()
        );
        let log = self.stderr();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(needle)).collect();
        lines.join("\n")
    }

    /// After a hostile request: the process is alive, GET `path` answers 200 within
    /// `within`, and resident memory is below `max_rss_mib`. `what` names the attack in the
    /// failure message, which also shows the end of the server's log.
    pub fn assert_healthy(&mut self, what: &str, path: &str, within: Duration, max_rss_mib: u64) {
        assert!(
            self.alive(),
            "{what}: the server process died; its log ends with:\n{}",
            self.stderr_end()
        );
        let started = Instant::now();
        let status = loop {
            let status = self
                .client
                .get(self.url(path))
                .timeout(within)
                .send()
                .map(|r| r.status().as_u16());
            match status {
                Ok(200) => break 200,
                _ if started.elapsed() < within => std::thread::sleep(Duration::from_millis(50)),
                Ok(other) => break other,
                Err(_) => break 0,
            }
        };
        assert_eq!(
            status,
            200,
            "{what}: GET {path} did not answer 200 within {within:?} (0: no answer); the log ends with:\n{}",
            self.stderr_end()
        );
        let rss_mib = self.rss_kib() / 1024;
        assert!(
            rss_mib < max_rss_mib,
            "{what}: resident memory {rss_mib} MiB, over the bound of {max_rss_mib} MiB"
        );
    }

    /// Opens a raw TCP connection to the server, for malformed or slow HTTP.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.address).expect("the server accepts connections");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        stream
    }

    /// Sends `bytes` on a fresh connection and returns what the server wrote back until it
    /// closed the connection or `wait` passed.
    pub fn raw_exchange(&self, bytes: &[u8], wait: Duration) -> Vec<u8> {
        let mut stream = self.connect();
        stream.set_read_timeout(Some(wait)).expect("a read timeout");
        // The server may answer (and close) before taking every byte; that is not an error.
        let _ = stream.write_all(bytes);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        reply
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its exit status.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        self.signal(libc_signal::SIGTERM);
        self.wait_exit(within)
    }

    /// Waits up to `within` for the process to exit; its exit status.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends a signal (a number from [`libc_signal`]) to the process.
    pub fn signal(&self, signal: i32) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// The last 4000 bytes of what the child wrote to standard error.
    pub fn stderr_end(&self) -> String {
        let all = self.stderr();
        let start = all.len().saturating_sub(4000);
        let start = (start..all.len())
            .find(|&i| all.is_char_boundary(i))
            .unwrap_or(all.len());
        all[start..].to_owned()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signal numbers on Linux, for [`ServerProcess::signal`].
pub mod libc_signal {
    pub const SIGHUP: i32 = 1;
    pub const SIGKILL: i32 = 9;
    pub const SIGTERM: i32 = 15;
}

/// Raises this process's soft descriptor limit to its hard one, for tests that open many
/// connections at once.
pub fn raise_own_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn keep_tail(mut from: impl Read + Send + 'static, into: Arc<Mutex<Tail>>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 {
                break;
            }
            let mut tail = into.lock().expect("stderr lock");
            tail.bytes.extend(&buffer[..n]);
            let excess = tail.bytes.len().saturating_sub(STDERR_TAIL);
            tail.bytes.drain(..excess);
            tail.grew = Instant::now();
        }
    });
}

/// Reads the child's stdout until "nixweb listening on http://ADDR" (or https), then drains
/// the rest in the background so the child never blocks on a full pipe.
fn wait_for_address(child: &mut Child, stderr: &Arc<Mutex<Tail>>) -> (String, SocketAddr) {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some((scheme, address)) = line
                .strip_prefix("nixweb listening on ")
                .and_then(|url| url.split_once("://"))
            {
                let _ = sender.send((scheme.to_owned(), address.trim().to_owned()));
                break;
            }
        }
        for _ in lines {}
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok((scheme, address)) => (scheme, address.parse().expect("a socket address")),
        Err(_) => {
            let _ = child.kill();
            let log = stderr.lock().expect("stderr lock");
            panic!(
                "nixweb serve did not start listening within a minute; its log:\n{}",
                String::from_utf8_lossy(&log.bytes.iter().copied().collect::<Vec<u8>>())
            );
        }
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
