//! `nixweb-fuzz TARGET MINUTES [SEED]`: a fuzzing campaign (run it through `scripts/fuzz`).
//! `nixweb-fuzz differential MINUTES [SEED]`: generated programs through nixweb's
//! evaluator and `nix-instantiate --eval --strict`, counting disagreements.
//!
//! A campaign runs its cases in a child process (this binary with `--worker`), which
//! writes each input to `current` before running it: when the child dies (an abort, a
//! stack overflow), the parent keeps that input as a finding and starts a new child. The
//! child's watchdog turns a case that runs past 20 seconds (a hang) or a process grown past
//! 2 GiB (unbounded memory) into a finding too, and a panic is one. Findings go to
//! `crates/fuzz/findings/TARGET/`, where `cargo test -p nixweb-fuzz` replays every one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nixweb_fuzz::{rng::Rng, targets};

#[global_allocator]
static ALLOCATOR: nixweb_eval::alloc::Counting<std::alloc::System> =
    nixweb_eval::alloc::Counting(std::alloc::System);

/// A case running longer than this is a hang: every case's deadline is 2 seconds.
const HANG: Duration = Duration::from_secs(20);
/// A process bigger than this holds unbounded memory: every case may hold 128 MiB.
const MAX_RSS_KIB: u64 = 2 * 1024 * 1024;
/// A worker ends after this many cases and the campaign starts another, so that memory a
/// long run accumulates outside any one case (as dropped evaluators did, ~33 KB each,
/// before that was fixed) is never blamed on whatever case runs when it passes
/// `MAX_RSS_KIB`.
const CASES_PER_WORKER: u64 = 20_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--worker", target, seed, seconds, dir] => worker(
            target,
            seed.parse().expect("a seed"),
            Duration::from_secs(seconds.parse().expect("seconds")),
            Path::new(dir),
        ),
        ["differential", minutes, rest @ ..] => {
            nixweb_fuzz::differential::campaign(minutes_of(minutes), seed_of(rest))
        }
        [target, minutes, rest @ ..] if targets::TARGETS.contains(target) => {
            campaign(target, minutes_of(minutes), seed_of(rest))
        }
        _ => {
            eprintln!(
                "usage: nixweb-fuzz TARGET|differential MINUTES [SEED]\n  targets: {}",
                targets::TARGETS.join(", ")
            );
            std::process::exit(2);
        }
    }
}

fn minutes_of(text: &str) -> Duration {
    Duration::from_secs_f64(text.parse::<f64>().expect("minutes") * 60.0)
}

fn seed_of(rest: &[&str]) -> u64 {
    rest.first().map_or_else(
        || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        },
        |s| s.parse().expect("a seed"),
    )
}

/// Where a target's findings are kept (in the repository, for the replay test).
fn findings_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("findings")
        .join(target)
}

fn campaign(target: &str, length: Duration, seed: u64) {
    let work = tempfile::tempdir().expect("a work folder");
    let started = Instant::now();
    let mut seed = seed;
    let mut executions = 0u64;
    let mut findings = 0usize;
    println!(
        "fuzz {target}: {:.0} minutes from seed {seed}",
        length.as_secs_f64() / 60.0
    );
    while started.elapsed() < length {
        let left = length.saturating_sub(started.elapsed()).as_secs().max(1);
        let child = Command::new(std::env::current_exe().expect("this binary"))
            .args(["--worker", target, &seed.to_string(), &left.to_string()])
            .arg(work.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .expect("the worker starts");
        let report = String::from_utf8_lossy(&child.stdout);
        executions += report
            .lines()
            .filter_map(|l| l.strip_prefix("executions "))
            .filter_map(|n| n.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        for line in report.lines().filter(|l| l.starts_with("finding ")) {
            println!("{line}");
            findings += 1;
        }
        if !child.status.success() {
            // The worker died on the case in `current`.
            let input = std::fs::read(work.path().join("current")).unwrap_or_default();
            let name = keep_finding(target, "crash", &input);
            println!("finding crash ({}): {}", child.status, name.display());
            findings += 1;
        }
        seed = Rng::new(seed).next_u64();
    }
    println!(
        "fuzz {target}: {executions} executions, {:.1} CPU minutes, {findings} findings",
        children_cpu().as_secs_f64() / 60.0
    );
}

/// The CPU time (user and system) of the workers that ended.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Keeps `input` as a finding of `kind`, named by its content.
fn keep_finding(target: &str, kind: &str, input: &[u8]) -> PathBuf {
    let dir = findings_dir(target);
    std::fs::create_dir_all(&dir).expect("the findings folder");
    let hash = nixweb_fuzz::content_hash(input);
    let path = dir.join(format!("{kind}-{hash:016x}.input"));
    std::fs::write(&path, input).expect("the finding");
    path
}

fn worker(target: &str, seed: u64, length: Duration, dir: &Path) {
    let mut rng = Rng::new(seed);
    let current = Arc::new(Mutex::new(String::new()));
    let case_started = Arc::new(AtomicU64::new(u64::MAX));
    let epoch = Instant::now();
    watchdog(
        target.to_owned(),
        current.clone(),
        case_started.clone(),
        epoch,
    );
    // Panics are findings, not noise on stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut file = std::fs::File::create(dir.join("current")).expect("the current input");
    let mut executions = 0u64;
    let mut last_report = Instant::now();
    while epoch.elapsed() < length && executions < CASES_PER_WORKER {
        let input = targets::generate(target, &mut rng);
        use std::io::Seek;
        file.set_len(0).expect("truncate");
        file.rewind().expect("rewind");
        file.write_all(input.as_bytes()).expect("write the input");
        current.lock().expect("lock").clone_from(&input);
        case_started.store(epoch.elapsed().as_millis() as u64, Ordering::SeqCst);
        let outcome = std::panic::catch_unwind(|| targets::run(target, &input));
        case_started.store(u64::MAX, Ordering::SeqCst);
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let path = keep_finding(target, "panic", input.as_bytes());
            let first = message.lines().next().unwrap_or_default();
            println!("finding panic: {}: {first}", path.display());
        }
        executions += 1;
        if last_report.elapsed() > Duration::from_secs(2) {
            println!("executions {executions}");
            let _ = std::io::stdout().flush();
            last_report = Instant::now();
        }
    }
    println!("executions {executions}");
}

/// Turns a case that hangs, or a process that grows without bound, into a finding.
fn watchdog(target: String, current: Arc<Mutex<String>>, started: Arc<AtomicU64>, epoch: Instant) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        let since = started.load(Ordering::SeqCst);
        let hung = since != u64::MAX
            && epoch.elapsed().as_millis() as u64 > since + HANG.as_millis() as u64;
        let rss = rss_kib();
        if hung || rss > MAX_RSS_KIB {
            let kind = if hung { "hang" } else { "memory" };
            let input = current.lock().map(|c| c.clone()).unwrap_or_default();
            let path = keep_finding(&target, kind, input.as_bytes());
            println!("finding {kind}: {} ({rss} KiB)", path.display());
            let _ = std::io::stdout().flush();
            std::process::exit(0);
        }
    });
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
