//! Warnings a client can cause at will (refused connections, timeouts), written at most
//! once a second each, with how many times they happened since the last line: the log says
//! what is going on without an attacker being able to flood it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One kind of event, logged at most once per second.
pub struct Notice {
    what: &'static str,
    started: Instant,
    /// The second (since `started`) of the last line, plus one; 0: never.
    last_second: AtomicU64,
    /// Events since the last line.
    pending: AtomicU64,
}

impl Notice {
    pub fn new(what: &'static str) -> Self {
        Notice {
            what,
            started: Instant::now(),
            last_second: AtomicU64::new(0),
            pending: AtomicU64::new(0),
        }
    }

    /// Counts one event; writes a warning if none was written this second. `detail` is
    /// added to the line (the latest event's particulars).
    pub fn record(&self, detail: impl FnOnce() -> String) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        let second = self.started.elapsed().as_secs() + 1;
        let last = self.last_second.load(Ordering::Relaxed);
        if last == second
            || self
                .last_second
                .compare_exchange(last, second, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let count = self.pending.swap(0, Ordering::Relaxed);
        let times = if count <= 1 {
            String::new()
        } else {
            format!(" ({count} times since the last such line)")
        };
        let detail = detail();
        tracing::warn!(target: "nixweb::http", "{}{times}: {detail}", self.what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_line_a_second() {
        let notice = Notice::new("x");
        let mut lines = 0;
        for _ in 0..1000 {
            notice.record(|| {
                lines += 1;
                String::new()
            });
        }
        assert_eq!(lines, 1);
        assert_eq!(notice.pending.load(Ordering::Relaxed), 999);
    }
}
