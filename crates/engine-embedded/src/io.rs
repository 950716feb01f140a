//! Confinement: the only door between an app's Nix code and the machine.
//!
//! An app may read its own folder, the search path and the files nixweb ships (router and
//! library), and nothing else; it sees only the environment variables it was given; it
//! fetches only from allowed hosts. Every file it looks at is remembered with its stamp
//! (modification time, size, inode), so a worker can tell when its cached evaluation is
//! stale. A fetch marks the evaluation volatile: its results must not outlive the request.

use crate::fetch::Fetcher;
use nixweb_eval::io::{FetchRequest, FileType};
use nixweb_eval::EvalIO;
use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What a file looked like when it was read; `None`: it did not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(Option<(i64, i64, u64, u64)>);

impl Stamp {
    pub fn of(path: &Path) -> Stamp {
        Stamp(
            std::fs::symlink_metadata(path)
                .ok()
                .map(|m| (m.mtime(), m.mtime_nsec(), m.len(), m.ino())),
        )
    }
}

pub struct ConfinedIO {
    roots: Vec<PathBuf>,
    env: HashMap<String, String>,
    fetcher: Arc<Fetcher>,
    /// Every path looked at since the last `take_seen`, with its stamp then.
    seen: Mutex<BTreeMap<PathBuf, Stamp>>,
    /// Paths added to `seen` since the last `take_fresh`, for the file watch.
    fresh: Mutex<Vec<(PathBuf, Stamp)>>,
    volatile: AtomicBool,
    started: std::time::SystemTime,
    /// When the request under evaluation must be answered; fetches may not outlast it.
    deadline: Mutex<Option<std::time::Instant>>,
    /// Paths already judged, with their resolved form. Valid for the life of this value:
    /// the worker replaces it whenever a file it looked at changes.
    judged: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
}

impl ConfinedIO {
    /// `roots` are canonical folders the app may read below; `env` is all it may see of
    /// the environment.
    pub fn new(
        roots: Vec<PathBuf>,
        env: HashMap<String, String>,
        fetcher: Arc<Fetcher>,
    ) -> ConfinedIO {
        ConfinedIO {
            roots,
            env,
            fetcher,
            seen: Mutex::default(),
            fresh: Mutex::default(),
            volatile: AtomicBool::new(false),
            started: std::time::SystemTime::now(),
            deadline: Mutex::new(None),
            judged: Mutex::default(),
        }
    }

    /// Sets the deadline of the request about to be evaluated.
    pub fn set_deadline(&self, deadline: std::time::Instant) {
        *self.deadline.lock().expect("deadline lock") = Some(deadline);
    }

    /// The paths looked at so far, with their stamps, for staleness checks.
    pub fn seen(&self) -> BTreeMap<PathBuf, Stamp> {
        self.seen.lock().expect("seen lock").clone()
    }

    /// Whether the evaluation looked at `path`.
    pub fn depends_on(&self, path: &Path) -> bool {
        self.seen.lock().expect("seen lock").contains_key(path)
    }

    /// The paths looked at for the first time since the last call, with their stamps.
    pub fn take_fresh(&self) -> Vec<(PathBuf, Stamp)> {
        std::mem::take(&mut *self.fresh.lock().expect("fresh lock"))
    }

    /// Whether anything volatile (a fetch) happened since the last call; resets the flag.
    pub fn take_volatile(&self) -> bool {
        self.volatile.swap(false, Ordering::SeqCst)
    }

    /// The path, if the app may look at it: its real location (symbolic links resolved, so
    /// a link cannot lead outside) lies below a root.
    fn judge(&self, path: &Path) -> Option<PathBuf> {
        if let Some(judged) = self.judged.lock().expect("judged lock").get(path) {
            return judged.clone();
        }
        let normal = normalise(path);
        let real = std::fs::canonicalize(&normal).unwrap_or_else(|_| normal.clone());
        let judged = self
            .roots
            .iter()
            .any(|root| real.starts_with(root))
            .then(|| {
                let mut seen = self.seen.lock().expect("seen lock");
                if !seen.contains_key(&normal) {
                    let stamp = Stamp::of(&normal);
                    seen.insert(normal.clone(), stamp.clone());
                    self.fresh
                        .lock()
                        .expect("fresh lock")
                        .push((normal.clone(), stamp));
                }
                normal
            });
        self.judged
            .lock()
            .expect("judged lock")
            .insert(path.to_owned(), judged.clone());
        judged
    }

