//! Store paths the evaluation produced (toFile, builtins.path, filterSource, copied
//! sources) are readable by it, without a store (issue 13 cause 16), and nothing else
//! becomes readable: the host still judges every other path, and a filtered copy shows
//! only what its filter kept.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nixweb_eval::io::FileType;
use nixweb_eval::{EvalIO, Evaluator, StdIO};

/// The real file system, but only under `root`; everything asked for is recorded.
struct Confined {
    root: PathBuf,
    asked: Mutex<Vec<PathBuf>>,
}

impl Confined {
    fn allowed(&self, path: &Path) -> std::io::Result<()> {
        self.asked.lock().unwrap().push(path.to_path_buf());
        if path.starts_with(&self.root) {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "outside the app",
            ))
        }
    }
}

impl EvalIO for Confined {
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.allowed(path)?;
        StdIO.read_file(path)
    }
    fn read_dir(&self, path: &Path) -> std::io::Result<Vec<(String, FileType)>> {
        self.allowed(path)?;
        StdIO.read_dir(path)
    }
    fn file_type(&self, path: &Path) -> Option<FileType> {
        self.allowed(path).ok()?;
        StdIO.file_type(path)
    }
    fn get_env(&self, _name: &str) -> Option<String> {
        None
    }
}

struct App {
    dir: tempfile::TempDir,
    io: Arc<Confined>,
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("src/sub")).unwrap();
    std::fs::write(root.join("src/kept.nix"), "{ answer = 6 * 7; }").unwrap();
    std::fs::write(root.join("src/secret.txt"), "not for the filter").unwrap();
    std::fs::write(root.join("src/sub/deep.txt"), "deep").unwrap();
    let io = Arc::new(Confined {
        root,
        asked: Mutex::new(Vec::new()),
    });
    App { dir, io }
}

impl App {
    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn eval(&self, expr: &str) -> Result<String, String> {
        let mut ev = Evaluator::new(self.io.clone());
        let v = ev
            .eval_expr_str(expr, &self.root())
            .and_then(|v| ev.force_deep(&v).map(|_| v))
            .map_err(|e| e.msg.clone())?;
        Ok(nixweb_eval::print::print_value(&v))
    }
}

#[test]
fn files_made_by_to_file_can_be_read_and_imported() {
    let app = app();
    let made = r#"let f = builtins.toFile "made.nix" "{ x = [ 1 2 ]; }"; in"#;
    assert_eq!(
        app.eval(&format!("{made} (import f).x")).unwrap(),
        "[ 1 2 ]"
    );
    assert_eq!(
        app.eval(&format!("{made} builtins.readFile f")).unwrap(),
        r#""{ x = [ 1 2 ]; }""#
    );
    assert_eq!(
        app.eval(&format!(
            "{made} [ (builtins.pathExists f) (builtins.readFileType f) ]"
        ))
        .unwrap(),
        r#"[ true "regular" ]"#
    );
    // A text is one file: nothing lies inside or beside it.
    assert_eq!(
        app.eval(&format!("{made} builtins.pathExists (f + \"/x\")"))
            .unwrap(),
        "false"
    );
}

#[test]
fn copies_read_from_their_source_and_filters_hide_what_they_left_out() {
    let app = app();
    let copy = r#"let c = builtins.path { path = ./src; name = "c"; filter = p: t: baseNameOf p != "secret.txt"; }; in"#;
    assert_eq!(
        app.eval(&format!("{copy} (import (c + \"/kept.nix\")).answer"))
            .unwrap(),
        "42"
    );
    assert_eq!(
        app.eval(&format!("{copy} builtins.attrNames (builtins.readDir c)"))
            .unwrap(),
        r#"[ "kept.nix" "sub" ]"#
    );
    assert_eq!(
        app.eval(&format!("{copy} builtins.readFile (c + \"/sub/deep.txt\")"))
            .unwrap(),
        r#""deep""#
    );
    assert_eq!(
        app.eval(&format!("{copy} builtins.pathExists (c + \"/secret.txt\")"))
            .unwrap(),
        "false"
    );
    let err = app
        .eval(&format!("{copy} builtins.readFile (c + \"/secret.txt\")"))
        .unwrap_err();
    assert!(err.contains("No such file or directory"), "{err}");
    // filterSource and interpolating a path produce readable copies as well.
    assert_eq!(
        app.eval(r#"builtins.readFile "${builtins.filterSource (p: t: true) ./src}/sub/deep.txt""#)
            .unwrap(),
        r#""deep""#
    );
    assert_eq!(
        app.eval(r#"(import "${./src}/kept.nix").answer"#).unwrap(),
        "42"
    );
}

#[test]
fn nothing_else_in_the_store_becomes_readable() {
    let app = app();
    // Copying /etc is refused by the host, so nothing is produced.
    let err = app.eval("builtins.path { path = /etc; }").unwrap_err();
    assert!(
        err.contains("outside the app") || err.contains("No such file"),
        "{err}"
    );
    // A store path this evaluation did not produce goes to the host, which refuses it,
    // even beside a produced one, and `..` never leads out of a produced path.
    let f = r#"builtins.toFile "t" "x""#;
    let other = "/nix/store/00000000000000000000000000000000-t";
    let err = app
        .eval(&format!(
            "builtins.seq ({f}) (builtins.readFile \"{other}\")"
        ))
        .unwrap_err();
    assert!(err.contains("outside the app"), "{err}");
    assert!(app
        .io
        .asked
        .lock()
        .unwrap()
        .iter()
        .any(|p| p == Path::new(other)));
    let escape = app.root().join("src/kept.nix");
    let up = format!(
        "builtins.pathExists (builtins.path {{ path = ./src/sub; }} + \"/..{}\")",
        escape.display()
    );
    assert_eq!(app.eval(&up).unwrap(), "false");
    // Another evaluator did not produce it, so it cannot read it.
    let mut first = Evaluator::new(app.io.clone());
    let path = first
        .eval_expr_str(&format!("\"${{{f}}}\""), &app.root())
        .map(|v| nixweb_eval::print::print_value(&v))
        .unwrap();
    let err = app.eval(&format!("builtins.readFile {path}")).unwrap_err();
    assert!(err.contains("outside the app"), "{err}");
}
