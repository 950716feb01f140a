//! The single door between the evaluator and the outside world. The evaluator never touches
//! `std::fs` or `std::env` itself: a host hands it an `EvalIO`, which may sandbox, fake or
//! forbid any of these operations.

use std::path::{Path, PathBuf};

/// What kind of filesystem object a path names (as `builtins.readDir` reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    Unknown,
}

impl FileType {
    /// The kind of a file system entry, not following a final symbolic link.
    pub fn from_std(ft: std::fs::FileType) -> FileType {
        if ft.is_symlink() {
            FileType::Symlink
        } else if ft.is_dir() {
            FileType::Directory
        } else if ft.is_file() {
            FileType::Regular
        } else {
            FileType::Unknown
        }
    }

    pub fn as_nix_str(self) -> &'static str {
        match self {
            FileType::Regular => "regular",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
            FileType::Unknown => "unknown",
        }
    }
}

/// A fetch request (`fetchurl`, `fetchTarball`, `fetchGit`) handed to the host.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub kind: String,
    pub url: String,
    pub name: Option<String>,
    pub sha256: Option<String>,
    pub rev: Option<String>,
    pub git_ref: Option<String>,
}

/// `Send + Sync` so that one host IO can serve evaluators on many worker threads.
pub trait EvalIO: Send + Sync {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>>;
    /// `None` when the path does not exist. Does not follow a final symlink.
    fn file_type(&self, path: &Path) -> Option<FileType>;
    fn path_exists(&self, path: &Path) -> bool {
        self.file_type(path).is_some()
    }
    /// Canonical form used for `import` caching and `builtins.path`; defaults to the path itself.
    fn canonicalize(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
    /// The target of a symlink (needed to serialise trees into NARs).
    fn read_link(&self, _path: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::other(
            "symlinks are not supported by this host",
        ))
    }
    /// Whether the owner may execute a regular file (recorded in NARs).
    fn is_executable(&self, _path: &Path) -> bool {
        false
    }
    fn get_env(&self, name: &str) -> Option<String>;
    /// The directory relative paths (search path entries, files named on the command
    /// line) are taken from.
    fn current_dir(&self) -> Option<PathBuf> {
        None
    }
    /// Seconds since the epoch, for `builtins.currentTime`.
    fn current_time(&self) -> i64 {
        0
    }
    /// Fetches something and returns the local path of the result. `None` means this host
    /// offers no fetching at all.
    fn fetch(&self, _req: &FetchRequest) -> Option<Result<PathBuf, String>> {
        None
    }
}

/// Real filesystem and real environment, for the CLI and tests.
#[derive(Debug, Default, Clone)]
pub struct StdIO;

impl EvalIO for StdIO {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let kind = FileType::from_std(entry.file_type()?);
            out.push((entry.file_name().to_string_lossy().into_owned(), kind));
        }
        Ok(out)
    }

    fn file_type(&self, path: &Path) -> Option<FileType> {
        let md = std::fs::symlink_metadata(path).ok()?;
        Some(FileType::from_std(md.file_type()))
    }

    fn canonicalize(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }

    fn get_env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        use std::os::unix::ffi::OsStringExt;
        Ok(std::fs::read_link(path)?.into_os_string().into_vec())
    }

    fn is_executable(&self, path: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o100 != 0)
            .unwrap_or(false)
    }

    fn current_dir(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }

    fn current_time(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}
