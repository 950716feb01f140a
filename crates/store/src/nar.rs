//! NAR serialisation of a file tree, and the store paths of trees added to the store.
//!
//! The tree is read through [`SourceTree`] so that the evaluator can serve it from its own
//! I/O layer (and its own sandboxing); [`LocalFs`] reads the real file system. A filter
//! callback decides, for every entry below the root, whether it is included, as
//! `builtins.filterSource` and `builtins.path { filter; }` do. Only the NAR bytes and
//! hashes are produced: nothing is copied anywhere.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hash::{Hash, HashAlgo, Hasher};
use crate::store_path::{FileIngestionMethod, StoreDir, StorePath};

/// The type of one file system node, as `lstat` sees it (symlinks are not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Regular {
        executable: bool,
    },
    Directory,
    Symlink,
    /// Sockets, devices, fifos: Nix refuses to serialise them.
    Other,
}

impl NodeKind {
    /// The type string a `filterSource` filter receives as its second argument.
    pub fn filter_type(self) -> &'static str {
        match self {
            Self::Regular { .. } => "regular",
            Self::Directory => "directory",
            Self::Symlink => "symlink",
            Self::Other => "unknown",
        }
    }
}

/// Read access to a file tree. Paths are whatever the implementation understands; the
/// serialiser only joins directory entry names onto them with `Path::join`.
pub trait SourceTree {
    /// The node kind of `path`, without following a final symlink.
    fn node_kind(&self, path: &Path) -> std::io::Result<NodeKind>;
    /// The whole contents of a regular file.
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// The entries of a directory (any order, without `.` and `..`) with their kinds.
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, NodeKind)>>;
    /// The target of a symlink, as raw bytes.
    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>>;
}

/// The real local file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalFs;

impl SourceTree for LocalFs {
    fn node_kind(&self, path: &Path) -> std::io::Result<NodeKind> {
        Ok(kind_of(&std::fs::symlink_metadata(path)?))
    }

    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, NodeKind)>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // DirEntry::metadata does not follow symlinks, like lstat.
            entries.push((name, kind_of(&entry.metadata()?)));
        }
        Ok(entries)
    }

    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        use std::os::unix::ffi::OsStringExt;
        Ok(std::fs::read_link(path)?.into_os_string().into_vec())
    }
}

fn kind_of(meta: &std::fs::Metadata) -> NodeKind {
    use std::os::unix::fs::PermissionsExt;
    let file_type = meta.file_type();
    if file_type.is_symlink() {
        NodeKind::Symlink
    } else if file_type.is_dir() {
        NodeKind::Directory
    } else if file_type.is_file() {
        // Nix marks a file executable when its owner may execute it.
        NodeKind::Regular {
            executable: meta.permissions().mode() & 0o100 != 0,
        }
    } else {
        NodeKind::Other
    }
}

/// Decides whether an entry (full path, kind) below the root goes into the NAR.
pub type Filter<'a> = dyn FnMut(&Path, NodeKind) -> Result<bool> + 'a;

/// Writes the NAR of the tree at `root` into `out`. `filter` is asked about every entry
/// below the root (never the root itself); an excluded directory is skipped whole.
pub fn dump(
    tree: &dyn SourceTree,
    root: &Path,
    filter: Option<&mut Filter<'_>>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut keep_all = |_: &Path, _: NodeKind| Ok(true);
    let filter: &mut Filter<'_> = match filter {
        Some(f) => f,
        None => &mut keep_all,
    };
    let mut writer = NarWriter {
        out,
        root: root.to_path_buf(),
    };
    writer.string(b"nix-archive-1")?;
    let kind = tree
        .node_kind(root)
        .map_err(|e| fs_error("getting status of", root, e))?;
    dump_node(tree, root, kind, filter, &mut writer)
}

/// The NAR bytes of a tree, unfiltered (what `nix-store --dump` prints).
pub fn nar_bytes(tree: &dyn SourceTree, root: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    dump(tree, root, None, &mut out)?;
    Ok(out)
}

/// The sha256 of the NAR of a (filtered) tree, streamed: no NAR is held in memory.
pub fn nar_hash(
    tree: &dyn SourceTree,
    root: &Path,
    filter: Option<&mut Filter<'_>>,
) -> Result<Hash> {
    let mut hasher = Hasher::new(HashAlgo::Sha256);
    dump(tree, root, filter, &mut hasher)?;
    Ok(hasher.finish())
}

