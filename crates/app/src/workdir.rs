//! Engines' temporary folders, and the sweeping of those a dead server left behind.
//!
//! A server killed with SIGKILL (or any death that skips destructors) cannot remove its
//! folder, so each folder holds a `.lock` file that its server keeps locked (`flock`) for
//! as long as it runs, with the server's pid written in it once locked. The kernel drops
//! the lock when the process dies, however it dies. Creating a folder first sweeps the
//! folders of the same kind whose lock can be taken and whose lock file names a pid: their
//! server is gone. A folder whose lock is held belongs to a running server and is left
//! alone; one whose lock file is still empty is being set up right now, and is left too.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

const LOCK: &str = ".lock";

/// A temporary folder, removed when dropped, swept by a later start if never dropped.
pub struct WorkDir {
    dir: tempfile::TempDir,
    /// Held (locked) for the life of the folder.
    _lock: File,
}

impl WorkDir {
    /// Sweeps what dead servers left under `prefix` in the temporary folder, then creates
    /// a fresh folder there (`{prefix}XXXXXX`).
    pub fn create(prefix: &str) -> std::io::Result<WorkDir> {
        Self::create_in(&std::env::temp_dir(), prefix)
    }

    pub fn create_in(parent: &Path, prefix: &str) -> std::io::Result<WorkDir> {
        let swept = sweep(parent, prefix);
        if swept > 0 {
            tracing::info!(target: "nixweb", "removed {swept} temporary folder(s) left by servers that did not stop cleanly");
        }
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
        let mut lock = File::create(dir.path().join(LOCK))?;
        if !try_lock(&lock) {
            return Err(std::io::Error::other("cannot lock a fresh working folder"));
        }
        writeln!(lock, "{}", std::process::id())?;
        Ok(WorkDir { dir, _lock: lock })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes the folders `{prefix}*` in `parent` whose server is gone; returns how many.
pub fn sweep(parent: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_ours = name.to_str().is_some_and(|n| n.starts_with(prefix))
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if is_ours && abandoned(&entry.path()) && std::fs::remove_dir_all(entry.path()).is_ok() {
            swept += 1;
        }
    }
    swept
}

/// Whether the folder's server has died: its lock can be taken and it names a pid. (The
/// lock is held while checking, and released once the folder is gone.)
fn abandoned(dir: &Path) -> bool {
    let Ok(lock) = File::open(dir.join(LOCK)) else {
        // No lock file: made by something else, or an older nixweb; not ours to judge.
        return false;
    };
    try_lock(&lock)
        && std::fs::read_to_string(dir.join(LOCK)).is_ok_and(|pid| !pid.trim().is_empty())
}

fn try_lock(file: &File) -> bool {
    // SAFETY: flock only acts on the descriptor, which `file` keeps open.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_dead_servers_go_and_live_ones_stay() {
        let parent = tempfile::tempdir().unwrap();
        let live = WorkDir::create_in(parent.path(), "nixweb-t-").unwrap();
        // A dead server's folder: a lock file with a pid, nobody holding the lock.
        let dead = parent.path().join("nixweb-t-dead");
        std::fs::create_dir_all(dead.join("downloads")).unwrap();
        std::fs::write(dead.join(LOCK), "12345\n").unwrap();
        // One being set up: the lock file is there, the pid not yet.
        let starting = parent.path().join("nixweb-t-starting");
        std::fs::create_dir(&starting).unwrap();
        std::fs::write(starting.join(LOCK), "").unwrap();
        // Not ours: no lock file; and another prefix.
        let foreign = parent.path().join("nixweb-t-foreign");
        std::fs::create_dir(&foreign).unwrap();
        let other = parent.path().join("other-dead");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join(LOCK), "1\n").unwrap();

        let second = WorkDir::create_in(parent.path(), "nixweb-t-").unwrap();
        assert!(!dead.exists(), "the dead server's folder is swept");
        assert!(live.path().exists(), "a running server's folder stays");
        assert!(starting.exists() && foreign.exists() && other.exists());
        let kept = second.path().to_owned();
        drop(second);
        assert!(!kept.exists(), "dropping removes the folder");
    }
}
