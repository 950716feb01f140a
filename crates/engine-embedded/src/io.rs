//! Confinement: the only door between an app's Nix code and the machine.
//!
//! An app may read its own folder, the search path, nixweb's library and router, and the
//! downloads of the request under evaluation, and nothing else; it sees only the
//! environment variables it was given; it fetches only from allowed hosts.
//!
//! The decision is taken on what is opened, never on a name checked earlier: each access
//! opens the path (following links, as reading would) as an `O_PATH` descriptor, asks the
//! kernel where that descriptor really is (`/proc/self/fd`), and reads through the very
//! same descriptor only if that place lies below a root. A link swapped in after any check
//! changes nothing, since there is no earlier check; nothing is remembered between
//! accesses. Paths the app names outside every root are refused before anything is
//! opened, and look absent to `pathExists`, so their existence does not show.
//!
//! Every file the app looks at is remembered with its stamp (modification time, size,
//! inode), so a worker can tell when its cached evaluation is stale. A fetch marks the
//! evaluation volatile: its results must not outlive the request.

use crate::fetch::{FetchFailure, Fetcher, RequestFetches};
use nixweb_eval::io::{FetchRequest, FileType};
use nixweb_eval::EvalIO;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
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
    /// Canonical folders (or single files) the app may read below.
    roots: Vec<PathBuf>,
    /// Every root is normal (see [`is_normal`]), as canonical paths are.
    roots_normal: bool,
    env: HashMap<String, String>,
    fetcher: Arc<Fetcher>,
    /// The request under evaluation's fetches; its download folder is a root while it lasts.
    fetches: Mutex<Option<RequestFetches>>,
    /// Every path looked at since the last `take_seen`, with its stamp then.
    seen: Mutex<BTreeMap<PathBuf, Stamp>>,
    /// Paths added to `seen` since the last `take_fresh`, for the file watch.
    fresh: Mutex<Vec<(PathBuf, Stamp)>>,
    volatile: AtomicBool,
    started: std::time::SystemTime,
}

impl ConfinedIO {
    /// `roots` are canonical folders (or files) the app may read below; `env` is all it
    /// may see of the environment.
    pub fn new(
        roots: Vec<PathBuf>,
        env: HashMap<String, String>,
        fetcher: Arc<Fetcher>,
    ) -> ConfinedIO {
        ConfinedIO {
            roots_normal: roots.iter().all(|root| is_normal(root)),
            roots,
            env,
            fetcher,
            fetches: Mutex::default(),
            seen: Mutex::default(),
            fresh: Mutex::default(),
            volatile: AtomicBool::new(false),
            started: std::time::SystemTime::now(),
        }
    }

    /// A request begins: its fetches must end by `deadline`, and stop when `interrupt`
    /// is raised.
    pub fn begin_request(&self, deadline: std::time::Instant, interrupt: Option<Arc<AtomicBool>>) {
        let mut fetches = self.fetches.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *fetches {
            // Fetched while loading the app for this request: the same request's.
            Some(loading) => loading.limit(deadline, interrupt),
            None => *fetches = Some(self.fetcher.for_request(Some(deadline), interrupt)),
        }
    }

    /// The request ended: its downloads are removed, and what its last failed fetch was
    /// is returned.
    pub fn end_request(&self) -> Option<FetchFailure> {
        let fetches = self
            .fetches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        fetches.last_failure().cloned()
    }

