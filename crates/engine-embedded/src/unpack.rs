//! Unpacking a fetched tarball (`builtins.fetchTarball`), bounded and confined.
//!
//! The archive comes from another server, so nothing in it is trusted: a small gzip may
//! expand to gigabytes, hold a million tiny files, name paths with `..`, or carry links
//! that lead out of the folder. Unpacking therefore counts the bytes it decompresses and
//! writes, and the entries it creates, against the request's budget; checks the request's
//! deadline (and the memory ceiling's interrupt) on every read; creates each entry only
//! below the target folder, never through a link; and refuses symbolic links (checked where
//! they land, and once more after unpacking, resolved) and hard links that lead outside.

use nixweb_app::engine::Bound;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What one unpacking may use.
#[derive(Clone)]
pub struct Bounds {
    /// Bytes of file contents it may write.
    pub max_bytes: u64,
    /// Entries (files, folders, links) it may create.
    pub max_entries: u64,
    pub deadline: Option<Instant>,
    /// Raised when the server is over its memory ceiling.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// What an unpacking used.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Used {
    pub bytes: u64,
    pub entries: u64,
}

#[derive(Debug)]
pub enum UnpackError {
    /// Over the bytes or entries of [`Bounds`]: which, and by what.
    Limit(Bound, String),
    /// The deadline passed, or the interrupt was raised.
    Stopped,
    /// The archive is broken or hostile (a path or link leading outside).
    Invalid(String),
}

/// Unpacks a .tar.gz (or plain .tar) into `target`, which must not exist yet. Like Nix, a
/// tarball holding one top-level folder yields that folder. On error the caller removes
/// `target`.
pub fn unpack(
    archive: &[u8],
    target: &Path,
    bounds: &Bounds,
) -> Result<(PathBuf, Used), UnpackError> {
    let invalid = |e: std::io::Error| UnpackError::Invalid(e.to_string());
    std::fs::create_dir(target).map_err(invalid)?;
    let root = target.canonicalize().map_err(invalid)?;
    let decompressed: Box<dyn Read + '_> = if archive.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(archive))
    } else {
        Box::new(archive)
    };
    // Headers and padding take up to about 1.5 KiB per entry besides the contents; past
    // that allowance the stream is not a tarball within bounds (long names, say).
    let allowance = bounds
        .max_bytes
        .saturating_add(bounds.max_entries.saturating_mul(1536))
        .saturating_add(1 << 20);
    let stop = Arc::new(std::sync::Mutex::new(None));
    let reader = Guarded {
        inner: decompressed,
        left: allowance,
        bounds: bounds.clone(),
        stop: stop.clone(),
    };
    let mut tar = tar::Archive::new(reader);
    let mut used = Used::default();
    let result = (|| {
        for entry in tar.entries().map_err(invalid)? {
            let entry = entry.map_err(invalid)?;
            used.entries += 1;
            if used.entries > bounds.max_entries {
                return Err(UnpackError::Limit(
                    Bound::FetchFiles,
                    format!("it has more than {} entries", bounds.max_entries),
                ));
            }
            unpack_entry(entry, &root, bounds, &mut used)?;
        }
        check_links(&root, used.entries)
    })();
    // The reader's own reason wins: an I/O error from a stopped read is its symptom.
    if let Some(why) = stop.lock().expect("stop lock").take() {
        return Err(why);
    }
    result?;
    let top: Vec<_> = std::fs::read_dir(&root)
        .map_err(invalid)?
        .flatten()
        .collect();
    let result = match top.as_slice() {
        [only] if only.file_type().is_ok_and(|t| t.is_dir()) => only.path(),
        _ => root,
    };
    Ok((result, used))
}

