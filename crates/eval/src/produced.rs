//! Store paths the evaluation itself produced (`toFile`, `builtins.path`, `filterSource`,
//! copied source paths), readable by that evaluation although nothing is written to the
//! store (issue 13 cause 16: Nix 2.8 writes them and can then import them).
//!
//! `ProducedIO` is an `EvalIO` layer over the host's, installed by `Evaluator::new`, so
//! every read of the evaluator goes through it. A path under the store directory whose
//! store path this evaluator produced is answered here: a `toFile` text from memory, a
//! copy by asking the host for the source path it was copied from (the host's
//! confinement still judges that path; a filtered copy shows only what its filter kept).
//! Any other path goes to the host unchanged, so nothing else becomes readable.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::io::{EvalIO, FetchRequest, FileType};

/// What a produced store path holds.
#[derive(Debug)]
pub enum Produced {
    /// A regular file with these bytes (`toFile`).
    Text(Arc<[u8]>),
    /// A copy of a source path; with a filter, only the source paths it kept (the root
    /// is always kept).
    Copy {
        source: PathBuf,
        kept: Option<HashSet<PathBuf>>,
    },
}

/// At most this many produced paths and bytes of text are remembered; past either, the
/// table starts over (an evaluator kept for many requests must not grow without end).
const MAX_PRODUCED: usize = 4096;
const MAX_TEXT_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Table {
    /// The store directory the paths were printed under (`/nix/store`).
    store_dir: String,
    /// Store path (`<store dir>/<hash>-<name>`) → what it holds.
    paths: HashMap<String, Arc<Produced>>,
    text_bytes: usize,
}

pub struct ProducedIO {
    host: Arc<dyn EvalIO>,
    table: Mutex<Table>,
}

/// Where a path asked for lies once produced store paths are resolved.
enum Resolved {
    /// Ask the host for this path; `copy` is the produced copy it lies in, if any.
    Host {
        path: PathBuf,
        copy: Option<Arc<Produced>>,
    },
    Text(Arc<[u8]>),
    /// Inside a produced store path, but not something it holds.
    Missing,
}

impl Resolved {
    fn host(path: &Path) -> Resolved {
        Resolved::Host {
            path: path.to_path_buf(),
            copy: None,
        }
    }
}

fn not_found() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
}