fn dump_node(
    tree: &dyn SourceTree,
    path: &Path,
    kind: NodeKind,
    filter: &mut Filter<'_>,
    w: &mut NarWriter<'_>,
) -> Result<()> {
    w.string(b"(")?;
    w.string(b"type")?;
    match kind {
        NodeKind::Regular { executable } => {
            w.string(b"regular")?;
            if executable {
                w.string(b"executable")?;
                w.string(b"")?;
            }
            w.string(b"contents")?;
            let contents = tree
                .read_file(path)
                .map_err(|e| fs_error("opening file", path, e))?;
            w.string(&contents)?;
        }
        NodeKind::Symlink => {
            w.string(b"symlink")?;
            w.string(b"target")?;
            let target = tree
                .read_link(path)
                .map_err(|e| fs_error("reading symbolic link", path, e))?;
            w.string(&target)?;
        }
        NodeKind::Directory => {
            w.string(b"directory")?;
            let mut entries = tree
                .read_dir(path)
                .map_err(|e| fs_error("opening directory", path, e))?;
            // Byte order of names, as Nix's std::map.
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            for (name, child_kind) in entries {
                let child = path.join(&name);
                if !filter(&child, child_kind)? {
                    continue;
                }
                w.string(b"entry")?;
                w.string(b"(")?;
                w.string(b"name")?;
                w.string(name.as_bytes())?;
                w.string(b"node")?;
                dump_node(tree, &child, child_kind, filter, w)?;
                w.string(b")")?;
            }
        }
        NodeKind::Other => return Err(Error::UnsupportedFileType(path.to_path_buf())),
    }
    w.string(b")")
}

/// NAR strings: little-endian u64 length, the bytes, zero padding to 8 bytes.
struct NarWriter<'a> {
    out: &'a mut dyn Write,
    /// Names the tree in errors of the sink (which only a failing writer can cause).
    root: PathBuf,
}

impl NarWriter<'_> {
    fn string(&mut self, bytes: &[u8]) -> Result<()> {
        let pad = (8 - bytes.len() % 8) % 8;
        let result = self
            .out
            .write_all(&(bytes.len() as u64).to_le_bytes())
            .and_then(|_| self.out.write_all(bytes))
            .and_then(|_| self.out.write_all(&[0u8; 8][..pad]));
        result.map_err(|e| io_error(&self.root, e))
    }
}

fn fs_error(operation: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::FileSystem {
        operation,
        path: path.to_path_buf(),
        source,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The given name, or the base name of `root` when there is none or it is empty.
fn default_name(name: Option<&str>, root: &Path) -> String {
    match name {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => base_name(root),
    }
}

/// The last component of a path, as Nix's `baseNameOf` (trailing slashes ignored): the
/// default name of a path added to the store.
pub fn base_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    let trimmed = text.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or("").to_owned()
}

impl StoreDir {
    /// The store path a tree gets when added to the store (`"${./foo}"`, `filterSource`,
    /// `builtins.path`): recursive ingestion hashes the (filtered) NAR with sha256, giving
    /// a "source" path; flat ingestion hashes the bytes of the single file at `root`.
    /// `name` defaults to the base name of `root`, as in Nix (where `name = ""` also
    /// means the default).
    pub fn path_for_source(
        &self,
        tree: &dyn SourceTree,
        root: &Path,
        name: Option<&str>,
        method: FileIngestionMethod,
        filter: Option<&mut Filter<'_>>,
    ) -> Result<(StorePath, Hash)> {
        let name = default_name(name, root);
        let hash = match method {
            FileIngestionMethod::Recursive => nar_hash(tree, root, filter)?,
            FileIngestionMethod::Flat => {
                let contents = tree
                    .read_file(root)
                    .map_err(|e| fs_error("opening file", root, e))?;
                Hash::digest(HashAlgo::Sha256, &contents)
            }
        };
        let path = self.make_fixed_output_path(method, &hash, &name)?;
        Ok((path, hash))
    }
}

impl StoreDir {
    /// `builtins.path` with a `sha256`: the path must come out where the expected hash
    /// puts it, or Nix's "store path mismatch" error is returned.
    pub fn path_for_source_expecting(
        &self,
        tree: &dyn SourceTree,
        root: &Path,
        name: Option<&str>,
        method: FileIngestionMethod,
        filter: Option<&mut Filter<'_>>,
        expected: &Hash,
    ) -> Result<StorePath> {
        let name = default_name(name, root);
        let expected_path = self.make_fixed_output_path(method, expected, &name)?;
        let (actual, _) = self.path_for_source(tree, root, Some(&name), method, filter)?;
        if actual != expected_path {
            return Err(Error::AddedPathMismatch(root.to_path_buf()));
        }
        Ok(actual)
    }
}

impl StoreDir {
    /// What coercing a path value to a string does (`"${./foo}"`): the recursive source
    /// path named after the base name. Nix refuses file names ending in `.drv` here.
    pub fn copy_path_to_store(&self, tree: &dyn SourceTree, path: &Path) -> Result<StorePath> {
        if path
            .to_string_lossy()
            .ends_with(crate::store_path::DRV_EXTENSION)
        {
            return Err(Error::FileNameEndsInDrv);
        }
        let (store_path, _) =
            self.path_for_source(tree, path, None, FileIngestionMethod::Recursive, None)?;
        Ok(store_path)
    }
}
