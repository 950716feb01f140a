//! Telling whether an app's files changed, without a `stat` per file per request.
//!
//! A worker must start afresh when a file its evaluation looked at changes. Checking every
//! stamp before every request cost a path walk per file (about 6% of a small request's CPU).
//! Instead, one inotify instance per engine watches the folders those files live in; before
//! a request a worker drains the pending events (one `read`, nothing to read in the common
//! case) and asks whether any path it depends on changed since its evaluator was made.
//!
//! Events are read by the workers themselves, synchronously, so there is no window where a
//! change has happened but is not yet known: the kernel queues the event when the file is
//! written, and the next drain sees it. A file is watched only after it was first read, so
//! [`FileWatch::cover`] compares its stamp once when it starts watching it, which catches a
//! change in between.

use crate::io::Stamp;
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Events that change what reading a path, or listing a folder, gives.
fn mask() -> WatchMask {
    WatchMask::MODIFY
        | WatchMask::ATTRIB
        | WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
}

/// Watches the folders of the files an engine's evaluations looked at.
pub struct FileWatch {
    inner: Mutex<Inner>,
}

struct Inner {
    inotify: Inotify,
    /// Watched folders, by their watch.
    folders: HashMap<WatchDescriptor, PathBuf>,
    watched: HashSet<PathBuf>,
    /// The paths some evaluation depends on; only their changes are recorded.
    interesting: HashSet<PathBuf>,
    /// Counts changes; a worker remembers its value when it makes its evaluator.
    generation: u64,
    /// The generation at which each interesting path last changed.
    changed: HashMap<PathBuf, u64>,
    /// The last generation at which changes may have been lost (queue overflow, a watched
    /// folder gone): every path counts as changed then.
    everything_changed: u64,
    buffer: Vec<u8>,
}

impl FileWatch {
    /// None when inotify is unavailable (another kernel, or the per-user instance limit);
    /// the engine then checks stamps instead.
    pub fn new() -> Option<FileWatch> {
        let inotify = Inotify::init()
            .map_err(|e| tracing::debug!(target: "nixweb::embedded", "no inotify ({e}): checking file stamps instead"))
            .ok()?;
        Some(FileWatch {
            inner: Mutex::new(Inner {
                inotify,
                folders: HashMap::new(),
                watched: HashSet::new(),
                interesting: HashSet::new(),
                generation: 0,
                changed: HashMap::new(),
                everything_changed: 0,
                buffer: vec![0; 16 * 1024],
            }),
        })
    }

    /// The current generation, after taking in pending events: changes recorded later have
    /// a larger one.
    pub fn generation(&self) -> u64 {
        let mut inner = self.inner.lock().expect("watch lock");
        inner.drain();
        inner.generation
    }

    /// Starts watching `paths` (newly looked at, with their stamps then). Returns None if
    /// one could not be watched (the caller must fall back to checking stamps), otherwise
    /// whether one of them already changed since its stamp was taken.
    pub fn cover(&self, paths: &[(PathBuf, Stamp)]) -> Option<bool> {
        let mut inner = self.inner.lock().expect("watch lock");
        for (path, _) in paths {
            inner.interesting.insert(path.clone());
            if let Some(folder) = path.parent() {
                inner.watch(folder).ok()?;
            }
            // A folder's own listing (readDir) changes with events inside it.
            if path.is_dir() {
                inner.watch(path).ok()?;
            }
        }
        Some(paths.iter().any(|(path, stamp)| Stamp::of(path) != *stamp))
    }

    /// Whether any of the paths `depends_on` says yes to changed after `since`.
    pub fn changed_since(&self, since: u64, depends_on: impl Fn(&Path) -> bool) -> bool {
        let mut inner = self.inner.lock().expect("watch lock");
        inner.drain();
        if inner.generation == since {
            return false;
        }
        inner.everything_changed > since
            || inner
                .changed
                .iter()
                .any(|(path, &at)| at > since && depends_on(path))
    }
}