impl ProducedIO {
    pub fn new(host: Arc<dyn EvalIO>) -> ProducedIO {
        ProducedIO {
            host,
            table: Mutex::new(Table::default()),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that `store_path` (printed under `store_dir`) holds `what`.
    pub fn register(&self, store_dir: &str, store_path: &str, what: Produced) {
        if let Produced::Copy { source, .. } = &what {
            // Copying a store path can give that same path: it is what it already was.
            if source.starts_with(store_path) {
                return;
            }
        }
        let mut t = self.table();
        let bytes = match &what {
            Produced::Text(b) => b.len(),
            Produced::Copy { .. } => 0,
        };
        if t.paths.len() >= MAX_PRODUCED || t.text_bytes + bytes > MAX_TEXT_BYTES {
            t.paths.clear();
            t.text_bytes = 0;
        }
        if bytes > MAX_TEXT_BYTES {
            return;
        }
        if t.store_dir != store_dir {
            t.paths.clear();
            t.text_bytes = 0;
            t.store_dir = store_dir.to_string();
        }
        t.text_bytes += bytes;
        t.paths.insert(store_path.to_string(), Arc::new(what));
    }

    /// Whether `store_path` is remembered.
    pub fn contains(&self, store_path: &str) -> bool {
        self.table().paths.contains_key(store_path)
    }

    /// How many store paths are remembered (for hosts that watch an evaluator's growth).
    pub fn len(&self) -> usize {
        self.table().paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn resolve(&self, path: &Path) -> Resolved {
        let t = self.table();
        if t.paths.is_empty() {
            return Resolved::host(path);
        }
        let Ok(rest) = path.strip_prefix(&t.store_dir) else {
            return Resolved::host(path);
        };
        let mut parts = rest.components();
        let Some(Component::Normal(name)) = parts.next() else {
            return Resolved::host(path);
        };
        let key = Path::new(&t.store_dir).join(name);
        let Some(produced) = key.to_str().and_then(|k| t.paths.get(k)).cloned() else {
            return Resolved::host(path);
        };
        drop(t);
        let inner = parts.as_path();
        // Store paths are canonical: `..` or `.` inside one never leads back out.
        if inner
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Resolved::Missing;
        }
        match &*produced {
            Produced::Text(bytes) if inner.as_os_str().is_empty() => Resolved::Text(bytes.clone()),
            Produced::Text(_) => Resolved::Missing,
            Produced::Copy { source, kept } => {
                let target = if inner.as_os_str().is_empty() {
                    source.clone()
                } else {
                    source.join(inner)
                };
                if let Some(kept) = kept {
                    if target != *source && !kept.contains(&target) {
                        return Resolved::Missing;
                    }
                }
                Resolved::Host {
                    path: target,
                    copy: Some(produced.clone()),
                }
            }
        }
    }
}

impl ProducedIO {
    /// Follows copies of produced paths (a `builtins.path` of a `toFile`, say) down to
    /// what the host or the table holds; each copy passed on the way is returned with the
    /// path inside its source, so a directory listing can apply every filter.
    fn resolve_fully(&self, path: &Path) -> (Resolved, Vec<(PathBuf, Arc<Produced>)>) {
        let mut layers = Vec::new();
        let mut at = self.resolve(path);
        while let Resolved::Host {
            path,
            copy: Some(copy),
        } = at
        {
            // Copies of copies are few; a longer chain can only be a cycle.
            if layers.len() == MAX_CHAIN {
                return (Resolved::Missing, layers);
            }
            at = self.resolve(&path);
            layers.push((path, copy));
        }
        (at, layers)
    }
}

/// Copies of produced paths followed at most (see `resolve_fully`).
const MAX_CHAIN: usize = 8;

impl EvalIO for ProducedIO {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.resolve_fully(path).0 {
            Resolved::Host { path, .. } => self.host.read_file(&path),
            Resolved::Text(bytes) => Ok(bytes.to_vec()),
            Resolved::Missing => Err(not_found()),
        }
    }

    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        match self.resolve_fully(path) {
            (Resolved::Host { path, .. }, layers) => {
                let mut entries = self.host.read_dir(&path)?;
                for (dir, copy) in &layers {
                    if let Produced::Copy {
                        kept: Some(kept), ..
                    } = &**copy
                    {
                        entries.retain(|(name, _)| kept.contains(&dir.join(name)));
                    }
                }
                Ok(entries)
            }
            (Resolved::Text(_), _) => Err(std::io::Error::other("Not a directory")),
            (Resolved::Missing, _) => Err(not_found()),
        }
    }

    fn file_type(&self, path: &Path) -> Option<FileType> {
        match self.resolve_fully(path).0 {
            Resolved::Host { path, .. } => self.host.file_type(&path),
            Resolved::Text(_) => Some(FileType::Regular),
            Resolved::Missing => None,
        }
    }

    fn canonicalize(&self, path: &Path) -> PathBuf {
        match self.resolve(path) {
            // A produced path is already canonical; the host would not know it.
            Resolved::Host { copy: None, .. } => self.host.canonicalize(path),
            _ => path.to_path_buf(),
        }
    }

    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.resolve_fully(path).0 {
            Resolved::Host { path, .. } => self.host.read_link(&path),
            _ => Err(std::io::Error::other("not a symlink")),
        }
    }

    fn is_executable(&self, path: &Path) -> bool {
        match self.resolve_fully(path).0 {
            Resolved::Host { path, .. } => self.host.is_executable(&path),
            _ => false,
        }
    }

    fn get_env(&self, name: &str) -> Option<String> {
        self.host.get_env(name)
    }

    fn current_dir(&self) -> Option<PathBuf> {
        self.host.current_dir()
    }

    fn current_time(&self) -> i64 {
        self.host.current_time()
    }

    fn fetch(&self, req: &FetchRequest) -> Option<Result<PathBuf, String>> {
        self.host.fetch(req)
    }
}
