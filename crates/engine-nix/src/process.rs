//! One `nix-instantiate` child: started with limits, read with bounds, killed with its
//! process group.
//!
//! The child gets an address-space-independent memory limit (`RLIMIT_DATA`, which Nix's
//! Boehm GC tolerates: it answers "error: out of memory" when it is reached, where
//! `RLIMIT_AS` made it fail at a fraction of the size, because of what it reserves), a CPU
//! limit (`RLIMIT_CPU`), and a cleared environment. It runs in its own process group, so a
//! timeout (or the request going away) kills it with everything it started. Its stdout
//! (the result) is read up to a bound; of its stderr the server keeps `trace:` messages
//! (handed to the request's [`Traces`] as they arrive, which caps them) and a bounded
//! part of the rest: the start of the error, the end of everything else.

use nixweb_app::trace::Traces;
use std::collections::VecDeque;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The largest result (the router's JSON on stdout) kept.
pub const MAX_RESULT: usize = 128 * 1024 * 1024;
/// What is kept of the error on stderr: its start, with the message and its location.
const MAX_ERROR: usize = 64 * 1024;
/// What is kept of other output on stderr (warnings, build logs): its end.
const MAX_OTHER: usize = 16 * 1024;
/// Bytes of one stderr line kept (the rest of a longer line is dropped).
const MAX_LINE: usize = 64 * 1024;

/// The resource limits of a child.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `RLIMIT_DATA`, bytes.
    pub memory: Option<u64>,
    /// `RLIMIT_CPU`, seconds.
    pub cpu_seconds: Option<u64>,
}

/// How a child ended.
pub enum Ended {
    Exited {
        status: ExitStatus,
        stdout: Vec<u8>,
        /// The error part of stderr (from its first `error:` line), bounded.
        error: String,
        /// The rest of stderr (traces excluded), its end only.
        other: String,
    },
    /// Stdout passed [`MAX_RESULT`]; the child was killed.
    ResultTooLarge,
    /// The timeout passed; the child was killed.
    TimedOut,
}

/// Runs `command` (stdin, stdout and stderr are set here) within `limits` and `timeout`.
pub async fn run(
    mut command: Command,
    limits: Limits,
    timeout: Duration,
    traces: &Traces,
) -> std::io::Result<Ended> {
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group, so a timeout can kill builders and fetchers too.
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: the closure runs between fork and exec and only calls setrlimit, which is
    // async-signal-safe; it touches no memory shared with the parent but its copied limits.
    unsafe {
        command.pre_exec(move || {
            let set = |resource, soft: u64, hard: u64| {
                let limit = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                if libc::setrlimit(resource, &limit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            };
            if let Some(bytes) = limits.memory {
                set(libc::RLIMIT_DATA, bytes, bytes)?;
            }
            if let Some(seconds) = limits.cpu_seconds {
                // SIGXCPU at the soft limit, SIGKILL a second later.
                set(libc::RLIMIT_CPU, seconds, seconds + 1)?;
            }
            Ok(())
        });
    }
    let mut child = command.spawn()?;
    let group = KillGroup(child.id().map(|pid| pid as libc::pid_t));
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let work = async {
        let (out, err, status) = tokio::join!(
            read_bounded(stdout, MAX_RESULT),
            read_stderr(stderr, traces),
            child.wait()
        );
        (out, err, status)
    };
    let ended = match tokio::time::timeout(timeout, work).await {
        Err(_) => Ended::TimedOut,
        Ok((Err(TooLarge), _, _)) => Ended::ResultTooLarge,
        Ok((Ok(stdout), (error, other), status)) => Ended::Exited {
            status: status?,
            stdout,
            error,
            other,
        },
    };
    if !matches!(ended, Ended::Exited { .. }) {
        group.kill();
    } else {
        // Reaped: the group's id may be reused, so it must not be signalled any more.
        std::mem::forget(group);
    }
    Ok(ended)
}

/// Kills the child's process group when dropped (the request went away) or asked to; only
/// while the child is not yet reaped, so its id cannot have been reused.
struct KillGroup(Option<libc::pid_t>);

impl KillGroup {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            // SAFETY: killpg only sends a signal; the group is the child's own.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
    }
}

impl Drop for KillGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

struct TooLarge;

async fn read_bounded(mut from: impl AsyncRead + Unpin, max: usize) -> Result<Vec<u8>, TooLarge> {
    let mut out = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return Ok(out),
            Ok(n) if out.len() + n > max => return Err(TooLarge),
            Ok(n) => out.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Reads stderr to its end: trace messages to `traces` as they come, the error's start and
/// the other output's end kept.
async fn read_stderr(mut from: impl AsyncRead + Unpin, traces: &Traces) -> (String, String) {
    let mut sorter = Sorter::new(traces);
    let mut line = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &byte in &buffer[..n] {
            if byte == b'\n' {
                sorter.line(&String::from_utf8_lossy(&line));
                line.clear();
            } else if line.len() < MAX_LINE {
                line.push(byte);
            }
        }
    }
    if !line.is_empty() {
        sorter.line(&String::from_utf8_lossy(&line));
    }
    sorter.finish()
}