    /// The paths looked at so far, with their stamps, for staleness checks.
    pub fn seen(&self) -> BTreeMap<PathBuf, Stamp> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the evaluation looked at `path`.
    pub fn depends_on(&self, path: &Path) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(path)
    }

    /// The paths looked at for the first time since the last call, with their stamps.
    pub fn take_fresh(&self) -> Vec<(PathBuf, Stamp)> {
        std::mem::take(&mut *self.fresh.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether anything volatile (a fetch) happened since the last call; resets the flag.
    pub fn take_volatile(&self) -> bool {
        self.volatile.swap(false, Ordering::SeqCst)
    }

    /// Whether `real` (a normal path: as the kernel reports it, or [`normalise`]d) lies
    /// below a root.
    fn inside(&self, real: &Path) -> bool {
        let normal = self.roots_normal && is_normal(real);
        self.roots.iter().any(|root| match normal {
            true => is_below_normal(real, root),
            false => real.starts_with(root),
        }) || self
            .fetches
            .lock()
            .expect("fetches lock")
            .as_ref()
            .and_then(|f| f.folder())
            .is_some_and(|folder| is_below(real, folder))
    }

    /// Remembers `normal` (a path below a root, as named) and its stamp for staleness.
    fn note(&self, normal: &Path) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.contains_key(normal) {
            let stamp = Stamp::of(normal);
            seen.insert(normal.to_owned(), stamp.clone());
            self.fresh
                .lock()
                .expect("fresh lock")
                .push((normal.to_owned(), stamp));
        }
    }

    /// Opens `path` as an `O_PATH` descriptor, links followed, if what it opened lies below
    /// a root. Names outside every root are refused without being opened.
    fn open(&self, path: &Path) -> std::io::Result<File> {
        self.open_normal(&normalise(path), path)
    }

    /// [`ConfinedIO::open`] of `path` in its normal form `normal`.
    fn open_normal(&self, normal: &Path, path: &Path) -> std::io::Result<File> {
        if !self.inside(normal) {
            return Err(forbidden(path));
        }
        self.note(normal);
        self.open_unnoted(normal, path)
    }

    /// [`ConfinedIO::open`] of a path already normalised and sieved, without remembering
    /// it (a folder only looked into, whose other entries the evaluation never saw).
    fn open_unnoted(&self, normal: &Path, path: &Path) -> std::io::Result<File> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
            .open(normal)?;
        let real = std::fs::read_link(fd_path(&file))?;
        if !self.inside(&real) {
            return Err(forbidden(path));
        }
        Ok(file)
    }
}

fn forbidden(path: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "access to '{}' is forbidden: a nixweb app may read only its own folder and its search path",
            path.display()
        ),
    )
}

/// The name through which the kernel reopens exactly what `file` refers to.
fn fd_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// `..` and `.` resolved lexically (Nix paths are already absolute and clean, but strings
/// handed to `readFile` need not be).
fn normalise(path: &Path) -> Cow<'_, Path> {
    if is_normal(path) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(resolve_dots(path))
}

