//! Runs each case in a child process of the runner (`nixweb-conformance run-one`), with a
//! timeout, so that a hang, a stack overflow or an abort in an engine fails that case
//! instead of taking the runner down.
//!
//! The timeout is CPU time, the case's processes' together: on a loaded machine (cases in
//! parallel, builds beside them) a heavy case such as nixpkgs' lib/tests/misc.nix in a
//! debug build took more than twice its CPU time in wall time and timed out now and then.
//! A case that waits without computing is stopped when the wall clock reaches
//! `WALL_FACTOR` times the timeout.

use crate::engine::EngineKind;
use crate::invocation::{Invocation, Outcome};
use anyhow::{Context, Result};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The fixed environment every case sees, besides what the invocation adds.
/// `NIX_REMOTE=dummy://` keeps the reference engine from touching a real store, as the
/// lang tests do; HOME and the caches are the case's own, so parallel cases share no
/// state (nor any lock on it).
fn base_env(case_dir: &Path) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
    let home = case_dir.join("home").display().to_string();
    vec![
        ("PATH".into(), path),
        ("HOME".into(), home.clone()),
        ("XDG_CACHE_HOME".into(), format!("{home}/.cache")),
        ("NIX_REMOTE".into(), "dummy://".into()),
        ("LC_ALL".into(), "C.UTF-8".into()),
    ]
}

pub struct Isolation {
    exe: PathBuf,
    engine: EngineKind,
    timeout: Duration,
    memory_limit_mb: u64,
    scratch: tempfile::TempDir,
    counter: AtomicUsize,
}

impl Isolation {
    pub fn new(engine: EngineKind, timeout: Duration, memory_limit_mb: u64) -> Result<Self> {
        let exe = std::env::current_exe().context("locating the runner's own executable")?;
        let scratch = tempfile::Builder::new()
            .prefix("nixweb-conformance-")
            .tempdir()
            .context("creating a scratch directory")?;
        Ok(Isolation {
            exe,
            engine,
            timeout,
            memory_limit_mb,
            scratch,
            counter: AtomicUsize::new(0),
        })
    }

    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// Runs one invocation in a fresh child and waits for it, at most `timeout`.
    pub fn run(&self, invocation: &Invocation) -> Outcome {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = self.scratch.path().join(format!("case-{n}"));
        match self.run_in(&dir, invocation) {
            Ok(outcome) => {
                let _ = std::fs::remove_dir_all(&dir);
                outcome
            }
            Err(err) => Outcome::runner_failure(format!("runner error: {err:#}")),
        }
    }

    fn run_in(&self, dir: &Path, invocation: &Invocation) -> Result<Outcome> {
        std::fs::create_dir_all(dir.join("home/.cache"))?;
        let request = dir.join("request.json");
        let result = dir.join("result.json");
        let child_out = dir.join("child.out");
        let child_err = dir.join("child.err");
        std::fs::write(&request, serde_json::to_vec(invocation)?)?;

        let mut command = Command::new(&self.exe);
        command
            .arg("run-one")
            .arg("--engine")
            .arg(self.engine.name())
            .arg("--request")
            .arg(&request)
            .arg("--result")
            .arg(&result)
            .arg("--memory-limit-mb")
            .arg(self.memory_limit_mb.to_string())
            .arg("--cpu-limit-secs")
            .arg((self.timeout.as_secs() + 10).to_string())
            .current_dir(&invocation.cwd)
            .env_clear()
            .envs(base_env(dir))
            // As a shell would set it; evaluators may read the cwd from here.
            .env("PWD", &invocation.cwd)
            .envs(invocation.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&child_out)?)
            .stderr(std::fs::File::create(&child_err)?)
            // Its own process group, so a timeout also kills a nix-instantiate grandchild.
            .process_group(0);
        let mut child = command.spawn().context("starting the run-one child")?;

        let started = Instant::now();
        let mut polls = 0u32;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            polls += 1;
            // CPU time is read every 100 ms (it costs a few /proc reads).
            if polls.is_multiple_of(20) && cpu_used(child.id()) >= self.timeout {
                break None;
            }
            if started.elapsed() >= self.timeout * WALL_FACTOR {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let Some(status) = status else {
            kill_group(child.id());
            let _ = child.wait();
            return Ok(Outcome::runner_failure(format!(
                "timed out after {} s",
                self.timeout.as_secs()
            )));
        };

        if let Ok(bytes) = std::fs::read(&result) {
            return serde_json::from_slice(&bytes).context("reading the child's result");
        }
        // No result: the engine crashed before reporting. Keep the end of its stderr.
        let stderr = std::fs::read_to_string(&child_err).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let how = match status.signal() {
            Some(signal) => format!("killed by signal {signal}"),
            None => format!("exited with {}", status.code().unwrap_or(-1)),
        };
        Ok(Outcome::runner_failure(format!(
            "engine crashed ({how}): {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )))
    }
}

/// How many timeouts of wall-clock time a case may take, computing or not.
const WALL_FACTOR: u32 = 3;

/// CPU time used by the process `pid`, its live descendants and the children it reaped
/// (what `/proc` says; zero for what has already gone).
fn cpu_used(pid: u32) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let mut total = 0u64;
    let mut pending = vec![pid];
    // Bounded: a fork bomb stops being counted, not the runner.
    let mut seen = 0;
    while let Some(pid) = pending.pop() {
        seen += 1;
        if seen > 256 {
            break;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The fields after the command's name (which may hold spaces) and its ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        // utime, stime, cutime, cstime: fields 14 to 17 of stat(5); here from 11.
        total += fields
            .iter()
            .skip(11)
            .take(4)
            .filter_map(|f| f.parse::<u64>().ok())
            .sum::<u64>();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                pending.extend(
                    children
                        .split_whitespace()
                        .filter_map(|c| c.parse::<u32>().ok()),
                );
            }
        }
    }
    Duration::from_millis(total * 1000 / ticks)
}

fn kill_group(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals the child's process group, which the
    // child was placed in at spawn; it has no memory-safety preconditions.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// The `run-one` side: reads the request, runs the engine here, writes the result.
pub fn run_one(
    engine: EngineKind,
    request: &Path,
    result: &Path,
    memory_limit_mb: u64,
    cpu_limit_secs: u64,
) -> Result<()> {
    if memory_limit_mb > 0 && engine == EngineKind::Embedded {
        limit(libc::RLIMIT_AS, memory_limit_mb.saturating_mul(1024 * 1024));
    }
    // The child sits in its own process group, out of reach of a Ctrl-C aimed at the
    // runner; a CPU limit ends a runaway case even if the runner is gone.
    if cpu_limit_secs > 0 {
        limit(libc::RLIMIT_CPU, cpu_limit_secs);
    }
    let invocation: Invocation = serde_json::from_slice(&std::fs::read(request)?)?;
    let outcome = crate::engine::run_here(engine, &invocation);
    // Written to a temporary name first, so a half-written result is never read.
    let partial = result.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec(&outcome)?)?;
    std::fs::rename(&partial, result)?;
    Ok(())
}

/// Sets a resource limit of this process (and of what it starts), so a runaway case
/// fails by itself instead of costing the machine.
fn limit(resource: libc::__rlimit_resource_t, value: u64) {
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass and affects only this process.
    unsafe {
        libc::setrlimit(resource, &limit);
    }
}

/// Runs `work` over `items` on `jobs` threads, keeping the order of the items.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = work(item);
                slots.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<u32> = (0..100).collect();
        let doubled = parallel_map(&items, 3, |x| x * 2);
        assert_eq!(doubled, (0..100).map(|x| x * 2).collect::<Vec<_>>());
    }
}