/// Sorts stderr lines: trace messages (which may span lines) until the error starts; the
/// error; everything else.
struct Sorter<'a> {
    traces: &'a Traces,
    message: Option<String>,
    error: String,
    in_error: bool,
    other: VecDeque<String>,
    other_bytes: usize,
}

impl<'a> Sorter<'a> {
    fn new(traces: &'a Traces) -> Self {
        Sorter {
            traces,
            message: None,
            error: String::new(),
            in_error: false,
            other: VecDeque::new(),
            other_bytes: 0,
        }
    }

    fn line(&mut self, line: &str) {
        if !self.in_error && line.starts_with("error:") {
            self.flush_message();
            self.in_error = true;
        }
        if self.in_error {
            if self.error.len() + line.len() < MAX_ERROR {
                self.error.push_str(line);
                self.error.push('\n');
            }
            return;
        }
        if let Some(start) = line.strip_prefix("trace: ") {
            self.flush_message();
            self.message = Some(start.to_owned());
        } else if line.starts_with("warning: ")
            || line.starts_with("building ")
            || self.message.is_none()
        {
            self.flush_message();
            self.keep_other(line);
        } else if let Some(message) = &mut self.message {
            // A message that spans lines: bounded by the traces' own limit in the end, and
            // here by not growing past it.
            if message.len() < self.traces.limit() {
                message.push('\n');
                message.push_str(line);
            }
        }
    }

    fn flush_message(&mut self) {
        if let Some(message) = self.message.take() {
            self.traces.push(&message);
        }
    }

    fn keep_other(&mut self, line: &str) {
        self.other_bytes += line.len() + 1;
        self.other.push_back(line.to_owned());
        while self.other_bytes > MAX_OTHER {
            match self.other.pop_front() {
                Some(old) => self.other_bytes -= old.len() + 1,
                None => break,
            }
        }
    }

    fn finish(mut self) -> (String, String) {
        self.flush_message();
        let other: Vec<String> = self.other.into_iter().collect();
        (self.error, other.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_sorted_into_traces_error_and_the_rest() {
        let traces = Traces::new("r", 1000);
        let mut sorter = Sorter::new(&traces);
        for line in [
            "building '/nix/store/x.drv'...",
            "trace: one",
            "trace: two",
            "  continued",
            "warning: w",
            "error: boom",
            "trace: not a trace any more",
            "       at /a.nix:1:1:",
        ] {
            sorter.line(line);
        }
        let (error, other) = sorter.finish();
        assert_eq!(traces.kept(), ["one", "two\n  continued"]);
        assert_eq!(
            error,
            "error: boom\ntrace: not a trace any more\n       at /a.nix:1:1:\n"
        );
        assert_eq!(other, "building '/nix/store/x.drv'...\nwarning: w");
    }

    #[test]
    fn other_output_keeps_its_end_only() {
        let traces = Traces::new("r", 10);
        let mut sorter = Sorter::new(&traces);
        for n in 0..10_000 {
            sorter.line(&format!("warning: line {n}"));
        }
        let (_, other) = sorter.finish();
        assert!(
            other.len() <= MAX_OTHER && other.ends_with("line 9999"),
            "{}",
            other.len()
        );
    }

    #[tokio::test]
    async fn a_child_over_its_time_is_killed_with_its_group() {
        let traces = Traces::new("r", 10);
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut command = Command::new("sh");
        // The grandchild would outlive a kill of the child alone.
        command
            .arg("-c")
            .arg(format!("sleep 30 & echo $! > {}; wait", pid_file.display()));
        let ended = run(
            command,
            Limits {
                memory: None,
                cpu_seconds: None,
            },
            Duration::from_millis(500),
            &traces,
        )
        .await
        .unwrap();
        assert!(matches!(ended, Ended::TimedOut));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let status = format!("/proc/{}/status", pid.trim());
        let gone = || {
            std::fs::read_to_string(&status)
                .map(|s| {
                    s.lines()
                        .any(|l| l.starts_with("State:") && l.contains('Z'))
                })
                .unwrap_or(true)
        };
        let started = std::time::Instant::now();
        while !gone() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the grandchild survived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn limits_apply_to_the_child() {
        let traces = Traces::new("r", 1000);
        let mut command = Command::new("sh");
        command.args(["-c", "ulimit -d; ulimit -t; echo 'trace: hi' >&2"]);
        let limits = Limits {
            memory: Some(512 * 1024 * 1024),
            cpu_seconds: Some(7),
        };
        let Ended::Exited { stdout, status, .. } =
            run(command, limits, Duration::from_secs(20), &traces)
                .await
                .unwrap()
        else {
            panic!("the child did not exit");
        };
        assert!(status.success());
        assert_eq!(String::from_utf8(stdout).unwrap(), "524288\n7\n");
        assert_eq!(traces.kept(), ["hi"]);
    }
}
