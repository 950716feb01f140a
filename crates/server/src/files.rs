//! The one way nixweb opens a file to serve it: [`open_confined`]. Every response that
//! sends a file's bytes (`file` responses, static folders) goes through it.
//!
//! The decision is made on the opened file, not on its name: the path is opened first
//! (following links, as serving a `result` symlink into the Nix store needs), then the
//! descriptor's real path, as the kernel reports it, must lie inside one of the roots. A
//! symlink swapped in after some earlier check cannot lead outside, because nothing is
//! checked before the open and the bytes are read from the descriptor that was checked.
//!
//! A file outside the roots, a missing one and an unreadable one all look the same to the
//! client (404): answering differently would let any client probe the whole file system
//! for which paths exist. The log says which it was.

use std::fs::{File, Metadata};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A regular file inside the roots, opened for reading.
#[derive(Debug)]
pub struct ConfinedFile {
    pub file: File,
    /// Where the file really is, every link resolved.
    pub real_path: PathBuf,
    pub metadata: Metadata,
}

/// Why a file is not served. The client sees the same 404 for each; the log the reason.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{path} cannot be opened: {error}")]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{asked} is {real}, outside the folders files are served from ({roots})")]
    Outside {
        asked: PathBuf,
        real: PathBuf,
        roots: String,
    },
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
}

impl Refusal {
    /// Whether the refusal points at a hostile or broken request rather than a file that
    /// simply is not there.
    pub fn is_suspicious(&self) -> bool {
        matches!(self, Refusal::Outside { .. })
    }
}

