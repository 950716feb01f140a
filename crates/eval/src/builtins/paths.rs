//! Filesystem builtins and copying source paths "to the store" (computing their store
//! paths; nothing is written). All access goes through `EvalIO`.

use std::cell::RefCell;
use std::path::Path;

use nixweb_store::{FileIngestionMethod, NodeKind, SourceTree};

use super::Registry;
use crate::error::{err, EResult, ErrorKind, EvalError};
use crate::eval::{io_msg, Evaluator};
use crate::io::{EvalIO, FileType};
use crate::produced::Produced;
use crate::source::Pos;
use crate::value::*;

/// Lets the store crate's NAR serialiser read through the host's `EvalIO`.
pub struct IoTree<'a>(pub &'a dyn EvalIO);

impl SourceTree for IoTree<'_> {
    fn node_kind(&self, path: &Path) -> std::io::Result<NodeKind> {
        match self.0.file_type(path) {
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory",
            )),
            Some(FileType::Directory) => Ok(NodeKind::Directory),
            Some(FileType::Symlink) => Ok(NodeKind::Symlink),
            Some(FileType::Regular) => Ok(NodeKind::Regular {
                executable: self.0.is_executable(path),
            }),
            Some(FileType::Unknown) => Ok(NodeKind::Other),
        }
    }
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.0.read_file(path)
    }
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, NodeKind)>> {
        let mut out = Vec::new();
        for (name, _) in self.0.read_dir(path)? {
            let kind = self.node_kind(&path.join(&name))?;
            out.push((name, kind));
        }
        Ok(out)
    }
    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.0.read_link(path)
    }
}

fn node_type_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Directory => "directory",
        NodeKind::Symlink => "symlink",
        NodeKind::Regular { .. } => "regular",
        _ => "unknown",
    }
}

/// The store path `path` would get when copied (as `"${./p}"` does); memoised.
pub fn copy_path_to_store(ev: &mut Evaluator, path: &str, pos: Pos) -> EResult<String> {
    if let Some(p) = ev.copied_paths.get(path) {
        let p = p.clone();
        // The table may have started over since (see `produced`).
        if !ev.produced.contains(&p) {
            produce_copy(ev, &p, path, None);
        }
        return Ok(p);
    }
    let (result, _) = add_path(ev, path, None, true, None, pos)?;
    // Paths may come from requests: the memo starts over rather than grow.
    if ev.copied_paths.len() >= COPIED_PATHS_KEPT {
        ev.copied_paths.clear();
    }
    ev.copied_paths.insert(path.to_string(), result.clone());
    Ok(result)
}

/// Store paths of copied paths remembered between calls (and requests).
const COPIED_PATHS_KEPT: usize = 4096;

/// Computes the store path of a (filtered) tree. `filter` is a Nix function
/// `path: type: bool`.
pub fn add_path(
    ev: &mut Evaluator,
    path: &str,
    name: Option<&str>,
    recursive: bool,
    filter: Option<Value>,
    pos: Pos,
) -> EResult<(String, nixweb_store::Hash)> {
    if ev.io.file_type(Path::new(path)).is_none() {
        return err(
            format!("getting status of '{}': No such file or directory", path),
            Pos::NONE,
        );
    }
    let io = ev.io.clone();
    let tree = IoTree(&*io);
    let store = ev.store.clone();
    let method = if recursive {
        FileIngestionMethod::Recursive
    } else {
        FileIngestionMethod::Flat
    };
    let failure: RefCell<Option<Box<EvalError>>> = RefCell::new(None);
    // What the filter kept: only that of the copy is readable (see `produced`).
    let kept = RefCell::new(filter.as_ref().map(|_| std::collections::HashSet::new()));
    let result = match filter {
        Some(f) => {
            let mut filter_fn = |p: &Path, kind: NodeKind| -> nixweb_store::Result<bool> {
                let r = (|| {
                    let v = ev.call2(
                        &f,
                        Thunk::value(Value::str(p.to_string_lossy().into_owned())),
                        Thunk::value(Value::str(node_type_name(kind))),
                        pos,
                    )?;
                    match v {
                        Value::Bool(b) => Ok(b),
                        other => err(
                            format!(
                                "value is {} while a Boolean was expected",
                                other.type_desc()
                            ),
                            pos,
                        ),
                    }
                })();
                match r {
                    Ok(b) => {
                        if b {
                            if let Some(kept) = kept.borrow_mut().as_mut() {
                                kept.insert(p.to_path_buf());
                            }
                        }
                        Ok(b)
                    }
                    Err(e) => {
                        *failure.borrow_mut() = Some(e);
                        Err(nixweb_store::Error::Io {
                            path: p.to_path_buf(),
                            source: std::io::Error::other("filter failed"),
                        })
                    }
                }
            };
            store.path_for_source(&tree, Path::new(path), name, method, Some(&mut filter_fn))
        }
        None => store.path_for_source(&tree, Path::new(path), name, method, None),
    };
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    match result {
        Ok((sp, hash)) => {
            let sp = store.print(&sp);
            produce_copy(ev, &sp, path, kept.into_inner());
            Ok((sp, hash))
        }
        Err(e) => err(e.to_string(), pos),
    }
}