fn unpack_entry<R: Read>(
    mut entry: tar::Entry<R>,
    root: &Path,
    bounds: &Bounds,
    used: &mut Used,
) -> Result<(), UnpackError> {
    let name = entry
        .path()
        .map_err(|e| UnpackError::Invalid(e.to_string()))?
        .into_owned();
    let Some(relative) = relative_inside(&name) else {
        return Err(UnpackError::Invalid(format!(
            "the entry '{}' leads outside the folder",
            name.display()
        )));
    };
    if relative.as_os_str().is_empty() {
        return Ok(());
    }
    let io = |e: std::io::Error| UnpackError::Invalid(format!("'{}': {e}", name.display()));
    let destination = root.join(&relative);
    let parent = destination.parent().expect("below the root");
    std::fs::create_dir_all(parent).map_err(io)?;
    // Earlier entries may have made links: the entry must still land below the root.
    let real_parent = parent.canonicalize().map_err(io)?;
    if !real_parent.starts_with(root) {
        return Err(UnpackError::Invalid(format!(
            "the entry '{}' leads outside the folder through a link",
            name.display()
        )));
    }
    let destination = real_parent.join(destination.file_name().expect("a normal name"));
    let kind = entry.header().entry_type();
    if kind.is_dir() {
        return match std::fs::symlink_metadata(&destination) {
            Ok(meta) if meta.is_dir() => Ok(()),
            _ => std::fs::create_dir(&destination).map_err(io),
        };
    }
    // A later entry of the same name replaces an earlier one (as tar does); never through a
    // link, and never a folder.
    if let Ok(meta) = std::fs::symlink_metadata(&destination) {
        if meta.is_dir() {
            return Err(UnpackError::Invalid(format!(
                "the entry '{}' would replace a folder",
                name.display()
            )));
        }
        std::fs::remove_file(&destination).map_err(io)?;
    }
    if kind.is_symlink() {
        let target = link_name(&entry, &name)?;
        // Judged where the link lands: resolved lexically from its real folder.
        let lands = normalise_below(&real_parent.join(&target));
        if target.is_absolute() || !lands.is_some_and(|p| p.starts_with(root)) {
            return Err(UnpackError::Invalid(format!(
                "the link '{}' points outside the folder ('{}')",
                name.display(),
                target.display()
            )));
        }
        return std::os::unix::fs::symlink(&target, &destination).map_err(io);
    }
    if kind.is_hard_link() {
        // A hard link names an earlier entry of the archive, relative to its root.
        let target = link_name(&entry, &name)?;
        let source = relative_inside(&target)
            .map(|r| root.join(r))
            .and_then(|p| p.canonicalize().ok())
            .filter(|p| p.starts_with(root))
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()));
        let Some(source) = source else {
            return Err(UnpackError::Invalid(format!(
                "the hard link '{}' does not name a file unpacked before it ('{}')",
                name.display(),
                target.display()
            )));
        };
        return std::fs::hard_link(source, &destination).map_err(io);
    }
    if !(kind.is_file() || kind == tar::EntryType::Continuous) {
        // Devices, pipes, sparse files: nothing an app needs; left out.
        return Ok(());
    }
    let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if executable { 0o755 } else { 0o644 })
            .open(&destination)
            .map_err(io)?
    };
    let left = bounds.max_bytes.saturating_sub(used.bytes);
    let written = std::io::copy(&mut (&mut entry).take(left + 1), &mut file).map_err(io)?;
    used.bytes += written;
    if written > left {
        return Err(UnpackError::Limit(
            Bound::FetchUnpacked,
            format!("its files hold more than {} bytes", bounds.max_bytes),
        ));
    }
    Ok(())
}

fn link_name<R: Read>(entry: &tar::Entry<R>, name: &Path) -> Result<PathBuf, UnpackError> {
    entry
        .link_name()
        .ok()
        .flatten()
        .map(|l| l.into_owned())
        .filter(|l| !l.as_os_str().is_empty())
        .ok_or_else(|| UnpackError::Invalid(format!("the link '{}' has no target", name.display())))
}

/// An entry's name as a path below the root (`/` and `.` dropped); None if it has `..`.
fn relative_inside(name: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => return None,
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

/// `path` with `.` and `..` resolved lexically; None if `..` would climb above `/`.
fn normalise_below(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            // Climbing above `/` is what this refuses.
            Component::ParentDir => out.pop().then_some(())?,
            _ => {}
        }
    }
    Some(out)
}