    fn allowed(&self, path: &Path) -> std::io::Result<PathBuf> {
        self.judge(path).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "access to '{}' is forbidden: a nixweb app may read only its own folder and its search path",
                    path.display()
                ),
            )
        })
    }
}

/// `..` and `.` resolved lexically (Nix paths are already absolute and clean, but strings
/// handed to `readFile` need not be).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            _ => {}
        }
    }
    out
}

impl EvalIO for ConfinedIO {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.allowed(path)?)
    }

    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        let path = self.allowed(path)?;
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let kind = entry
                .file_type()
                .map(FileType::from_std)
                .unwrap_or(FileType::Unknown);
            entries.push((entry.file_name().to_string_lossy().into_owned(), kind));
        }
        Ok(entries)
    }

    fn file_type(&self, path: &Path) -> Option<FileType> {
        // Outside the roots everything looks absent: pathExists says false, not an error.
        let path = self.allowed(path).ok()?;
        std::fs::symlink_metadata(path)
            .ok()
            .map(|m| FileType::from_std(m.file_type()))
    }

    fn canonicalize(&self, path: &Path) -> PathBuf {
        // Imports are cached under this name; the normal form is enough, and judging it
        // resolves links once per path.
        self.judge(path).unwrap_or_else(|| path.to_owned())
    }

    fn get_env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn current_time(&self) -> i64 {
        self.started
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn fetch(&self, request: &FetchRequest) -> Option<Result<PathBuf, String>> {
        self.volatile.store(true, Ordering::SeqCst);
        let deadline = *self.deadline.lock().expect("deadline lock");
        Some(self.fetcher.fetch(request, deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confined(root: &Path) -> ConfinedIO {
        let env = HashMap::from([("ALLOWED".to_owned(), "yes".to_owned())]);
        ConfinedIO::new(
            vec![root.canonicalize().unwrap()],
            env,
            Arc::new(Fetcher::disabled()),
        )
    }

    #[test]
    fn reads_inside_and_refuses_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.nix"), "1").unwrap();
        let io = confined(dir.path());
        assert_eq!(io.read_file(&dir.path().join("a.nix")).unwrap(), b"1");
        let escape = dir.path().join("../../../../etc/passwd");
        let err = io.read_file(&escape).unwrap_err();
        assert!(err.to_string().contains("forbidden"), "{err}");
        assert!(io.read_file(Path::new("/etc/passwd")).is_err());
        assert!(io.read_dir(Path::new("/etc")).is_err());
        assert_eq!(
            io.file_type(Path::new("/etc/passwd")),
            None,
            "pathExists is false outside"
        );
    }

    #[test]
    fn symlinks_cannot_lead_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let io = confined(dir.path());
        assert!(io.read_file(&dir.path().join("link")).is_err());
    }

    #[test]
    fn only_given_variables_are_visible() {
        let dir = tempfile::tempdir().unwrap();
        let io = confined(dir.path());
        assert_eq!(io.get_env("ALLOWED").as_deref(), Some("yes"));
        assert_eq!(io.get_env("PATH"), None);
    }

    #[test]
    fn stamps_tell_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.nix");
        std::fs::write(&file, "1").unwrap();
        let io = confined(dir.path());
        io.read_file(&file).unwrap();
        assert!(io.file_type(&dir.path().join("new.nix")).is_none());
        let seen = io.seen();
        assert!(seen.iter().all(|(path, stamp)| Stamp::of(path) == *stamp));
        std::fs::write(&file, "22").unwrap();
        std::fs::write(dir.path().join("new.nix"), "").unwrap();
        let changed: Vec<_> = seen
            .iter()
            .filter(|(path, stamp)| Stamp::of(path) != **stamp)
            .collect();
        assert_eq!(changed.len(), 2, "{changed:?}");
    }
}