/// Makes the store path `store_path` readable as a copy of `source` (see `produced`).
fn produce_copy(
    ev: &Evaluator,
    store_path: &str,
    source: &str,
    kept: Option<std::collections::HashSet<std::path::PathBuf>>,
) {
    let copy = Produced::Copy {
        source: source.into(),
        kept,
    };
    ev.produced.register(ev.store.as_str(), store_path, copy);
}

fn path_ctx_string(p: String) -> Value {
    let mut ctx = Context::new();
    ctx.insert(p.clone());
    Value::String(NixStr::with_ctx(p, ctx))
}

pub fn register(reg: &mut Registry) {
    reg.add("readFile", 1, |ev, a, pos| {
        let p = ev.coerce_to_path(&a[0], pos)?;
        match ev.io.read_file(Path::new(&p)) {
            Ok(bytes) => Ok(Value::str(String::from_utf8_lossy(&bytes).into_owned())),
            Err(_) if ev.io.file_type(Path::new(&p)) == Some(FileType::Directory) => {
                err("reading from file: Is a directory", pos)
            }
            Err(e) => err(format!("opening file '{}': {}", p, io_msg(&e)), pos),
        }
    });
    reg.add("pathExists", 1, |ev, a, pos| {
        let p = ev.coerce_to_path(&a[0], pos)?;
        Ok(Value::Bool(ev.io.path_exists(Path::new(&p))))
    });
    reg.add("readDir", 1, |ev, a, pos| {
        let p = ev.coerce_to_path(&a[0], pos)?;
        let entries = match ev.io.read_dir(Path::new(&p)) {
            Ok(e) => e,
            Err(e) => return err(format!("opening directory '{}': {}", p, io_msg(&e)), pos),
        };
        let mut attrs = Attrs::new();
        for (name, kind) in entries {
            attrs.insert(
                name.into(),
                Thunk::value(Value::str(kind.as_nix_str())),
                Pos::NONE,
            );
        }
        Ok(Value::attrs(attrs))
    });
    // Added after Nix 2.8: the kind of one path, not following a final symlink.
    reg.add("readFileType", 1, |ev, a, pos| {
        let p = ev.coerce_to_path(&a[0], pos)?;
        match ev.io.file_type(Path::new(&p)) {
            Some(kind) => Ok(Value::str(kind.as_nix_str())),
            None => err(
                format!("getting status of '{}': No such file or directory", p),
                pos,
            ),
        }
    });
    reg.add("toPath", 1, |ev, a, pos| {
        let p = ev.coerce_to_path(&a[0], pos)?;
        Ok(Value::str(crate::lower::canon_path(&p)))
    });
    reg.add("storePath", 1, |ev, a, pos| {
        let p = ev.coerce_to_path(&a[0], pos)?;
        let store = ev.store.clone();
        match store.parse_containing(&p) {
            Ok(sp) => Ok(path_ctx_string_keep(store.print(&sp), p)),
            Err(_) => err(format!("path '{}' is not in the Nix store", p), pos),
        }
    });
    reg.add("findFile", 2, |ev, a, pos| {
        let sp = ev.force_list(&a[0], pos)?;
        let name = ev.force_string(&a[1], pos)?;
        let mut entries = Vec::new();
        for t in sp.iter() {
            let item = ev.force_attrs(t, pos)?;
            let prefix = match item.get("prefix").cloned() {
                Some(p) => ev.force_string(&p, pos)?.as_str().to_string(),
                None => String::new(),
            };
            let path = match item.get("path").cloned() {
                Some(p) => {
                    let v = ev.force(&p)?;
                    let mut ctx = Context::new();
                    ev.coerce_to_string(&v, pos, false, false, &mut ctx)?
                        .into_owned()
                }
                None => return err("attribute 'path' missing", pos),
            };
            entries.push((prefix, path));
        }
        ev.find_file(&entries, name.as_str(), pos)
    });
    reg.add("filterSource", 2, |ev, a, pos| {
        let f = ev.force(&a[0])?;
        let p = ev.coerce_to_path(&a[1], pos)?;
        let (out, _) = add_path(ev, &p, None, true, Some(f), pos)?;
        Ok(path_ctx_string(out))
    });
    reg.add("path", 1, |ev, a, pos| {
        let args = ev.force_attrs(&a[0], pos)?;
        let path = match args.get("path").cloned() {
            Some(p) => ev.coerce_to_path(&p, pos)?,
            None => return err("'path' required", pos),
        };
        let name = match args.get("name").cloned() {
            Some(n) => Some(ev.force_string(&n, pos)?.as_str().to_string()),
            None => None,
        };
        let filter = match args.get("filter").cloned() {
            Some(f) => Some(ev.force(&f)?),
            None => None,
        };
        let recursive = match args.get("recursive").cloned() {
            Some(r) => ev.force_bool(&r, pos)?,
            None => true,
        };
        let expected = match args.get("sha256").cloned() {
            Some(h) => Some(ev.force_string(&h, pos)?.as_str().to_string()),
            None => None,
        };
        let (out, hash) = add_path(ev, &path, name.as_deref(), recursive, filter, pos)?;
        if let Some(expected) = expected {
            let matches =
                nixweb_store::Hash::parse_any(&expected, Some(nixweb_store::HashAlgo::Sha256))
                    .map(|h| h.bytes() == hash.bytes())
                    .unwrap_or(false);
            if !matches {
                return err(
                    format!(
                        "store path mismatch in (possibly filtered) path added from '{}'",
                        path
                    ),
                    pos,
                );
            }
        }
        Ok(path_ctx_string(out))
    });
    reg.add("toFile", 2, |ev, a, pos| {
        let name = ev.force_string(&a[0], pos)?;
        let contents = ev.force_string(&a[1], pos)?;
        let mut refs = std::collections::BTreeSet::new();
        let store = ev.store.clone();
        for c in contents.context_items() {
            if c.starts_with('=') || c.starts_with('!') {
                return err(
                    format!(
                        "in 'toFile': the file named '{}' must not contain a reference to a derivation but contains ({})",
                        name.as_str(), c
                    ),
                    pos,
                );
            }
            if let Ok(sp) = store.parse(c) {
                refs.insert(sp);
            }
        }
        match store.make_text_path(name.as_str(), contents.as_str().as_bytes(), &refs) {
            Ok(sp) => {
                ev.known.insert_references(sp.clone(), refs);
                let printed = store.print(&sp);
                let text = Produced::Text(contents.as_str().as_bytes().into());
                ev.produced.register(ev.store.as_str(), &printed, text);
                Ok(path_ctx_string(printed))
            }
            Err(e) => err(e.to_string(), pos),
        }
    });
    reg.add("hashFile", 2, |ev, a, pos| {
        let algo = ev.force_string(&a[0], pos)?;
        let p = ev.coerce_to_path(&a[1], pos)?;
        let algo = super::hashing::parse_algo(algo.as_str(), pos)?;
        match ev.io.read_file(Path::new(&p)) {
            Ok(bytes) => Ok(Value::str(
                nixweb_store::Hash::digest(algo, &bytes).to_base16(),
            )),
            Err(e) => Err(EvalError::new(
                ErrorKind::Eval,
                format!("opening file '{}': {}", p, io_msg(&e)),
                pos,
            )),
        }
    });
}

fn path_ctx_string_keep(store_path: String, full: String) -> Value {
    let mut ctx = Context::new();
    ctx.insert(store_path);
    Value::String(NixStr::with_ctx(full, ctx))
}
