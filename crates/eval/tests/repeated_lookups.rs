//! A long-lived evaluator (one per server worker) evaluates the same `import <lib/x.nix>`
//! on every request. Once found, neither the search-path lookup nor the import looks at
//! the file system again; a file that was missing is looked for again, and a new search
//! path is searched afresh.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nixweb_eval::io::FileType;
use nixweb_eval::{EvalIO, Evaluator, StdIO};

/// The real file system; every path the evaluator looks at or reads is recorded.
#[derive(Default)]
struct Recording {
    looked_at: Mutex<Vec<PathBuf>>,
}

impl Recording {
    fn note(&self, path: &Path) {
        self.looked_at.lock().unwrap().push(path.to_path_buf());
    }
    fn take(&self) -> Vec<PathBuf> {
        std::mem::take(&mut self.looked_at.lock().unwrap())
    }
}

impl EvalIO for Recording {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.note(path);
        StdIO.read_file(path)
    }
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        self.note(path);
        StdIO.read_dir(path)
    }
    fn file_type(&self, path: &Path) -> Option<FileType> {
        self.note(path);
        StdIO.file_type(path)
    }
    fn read_link(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.note(path);
        StdIO.read_link(path)
    }
    fn get_env(&self, _name: &str) -> Option<String> {
        None
    }
}

fn setup() -> (tempfile::TempDir, PathBuf, Arc<Recording>, Evaluator) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("lib/sub")).unwrap();
    std::fs::write(root.join("lib/real.nix"), "{ answer = 6 * 7; }").unwrap();
    std::os::unix::fs::symlink("real.nix", root.join("lib/link.nix")).unwrap();
    std::fs::write(root.join("lib/sub/default.nix"), "[ 1 2 ]").unwrap();
    std::os::unix::fs::symlink("sub", root.join("lib/dirlink")).unwrap();
    let io = Arc::new(Recording::default());
    let mut ev = Evaluator::new(io.clone());
    ev.set_search_path(&[format!("lib={}", root.join("lib").display())]);
    (dir, root, io, ev)
}

fn eval(ev: &mut Evaluator, root: &Path, text: &str) -> String {
    let v = ev.eval_expr_str(text, root).unwrap();
    ev.force_deep(&v).unwrap();
    nixweb_eval::print::print_value(&v)
}

#[test]
fn a_second_lookup_and_import_touch_nothing() {
    let (_dir, root, io, mut ev) = setup();
    for text in [
        "(import <lib/real.nix>).answer",
        "(import <lib/link.nix>).answer",
        "import <lib/sub>",
        "builtins.length (import ./lib/dirlink)",
    ] {
        let first = eval(&mut ev, &root, text);
        assert!(!io.take().is_empty(), "the first {text} looks at files");
        let again = eval(&mut ev, &root, text);
        assert_eq!(first, again);
        assert_eq!(io.take(), Vec::<PathBuf>::new(), "{text} again");
    }
    // A link and its target are still one import.
    assert_eq!(
        eval(
            &mut ev,
            &root,
            "import <lib/link.nix> == import <lib/real.nix>"
        ),
        "true"
    );
}

#[test]
fn a_missing_file_is_looked_for_again() {
    let (_dir, root, io, mut ev) = setup();
    let missing = ev.eval_expr_str("<lib/later.nix>", &root);
    assert!(missing.is_err());
    io.take();
    std::fs::write(root.join("lib/later.nix"), "5").unwrap();
    assert_eq!(eval(&mut ev, &root, "import <lib/later.nix>"), "5");
    assert!(io.take().contains(&root.join("lib/later.nix")));
}

#[test]
fn another_search_path_is_searched_afresh() {
    let (_dir, root, io, mut ev) = setup();
    eval(&mut ev, &root, "<lib/real.nix>");
    io.take();
    // findFile with a list of its own is not answered from the configured path's hits.
    let own = format!(
        "builtins.findFile [ {{ prefix = \"lib\"; path = \"{}/lib/sub\"; }} ] \"lib/default.nix\"",
        root.display()
    );
    assert_eq!(
        eval(&mut ev, &root, &own),
        format!("{}/lib/sub/default.nix", root.display())
    );
    assert!(!io.take().is_empty());
    // A new configured search path forgets the old one's hits.
    std::fs::create_dir_all(root.join("other")).unwrap();
    std::fs::write(root.join("other/real.nix"), "{ answer = 1; }").unwrap();
    ev.set_search_path(&[format!("lib={}", root.join("other").display())]);
    assert_eq!(
        eval(&mut ev, &root, "<lib/real.nix>"),
        format!("{}/other/real.nix", root.display())
    );
}
