//! The process-wide memory ceiling (`--max-memory`): past it, new evaluations are refused
//! with 503 and running ones are stopped, before the kernel's OOM killer would act.
//!
//! Per-request budgets bound what one evaluation may allocate, but several requests at
//! their budgets at once, or memory no budget counts, could still exhaust the machine, and
//! then the kernel kills the whole server. A [`MemoryGuard`] samples the server's resident
//! memory from a thread of its own (every 50 ms, every 10 ms once past half the ceiling)
//! and raises a flag while it is over; engines check the flag before each evaluation, and
//! the evaluator checks it while it runs. The flag goes down again once memory is back
//! under nine tenths of the ceiling, so a server at the edge does not flap.
//!
//! Memory freed is given back to the system at the allocator's pace; the binary, whose
//! choice the allocator is, says how to give it back at once ([`set_release`]), and
//! engines call [`release`] where waiting would leave much of it resident (an idle
//! thread's freed memory may stay with that thread until it allocates again).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// How this process gives memory it freed back to the system at once.
static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Says how to give freed memory back at once. Only the first call counts.
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Gives what the calling thread freed back to the system, if the binary said how.
pub fn release() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

/// The bound: resident memory, and virtual size when the process has an `RLIMIT_AS`
/// (allocations fail there first, whatever is resident).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceiling {
    pub resident: u64,
    pub virtual_size: Option<u64>,
}

impl Ceiling {
    /// A ceiling on resident memory alone, in bytes.
    pub fn resident(bytes: u64) -> Ceiling {
        Ceiling {
            resident: bytes,
            virtual_size: None,
        }
    }

    /// Three quarters of what this process may use before something kills it or its
    /// allocations fail: the machine's memory, its cgroup's `memory.max`, `RLIMIT_DATA`,
    /// and (for virtual size) `RLIMIT_AS`, whichever are smallest. The quarter left is room
    /// for what the ceiling reacts to too late (it samples) and for the rest of the system.
    pub fn for_this_machine() -> Ceiling {
        let limits = [mem_total(), cgroup_limit(), rlimit(libc::RLIMIT_DATA)];
        let smallest = limits.into_iter().flatten().min().unwrap_or(u64::MAX);
        Ceiling {
            resident: smallest / 4 * 3,
            virtual_size: rlimit(libc::RLIMIT_AS).map(|limit| limit / 4 * 3),
        }
    }

    fn exceeded_by(&self, usage: Usage, slack: u64) -> bool {
        let over = |used: u64, limit: u64| used > limit / 10 * slack;
        over(usage.resident, self.resident)
            || self
                .virtual_size
                .is_some_and(|limit| over(usage.virtual_size, limit))
    }
}

/// Memory of this process now, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub resident: u64,
    pub virtual_size: u64,
}

impl Usage {
    pub fn of_this_process() -> Usage {
        // statm: size resident shared text lib data dt, in pages.
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        let mut fields = statm
            .split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        let page = page_size();
        let virtual_size = fields.next().unwrap_or(0) * page;
        let resident = fields.next().unwrap_or(0) * page;
        Usage {
            resident,
            virtual_size,
        }
    }
}

/// Watches the process's memory against a ceiling.
pub struct MemoryGuard {
    ceiling: Ceiling,
    over: Arc<AtomicBool>,
    /// Resident bytes at the last sample, for messages.
    last_resident: AtomicU64,
}

impl MemoryGuard {
    /// Starts the sampling thread, which stops when the guard is dropped.
    pub fn start(ceiling: Ceiling) -> Arc<MemoryGuard> {
        Self::start_with(ceiling, Usage::of_this_process)
    }

    /// [`MemoryGuard::start`] with another source of samples (for tests).
    pub fn start_with(
        ceiling: Ceiling,
        sample: impl Fn() -> Usage + Send + 'static,
    ) -> Arc<MemoryGuard> {
        let guard = Arc::new(MemoryGuard {
            ceiling,
            over: Arc::default(),
            last_resident: AtomicU64::new(0),
        });
        guard.update(sample());
        let weak = Arc::downgrade(&guard);
        let spawned = std::thread::Builder::new()
            .name("nixweb-memory".into())
            .spawn(move || watch(weak, sample));
        if let Err(e) = spawned {
            tracing::warn!(target: "nixweb", "the memory ceiling is not watched: {e}");
        }
        guard
    }