impl Inner {
    fn watch(&mut self, folder: &Path) -> std::io::Result<()> {
        if self.watched.contains(folder) {
            return Ok(());
        }
        let wd = self.inotify.watches().add(folder, mask())?;
        self.folders.insert(wd, folder.to_owned());
        self.watched.insert(folder.to_owned());
        Ok(())
    }

    /// Records every pending event.
    fn drain(&mut self) {
        loop {
            let events = match self.inotify.read_events(&mut self.buffer) {
                Ok(events) => events,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    tracing::warn!(target: "nixweb::embedded", "reading file events failed: {e}");
                    self.generation += 1;
                    self.everything_changed = self.generation;
                    return;
                }
            };
            let mut changes = Vec::new();
            let mut lost = false;
            for event in events {
                if event.mask.contains(EventMask::Q_OVERFLOW)
                    || event.mask.contains(EventMask::IGNORED)
                {
                    // Events were dropped, or a watched folder went away with its watch.
                    lost = true;
                    continue;
                }
                let Some(folder) = self.folders.get(&event.wd) else {
                    continue;
                };
                match event.name {
                    Some(name) => {
                        changes.push(folder.join(name));
                        // An entry came or went: the folder's listing changed.
                        if event.mask.intersects(
                            EventMask::CREATE
                                | EventMask::DELETE
                                | EventMask::MOVED_FROM
                                | EventMask::MOVED_TO,
                        ) {
                            changes.push(folder.clone());
                        }
                    }
                    None => changes.push(folder.clone()),
                }
            }
            if lost {
                self.generation += 1;
                self.everything_changed = self.generation;
            }
            for path in changes {
                if self.interesting.contains(&path) {
                    self.generation += 1;
                    self.changed.insert(path, self.generation);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(path: &Path) -> (PathBuf, Stamp) {
        (path.to_owned(), Stamp::of(path))
    }

    #[test]
    fn edits_new_files_and_listings_are_seen_and_other_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let (file, absent, sub) = (
            dir.path().join("a.nix"),
            dir.path().join("b.nix"),
            dir.path().join("sub"),
        );
        std::fs::write(&file, "1").unwrap();
        std::fs::create_dir(&sub).unwrap();
        let watch = FileWatch::new().expect("inotify works here");
        let since = watch.generation();
        let paths = [seen(&file), seen(&absent), seen(&sub)];
        assert_eq!(watch.cover(&paths), Some(false));
        let depends = |p: &Path| paths.iter().any(|(q, _)| q == p);
        assert!(!watch.changed_since(since, depends));

        // A file nobody read (a database beside the app, say) changes: nothing to do.
        std::fs::write(dir.path().join("nixweb.db"), "x").unwrap();
        assert!(!watch.changed_since(since, depends));

        std::fs::write(&file, "2").unwrap();
        assert!(watch.changed_since(since, depends), "an edit");
        let since = watch.generation();
        assert!(!watch.changed_since(since, depends));

        std::fs::write(&absent, "").unwrap();
        assert!(watch.changed_since(since, depends), "a file that appeared");
        let since = watch.generation();

        std::fs::write(sub.join("new.nix"), "").unwrap();
        assert!(
            watch.changed_since(since, depends),
            "a listing that changed"
        );
        let since = watch.generation();

        // Saved the way editors do: written aside, then renamed over the original.
        std::fs::write(dir.path().join(".a.nix.tmp"), "3").unwrap();
        std::fs::rename(dir.path().join(".a.nix.tmp"), &file).unwrap();
        assert!(watch.changed_since(since, depends), "a replaced file");
    }

    #[test]
    fn a_change_before_watching_is_caught_by_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.nix");
        std::fs::write(&file, "1").unwrap();
        let stamp = seen(&file);
        std::fs::write(&file, "22").unwrap();
        let watch = FileWatch::new().expect("inotify works here");
        assert_eq!(watch.cover(&[stamp]), Some(true));
    }
}