/// Opens `path` for serving if, once opened, it is a regular file inside one of `roots`.
/// Blocking: call it from a blocking thread (see [`open_confined_async`]).
pub fn open_confined(path: &Path, roots: &[PathBuf]) -> Result<ConfinedFile, Refusal> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => Refusal::Missing(path.to_owned()),
            _ => Refusal::Unreadable {
                path: path.to_owned(),
                error,
            },
        })?;
    let real_path = opened_path(&file).map_err(|error| Refusal::Unreadable {
        path: path.to_owned(),
        error,
    })?;
    let inside = roots
        .iter()
        .filter_map(|root| root.canonicalize().ok())
        .any(|root| real_path.starts_with(root));
    if !inside {
        return Err(Refusal::Outside {
            asked: path.to_owned(),
            real: real_path,
            roots: roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let metadata = file.metadata().map_err(|error| Refusal::Unreadable {
        path: real_path.clone(),
        error,
    })?;
    if !metadata.is_file() {
        return Err(Refusal::NotAFile(real_path));
    }
    Ok(ConfinedFile {
        file,
        real_path,
        metadata,
    })
}

/// [`open_confined`] on a blocking thread.
pub async fn open_confined_async(
    path: PathBuf,
    roots: Vec<PathBuf>,
) -> Result<ConfinedFile, Refusal> {
    let asked = path.clone();
    tokio::task::spawn_blocking(move || open_confined(&path, &roots))
        .await
        .unwrap_or_else(|e| {
            Err(Refusal::Unreadable {
                path: asked,
                error: std::io::Error::other(e.to_string()),
            })
        })
}

/// The path the kernel holds for an open descriptor. A file deleted since it was opened
/// has no path; it is refused like a missing one.
fn opened_path(file: &File) -> std::io::Result<PathBuf> {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    if !link.is_absolute() || link.to_string_lossy().ends_with(" (deleted)") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the file has no path any more",
        ));
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, tempfile::TempDir) {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("in.txt"), "in").unwrap();
        std::fs::write(outside.path().join("secret"), "secret").unwrap();
        (root, outside)
    }

    #[test]
    fn files_inside_are_served_through_links_too() {
        let (root, _outside) = setup();
        std::fs::create_dir(root.path().join("sub")).unwrap();
        symlink(root.path().join("in.txt"), root.path().join("sub/link")).unwrap();
        let roots = [root.path().to_owned()];
        for asked in ["in.txt", "sub/link", "sub/../in.txt"] {
            let opened = open_confined(&root.path().join(asked), &roots).unwrap();
            assert_eq!(opened.metadata.len(), 2, "{asked}");
            assert_eq!(
                opened.real_path,
                root.path().canonicalize().unwrap().join("in.txt")
            );
        }
    }

    #[test]
    fn links_and_dots_that_leave_the_roots_are_refused() {
        let (root, outside) = setup();
        symlink(outside.path().join("secret"), root.path().join("escape")).unwrap();
        symlink(outside.path(), root.path().join("dir")).unwrap();
        let roots = [root.path().to_owned()];
        let dotted = root
            .path()
            .join("..")
            .join(outside.path().file_name().unwrap())
            .join("secret");
        for asked in [
            root.path().join("escape"),
            root.path().join("dir/secret"),
            dotted,
            PathBuf::from("/etc/hostname"),
        ] {
            let refusal = open_confined(&asked, &roots).unwrap_err();
            assert!(
                matches!(refusal, Refusal::Outside { .. } | Refusal::Missing(_)),
                "{asked:?}: {refusal}"
            );
        }
        assert!(open_confined(&root.path().join("escape"), &roots)
            .unwrap_err()
            .is_suspicious());
    }

    /// A folder on the served path exchanged, again and again, with a link to a folder
    /// outside (as an attacker with write access to a served folder could): every file
    /// opened is the inside one. Checking a name and opening it afterwards fails this.
    #[test]
    fn a_folder_swapped_for_a_link_while_serving_never_leads_outside() {
        let (root, outside) = setup();
        std::fs::write(outside.path().join("f"), "secret").unwrap();
        let folder = root.path().join("d");
        let spare = root.path().join("spare");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("f"), "in").unwrap();
        symlink(outside.path(), &spare).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let names = [&folder, &spare]
                .map(|p| std::ffi::CString::new(p.to_str().unwrap().as_bytes()).unwrap());
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut swaps = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // SAFETY: renameat2 reads two NUL-terminated paths.
                    let exchanged = unsafe {
                        libc::renameat2(
                            libc::AT_FDCWD,
                            names[0].as_ptr(),
                            libc::AT_FDCWD,
                            names[1].as_ptr(),
                            libc::RENAME_EXCHANGE,
                        )
                    };
                    assert_eq!(exchanged, 0, "{}", std::io::Error::last_os_error());
                    swaps += 1;
                }
                swaps
            })
        };
        let roots = [root.path().to_owned()];
        let asked = folder.join("f");
        let (mut served, mut refused) = (0, 0);
        for i in 0..500_000 {
            if i >= 3000 && served > 0 && refused > 0 {
                break;
            }
            match open_confined(&asked, &roots) {
                Ok(mut opened) => {
                    let mut text = String::new();
                    std::io::Read::read_to_string(&mut opened.file, &mut text).unwrap();
                    assert_eq!(text, "in", "a swapped folder led outside");
                    served += 1;
                }
                Err(_) => refused += 1,
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let swaps = swapper.join().unwrap();
        assert!(
            served > 0 && refused > 0,
            "served {served}, refused {refused}, in {swaps} swaps"
        );
    }

    #[test]
    fn folders_and_fifos_are_not_files() {
        let (root, _outside) = setup();
        let fifo = root.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let roots = [root.path().to_owned()];
        // Opening the FIFO does not wait for a writer, and it is refused.
        assert!(matches!(
            open_confined(&fifo, &roots),
            Err(Refusal::NotAFile(_))
        ));
        assert!(matches!(
            open_confined(root.path(), &roots),
            Err(Refusal::NotAFile(_))
        ));
        assert!(matches!(
            open_confined(&root.path().join("nope"), &roots),
            Err(Refusal::Missing(_))
        ));
    }
}