    /// One sample: raises the flag past the ceiling, lowers it under nine tenths of it.
    fn update(&self, usage: Usage) {
        self.last_resident.store(usage.resident, Ordering::Relaxed);
        let was_over = self.over.load(Ordering::Relaxed);
        let over = if was_over {
            self.ceiling.exceeded_by(usage, 9)
        } else {
            self.ceiling.exceeded_by(usage, 10)
        };
        if over != was_over {
            self.over.store(over, Ordering::SeqCst);
            if over {
                tracing::warn!(target: "nixweb", "{}; stopping evaluations until memory is back under {} MiB", self.describe(), (self.ceiling.resident / 10 * 9) >> 20);
            } else {
                tracing::info!(target: "nixweb", "memory is back under the ceiling ({} MiB): evaluating again", usage.resident >> 20);
            }
        }
    }

    /// Whether the process is over its ceiling now.
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// The flag itself, raised while over the ceiling (an evaluator's interrupt).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.over.clone()
    }

    pub fn ceiling(&self) -> Ceiling {
        self.ceiling
    }

    /// Why evaluations are refused, for the log and the 503.
    pub fn describe(&self) -> String {
        format!(
            "the server is over its memory ceiling ({} MiB resident of {} MiB; --max-memory, or max-memory in nixweb.toml)",
            self.last_resident.load(Ordering::Relaxed) >> 20,
            self.ceiling.resident >> 20
        )
    }
}

fn watch(guard: Weak<MemoryGuard>, sample: impl Fn() -> Usage) {
    loop {
        let period = match guard.upgrade() {
            None => return,
            Some(guard) => {
                let usage = sample();
                guard.update(usage);
                if usage.resident > guard.ceiling.resident / 2 {
                    Duration::from_millis(10)
                } else {
                    Duration::from_millis(50)
                }
            }
        };
        std::thread::sleep(period);
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

fn mem_total() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The memory limit of this process's cgroup (v2 `memory.max`, or v1's
/// `memory.limit_in_bytes`), if one is set.
fn cgroup_limit() -> Option<u64> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let read =
        |path: String| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let found = if controllers.is_empty() {
            read(format!("/sys/fs/cgroup{path}/memory.max"))
        } else if controllers.split(',').any(|c| c == "memory") {
            read(format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"))
        } else {
            None
        };
        // v1 says "no limit" with a huge number.
        if let Some(limit) = found.filter(|&l| l < (1 << 60)) {
            return Some(limit);
        }
    }
    None
}

fn rlimit(resource: libc::__rlimit_resource_t) -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct it is given.
    let ok = unsafe { libc::getrlimit(resource, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn the_flag_rises_past_the_ceiling_and_falls_under_nine_tenths() {
        let resident = Arc::new(Mutex::new(50u64));
        let source = resident.clone();
        let guard = MemoryGuard::start_with(Ceiling::resident(100), move || Usage {
            resident: *source.lock().unwrap(),
            virtual_size: 0,
        });
        let sample = |bytes: u64| {
            guard.update(Usage {
                resident: bytes,
                virtual_size: 0,
            })
        };
        assert!(!guard.is_over());
        sample(101);
        assert!(guard.is_over());
        sample(95);
        assert!(
            guard.is_over(),
            "between nine tenths and the ceiling it stays up"
        );
        sample(89);
        assert!(!guard.is_over());
        assert!(guard.describe().contains("--max-memory"));
        // The sampling thread reports too.
        *resident.lock().unwrap() = 1000;
        let flag = guard.flag();
        let started = std::time::Instant::now();
        while !flag.load(Ordering::SeqCst) {
            assert!(started.elapsed() < Duration::from_secs(30), "never sampled");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_virtual_size_limit_counts_when_there_is_one() {
        let ceiling = Ceiling {
            resident: 1000,
            virtual_size: Some(100),
        };
        let usage = Usage {
            resident: 10,
            virtual_size: 200,
        };
        assert!(ceiling.exceeded_by(usage, 10));
        assert!(!Ceiling::resident(1000).exceeded_by(usage, 10));
    }

    #[test]
    fn this_machine_has_a_ceiling_and_a_usage() {
        let ceiling = Ceiling::for_this_machine();
        assert!(ceiling.resident > 0 && ceiling.resident < u64::MAX / 4 * 3);
        assert!(Usage::of_this_process().resident > 0);
    }
}
