//! Syntax errors are located where Nix 2.8 locates them: each broken file below goes
//! through `nix-instantiate --parse` and through nixweb's parser, and both must name the
//! same line and column (and the same message).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use nixweb_eval::{Evaluator, StdIO};

/// Broken files: unterminated strings (plain, indented, inside and after interpolations),
/// unclosed brackets of every kind, and stray or missing tokens.
const BROKEN: &[&str] = &[
    // Unterminated strings.
    "{\n  page = req: \"Hi ${req.query.name\";\n}\n",
    "let s = \"no end;\nin s\n",
    "[ \"a\" \"b ]\n",
    "{ x = \"one ${toString 1} two\n  y = 2;\n}\n",
    "\"${\"\n",
    "\"${ \"inner\" }\n",
    "# a comment\n\"abc\n# another\n",
    "{\n  a = ''\n    text ${x\n  '';\n}\n",
    "x: ''\n  never closed\n",
    "''a ${b} c\n",
    "''\n  ${''\n  inner''\n",
    // Unclosed brackets.
    "[ 1 2 3\n",
    "{ a = 1;\n  b = [ 2\n",
    "let\n  f = x: (x + 1;\nin f 2\n",
    "{ a = (1 + 2;\n}\n",
    "(1 + (2 * 3)\n",
    "{ a.b.c = 1;\n",
    "f { x = 1; \n",
    "let a = { b = 1;\nin a\n",
    "${\n",
    // Missing or stray tokens.
    "{ a = 1 }\n",
    "let a = 1 in a\n",
    "if true then 1\n",
    "{ a = [ 1 2\n  b = 3;\n}\n",
    "x: y:\n",
    "{ inherit a b\n",
];

/// `file:LINE:COL` and the message of the first error line, as Nix prints them.
fn located(stderr: &str, file: &Path) -> (String, String) {
    let message = stderr.lines().next().unwrap_or_default().to_owned();
    let marker = format!("at {}:", file.display());
    let at = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(&marker))
        .map(|rest| rest.trim_end_matches(':').to_owned())
        .unwrap_or_else(|| format!("no location in {stderr:?}"));
    (at, message)
}

#[test]
fn syntax_errors_are_located_as_nix_locates_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    for (i, text) in BROKEN.iter().enumerate() {
        let file = dir.path().join(format!("broken{i}.nix"));
        std::fs::write(&file, text).unwrap();
        let nix = Command::new("nix-instantiate")
            .arg("--parse")
            .arg(&file)
            .output()
            .expect("nix-instantiate runs (scripts/setup installs it)");
        assert!(!nix.status.success(), "Nix parses {text:?}");
        let theirs = located(&String::from_utf8_lossy(&nix.stderr), &file);

        let mut ev = Evaluator::new(Arc::new(StdIO));
        let error = ev
            .parse(text, Some(file.clone()), dir.path())
            .expect_err("a syntax error");
        let ours = located(&ev.format_error(&error), &file);
        if ours != theirs {
            mismatches.push(format!(
                "{text:?}:\n  Nix:    {theirs:?}\n  nixweb: {ours:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