/// The component walk behind [`normalise`], for paths not already normal.
fn resolve_dots(path: &Path) -> PathBuf {
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

/// Whether [`normalise`] would give `path` back as it is: absolute, with no empty, `.` or
/// `..` component and no trailing `/` (the form Nix's own paths have).
fn is_normal(path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    match bytes {
        [b'/'] => true,
        [b'/', rest @ ..] => rest
            .split(|&b| b == b'/')
            .all(|part| !matches!(part, b"" | b"." | b"..")),
        _ => false,
    }
}

/// `path.starts_with(root)`. For normal paths (see [`is_normal`]: what the kernel reports,
/// what [`normalise`] gives, canonical roots) a byte prefix ending at a component boundary
/// says the same without splitting both into components, which cost a cached `import` more
/// than its evaluation.
fn is_below(path: &Path, root: &Path) -> bool {
    if is_normal(path) && is_normal(root) {
        is_below_normal(path, root)
    } else {
        path.starts_with(root)
    }
}

/// [`is_below`] of two normal paths.
fn is_below_normal(path: &Path, root: &Path) -> bool {
    let (path, root) = (path.as_os_str().as_bytes(), root.as_os_str().as_bytes());
    path.starts_with(root) && (path.len() == root.len() || root == b"/" || path[root.len()] == b'/')
}

impl EvalIO for ConfinedIO {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let opened = self.open(path)?;
        if opened.metadata()?.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "Is a directory",
            ));
        }
        // Reopened through the descriptor: the file judged is the file read.
        std::fs::read(fd_path(&opened))
    }

    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        let opened = self.open(path)?;
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(fd_path(&opened))? {
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
        let normal = normalise(path);
        match self.open_normal(&normal, path) {
            // The type of the name itself (a link says symlink), now that what it leads
            // to is known to be inside.
            Ok(opened) => std::fs::symlink_metadata(&normal)
                .or_else(|_| opened.metadata())
                .ok()
                .map(|m| FileType::from_std(m.file_type())),
            // A link leading nowhere (or in a loop), in a folder that is inside.
            Err(e) if e.kind() != std::io::ErrorKind::PermissionDenied => {
                let folder = normal.parent()?;
                self.open_unnoted(folder, folder).ok()?;
                std::fs::symlink_metadata(&normal)
                    .ok()
                    .filter(|m| m.file_type().is_symlink())
                    .map(|_| FileType::Symlink)
            }
            // Outside the roots everything looks absent: pathExists says false, not an error.
            Err(_) => None,
        }
    }

    fn canonicalize(&self, path: &Path) -> PathBuf {
        // Imports are cached under this name; the lexical normal form is enough, and
        // deciding nothing here leaves every decision to the access itself.
        normalise(path).into_owned()
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
        let mut fetches = self.fetches.lock().unwrap_or_else(|e| e.into_inner());
        let fetches = fetches.get_or_insert_with(|| self.fetcher.for_request(None, None));
        Some(fetches.fetch(request))
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
        let missing = io.read_file(Path::new("/etc/no-such-file")).unwrap_err();
        assert!(
            missing.to_string().contains("forbidden"),
            "outside, absent and present look alike: {missing}"
        );
    }

    #[test]
    fn symlinks_cannot_lead_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("etc")).unwrap();
        let io = confined(dir.path());
        assert!(io.read_file(&dir.path().join("link")).is_err());
        assert!(io.read_file(&dir.path().join("etc/passwd")).is_err());
        assert!(io.read_dir(&dir.path().join("etc")).is_err());
        assert_eq!(io.file_type(&dir.path().join("link")), None);
    }

    #[test]
    fn a_path_judged_absent_cannot_become_a_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let io = confined(dir.path());
        let next = dir.path().join("next");
        // Asked about while absent…
        assert_eq!(io.file_type(&next), None);
        assert!(io.read_file(&next).is_err());
        // …then a link to outside appears under that name: still refused.
        std::os::unix::fs::symlink("/etc/passwd", &next).unwrap();
        let err = io.read_file(&next).unwrap_err();
        assert!(err.to_string().contains("forbidden"), "{err}");
        assert_eq!(io.file_type(&next), None);
        // And a link inside the folder is followed.
        std::fs::write(dir.path().join("real.nix"), "2").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.nix"), dir.path().join("alias")).unwrap();
        assert_eq!(io.read_file(&dir.path().join("alias")).unwrap(), b"2");
        assert_eq!(
            io.file_type(&dir.path().join("alias")),
            Some(FileType::Symlink)
        );
        // A link leading nowhere is a symlink, as Nix says.
        std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("dangling")).unwrap();
        assert_eq!(
            io.file_type(&dir.path().join("dangling")),
            Some(FileType::Symlink)
        );
    }

    #[test]
    fn byte_checks_agree_with_components() {
        let names = [
            "/",
            "//",
            "/a",
            "/a/",
            "/a//b",
            "/a/b",
            "/a/bc",
            "/a/b/c",
            "/a/./b",
            "/a/../b",
            "/a/b/..",
            "/ab",
            "a/b",
            "",
            ".",
            "/a/b (deleted)",
            "/a/b/",
        ];
        for path in names.map(Path::new) {
            let reference = resolve_dots(path);
            assert_eq!(normalise(path), reference, "normalise {path:?}");
            assert_eq!(
                is_normal(path),
                path.as_os_str() == reference.as_os_str(),
                "is_normal {path:?}"
            );
            for root in names.map(Path::new) {
                assert_eq!(
                    is_below(path, root),
                    path.starts_with(root),
                    "{path:?} below {root:?}"
                );
            }
        }
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
