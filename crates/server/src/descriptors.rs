//! The process's descriptor limit, and the connection cap that keeps clients below it.
//!
//! Every client connection holds a descriptor, and so does everything else the server does
//! (the app's files, evaluation threads' files, Nix children and their pipes, the state
//! database, the log). If connections could take them all, `accept` would fail and every
//! other request with it, so the server raises its soft limit to the hard one at start and
//! accepts at most the limit minus a reserve.

/// Descriptors kept for everything that is not a client connection.
pub const RESERVE: u64 = 256;

/// The cap when nothing else bounds it: each connection also costs buffers (tens of KiB), so
/// a huge descriptor limit must not mean hundreds of thousands of connections.
pub const MAX_DEFAULT_CAP: usize = 10_000;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit now in force.
pub fn raise_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    limit.rlim_cur
}

/// How many connections the server holds at once under a descriptor limit of `limit`:
/// `asked` (the `--max-connections` flag) if it leaves the reserve free, else all but the
/// reserve (half the limit when the limit is small), and never more than
/// [`MAX_DEFAULT_CAP`] unless asked for. Returns the cap and, when `asked` had to be
/// lowered, the reason.
pub fn connection_cap(limit: u64, asked: Option<usize>) -> (usize, Option<String>) {
    let reserve = RESERVE.min(limit / 2);
    let room = limit.saturating_sub(reserve).max(1);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    match asked {
        Some(n) if n <= room => (n.max(1), None),
        Some(n) => (
            room,
            Some(format!(
                "--max-connections {n} lowered to {room}: the descriptor limit is {limit} and {reserve} are kept for files, evaluation and state"
            )),
        ),
        None => (room.min(MAX_DEFAULT_CAP), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_reserve() {
        assert_eq!(connection_cap(1024, None), (768, None));
        assert_eq!(
            connection_cap(300, None),
            (150, None),
            "half of a small limit"
        );
        assert_eq!(connection_cap(1 << 20, None).0, MAX_DEFAULT_CAP);
        assert_eq!(connection_cap(1 << 20, Some(50_000)), (50_000, None));
        let (cap, why) = connection_cap(2000, Some(1900));
        assert_eq!(cap, 1744);
        assert!(why.unwrap().contains("descriptor limit is 2000"));
        assert_eq!(connection_cap(2000, Some(0)).0, 1);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let soft = raise_limit();
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(soft, limit.rlim_cur);
        assert_eq!(limit.rlim_cur, limit.rlim_max);
    }
}