/// After unpacking: every symbolic link, resolved through the links it passes (which a
/// lexical check cannot see), must stay below the root or lead nowhere.
fn check_links(root: &Path, entries: u64) -> Result<(), UnpackError> {
    let mut folders = vec![root.to_owned()];
    let mut visited = 0u64;
    while let Some(folder) = folders.pop() {
        let listing =
            std::fs::read_dir(&folder).map_err(|e| UnpackError::Invalid(e.to_string()))?;
        for entry in listing.flatten() {
            visited += 1;
            if visited > entries + 1 {
                return Err(UnpackError::Invalid("more files than entries".into()));
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_symlink() {
                if let Ok(real) = entry.path().canonicalize() {
                    if !real.starts_with(root) {
                        return Err(UnpackError::Invalid(format!(
                            "the link '{}' leads outside the folder",
                            entry
                                .path()
                                .strip_prefix(root)
                                .unwrap_or(&entry.path())
                                .display()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The decompressed stream, stopped past its allowance, its deadline or its interrupt.
struct Guarded<'a> {
    inner: Box<dyn Read + 'a>,
    left: u64,
    bounds: Bounds,
    /// Why it stopped, for [`unpack`] to report rather than the I/O error it caused.
    stop: Arc<std::sync::Mutex<Option<UnpackError>>>,
}

impl Read for Guarded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let why = if self.bounds.deadline.is_some_and(|d| Instant::now() >= d)
            || self
                .bounds
                .interrupt
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            Some(UnpackError::Stopped)
        } else if self.left == 0 {
            Some(UnpackError::Limit(
                Bound::FetchUnpacked,
                format!(
                    "it decompresses to more than its {} bytes of files allow",
                    self.bounds.max_bytes
                ),
            ))
        } else {
            None
        };
        if let Some(why) = why {
            *self.stop.lock().expect("stop lock") = Some(why);
            return Err(std::io::Error::other("unpacking stopped"));
        }
        let room = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..room])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Bounds {
        Bounds {
            max_bytes: 1 << 20,
            max_entries: 100,
            deadline: None,
            interrupt: None,
        }
    }

    /// A tarball from (name, kind, link target or contents) entries, gzipped.
    fn tarball(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            // Written raw: the builder's own checks would refuse the hostile names.
            let bytes = name.as_bytes();
            header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            if kind.is_symlink() || kind.is_hard_link() {
                header.set_link_name(data).unwrap();
                header.set_size(0);
                header.set_cksum();
                builder.append(&header, std::io::empty()).unwrap();
            } else {
                header.set_size(data.len() as u64);
                header.set_cksum();
                builder.append(&header, data.as_bytes()).unwrap();
            }
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn run(
        entries: &[(&str, tar::EntryType, &str)],
        bounds: &Bounds,
    ) -> (tempfile::TempDir, Result<(PathBuf, Used), UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        // Beside the target: what a link that climbs out by one level would reach.
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        let result = unpack(&tarball(entries), &dir.path().join("t"), bounds);
        (dir, result)
    }

    use tar::EntryType::{Directory as D, Link as H, Regular as F, Symlink as L};

    #[test]
    fn an_ordinary_tarball_unpacks_to_its_folder() {
        let (_dir, result) = run(
            &[
                ("src/", D, ""),
                ("src/a.nix", F, "1"),
                ("src/l", L, "a.nix"),
                ("src/h", H, "src/a.nix"),
            ],
            &bounds(),
        );
        let (path, used) = result.unwrap();
        assert!(path.ends_with("src"));
        assert_eq!(std::fs::read_to_string(path.join("l")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(path.join("h")).unwrap(), "1");
        assert_eq!(
            used,
            Used {
                bytes: 1,
                entries: 4
            }
        );
    }

    #[test]
    fn links_and_names_leading_outside_are_refused() {
        for hostile in [
            vec![("x/passwd", L, "/etc/passwd")],
            vec![("x/up", L, "../../../etc")],
            vec![("x/../../escape", F, "a")],
            vec![("x/h", H, "/etc/passwd")],
            vec![("x/h", H, "../outside")],
            // Through a link to the folder itself, `..` climbs out where lexically it
            // would not: caught once links are resolved.
            vec![("here", L, "."), ("far", L, "here/../secret")],
            vec![("dot", L, "."), ("dot/up", L, "../etc")],
        ] {
            let (_dir, result) = run(&hostile, &bounds());
            assert!(
                matches!(result, Err(UnpackError::Invalid(_))),
                "{hostile:?}: {result:?}"
            );
        }
    }

    #[test]
    fn bytes_and_entries_are_bounded() {
        let small = Bounds {
            max_bytes: 10,
            ..bounds()
        };
        let (_dir, result) = run(&[("a", F, "0123456789x")], &small);
        assert!(
            matches!(result, Err(UnpackError::Limit(Bound::FetchUnpacked, _))),
            "{result:?}"
        );
        let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let many: Vec<_> = names.iter().map(|n| (n.as_str(), F, "")).collect();
        let few = Bounds {
            max_entries: 10,
            ..bounds()
        };
        let (_dir, result) = run(&many, &few);
        assert!(
            matches!(result, Err(UnpackError::Limit(Bound::FetchFiles, _))),
            "{result:?}"
        );
    }

    #[test]
    fn a_passed_deadline_stops_it() {
        let late = Bounds {
            deadline: Some(Instant::now()),
            ..bounds()
        };
        let (_dir, result) = run(&[("a", F, "x")], &late);
        assert!(matches!(result, Err(UnpackError::Stopped)), "{result:?}");
    }
}
