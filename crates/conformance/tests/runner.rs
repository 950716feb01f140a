//! End-to-end tests of the runner itself, with a fake `nix-instantiate` on PATH so they
//! need no Nix: the fake "evaluates" a file by printing its text, fails on `FAIL`, hangs
//! on `HANG`, prints its working directory on `PRINTPWD` (and answers lang.sh's
//! addErrorContext check quietly). The per-case timeout
//! is generous (8 s) so that a slow machine cannot make an ordinary case time out. They check that the runner notices wrong output, failures, hangs, new
//! passes and unknown entries, and that --write-expected keeps hand-written reasons.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

const FAKE_NIX: &str = r#"#!/bin/sh
for last; do :; done
case " $* " in *" --version "*) echo "nix-instantiate (fake) 0"; exit 0 ;; esac
case " $* " in
  *" --parse "*) text=$(cat) ;;
  *" -E "*) text=$last ;;
  *) text=$(cat "$last") ;;
esac
case "$text" in
  *addErrorContext*) echo 123; exit 0 ;;
  *HANG*) sleep 300 ;;
  *PRINTPWD*) echo "$PWD/x"; exit 0 ;;
  *FAIL*) echo "trace: noise" >&2; echo "error: fake failure in $text" >&2; echo "  at somewhere" >&2; exit 1 ;;
esac
echo "$text"
"#;

struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let bin = root.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let fake = bin.join("nix-instantiate");
        fs::write(&fake, FAKE_NIX).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        Sandbox { _dir: dir, root }
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    /// Runs the runner with the fake first on PATH; returns (exit code, stdout).
    fn run(&self, args: &[&str]) -> (i32, String) {
        let path = format!(
            "{}:{}",
            self.root.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new(env!("CARGO_BIN_EXE_nixweb-conformance"))
            .args(args)
            .env("PATH", path)
            .current_dir(&self.root)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
    }

    fn path(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }
}

/// A lang suite with one case of each kind, two of them broken, one hanging.
fn lang_suite(sb: &Sandbox) {
    sb.write("tests/lang.sh", "# fake\n");
    sb.write("tests/lang/eval-okay-good.nix", "1");
    sb.write("tests/lang/eval-okay-good.exp", "1\n");
    sb.write("tests/lang/eval-okay-wrong.nix", "3");
    sb.write("tests/lang/eval-okay-wrong.exp", "2\n");
    sb.write("tests/lang/eval-okay-hang.nix", "HANG");
    sb.write("tests/lang/eval-okay-hang.exp", "HANG\n");
    sb.write("tests/lang/eval-okay-xml.nix", "<x/>");
    sb.write("tests/lang/eval-okay-xml.exp.xml", "<x/>\n");
    sb.write("tests/lang/eval-fail-good.nix", "FAIL");
    sb.write("tests/lang/parse-okay-good.nix", "fine");
    sb.write("tests/lang/parse-fail-wrong.nix", "parses");
}

fn lang_args<'a>(sb: &'a Sandbox, list: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "lang",
        "--engine",
        "reference",
        "--timeout",
        "8",
        "--tests",
        &sb.path("tests"),
        "--expected",
        &sb.path(list),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_lang(sb: &Sandbox, list: &str, extra: &[&str]) -> (i32, String) {
    let args = lang_args(sb, list, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args)
}

#[test]
fn lang_failures_are_regressions_until_listed() {
    let sb = Sandbox::new();
    lang_suite(&sb);

    let (code, out) = run_lang(&sb, "list.txt", &["-v"]);
    assert_eq!(code, 1, "{out}");
    for id in [
        "eval-okay-wrong.exp",
        "eval-okay-hang.exp",
        "parse-fail-wrong",
    ] {
        assert!(out.contains(&format!("REGRESSION  {id}")), "{id} in {out}");
    }
    assert!(!out.contains("REGRESSION  eval-okay-good.exp"), "{out}");
    assert!(out.contains("timed out after 8 s"), "{out}");
    assert!(
        out.contains("-2\n") && out.contains("+3\n"),
        "diff in {out}"
    );
    assert!(out.contains("--write-expected"), "{out}");
    assert!(
        out.contains("total                   9      6      3"),
        "{out}"
    );

    let (code, out) = run_lang(&sb, "list.txt", &["--write-expected"]);
    assert_eq!(code, 0, "{out}");
    let list = sb.read("list.txt");
    assert!(list.contains("eval-okay-hang.exp") && list.contains("auto: timed out"));

    let (code, out) = run_lang(&sb, "list.txt", &[]);
    assert_eq!(code, 0, "green once the list matches: {out}");
}

#[test]
fn lang_list_must_stay_honest_and_keeps_hand_written_reasons() {
    let sb = Sandbox::new();
    lang_suite(&sb);
    sb.write(
        "list.txt",
        "# my header\n\
         eval-okay-wrong.exp  # off by one, known\n\
         eval-okay-hang.exp  # auto: stale generated text\n\
         parse-fail-wrong  # fake parser accepts everything\n\
         eval-okay-good.exp  # was broken once\n\
         no-such-case  # renamed upstream\n",
    );
    let (code, out) = run_lang(&sb, "list.txt", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOW PASSES  eval-okay-good.exp"), "{out}");
    assert!(out.contains("UNKNOWN     no-such-case"), "{out}");
    assert!(!out.contains("REGRESSION"), "{out}");

    let (code, _) = run_lang(&sb, "list.txt", &["--write-expected"]);
    assert_eq!(code, 0);
    let list = sb.read("list.txt");
    assert!(list.starts_with("# my header\n"), "{list}");
    assert!(
        list.contains("eval-okay-wrong.exp  # off by one, known"),
        "{list}"
    );
    assert!(list.contains("# auto: timed out after 8 s"), "{list}");
    assert!(
        !list.contains("eval-okay-good") && !list.contains("no-such-case"),
        "{list}"
    );
}

#[test]
fn only_runs_the_selected_cases_and_checks_the_list_for_them() {
    let sb = Sandbox::new();
    lang_suite(&sb);
    sb.write("list.txt", "eval-okay-wrong.exp  # known\n");
    let (code, out) = run_lang(&sb, "list.txt", &["--only", "wrong.exp"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("total                   1      0      1          1"),
        "{out}"
    );
    let (code, out) = run_lang(&sb, "list.txt", &["--only", "good"]);
    assert_eq!(code, 0, "the unselected listed case is not reported: {out}");
    let (code, out) = run_lang(&sb, "list.txt", &["--only", "good", "--write-expected"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn lang_without_tests_points_at_the_fetch_script() {
    let sb = Sandbox::new();
    let (code, out) = run_lang(&sb, "list.txt", &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("fetch-tests.sh"), "{out}");
}

fn corpus_args(sb: &Sandbox, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["corpus", "--timeout", "8", "--dir", &sb.path("corpus")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_corpus(sb: &Sandbox, extra: &[&str]) -> (i32, String) {
    let args = corpus_args(sb, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args)
}

#[test]
fn corpus_records_compares_and_detects_stale_records() {
    let sb = Sandbox::new();
    sb.write(
        "corpus/basic.nix",
        "# comment\n1 + 1\n\nFAIL here\n#>\nmulti\nline\n#<\n",
    );
    let reference = ["--engine", "reference"];

    let (code, out) = run_corpus(&sb, &reference);
    assert_eq!(code, 1, "unrecorded cases fail: {out}");
    assert!(out.contains("UNRECORDED basic:2"), "{out}");

    let (code, out) = run_corpus(&sb, &["--record"]);
    assert_eq!(code, 0, "{out}");
    let exp = sb.read("corpus/basic.exp");
    assert!(exp.contains("1 + 1\n=> 1 + 1\n"), "{exp}");
    assert!(
        exp.contains("FAIL here\n=! error: fake failure in FAIL here\n=! "),
        "{exp}"
    );
    assert!(
        exp.contains(">>> \"multi\\nline\"\n=> multi\n=> line\n"),
        "{exp}"
    );

    let (code, out) = run_corpus(&sb, &reference);
    assert_eq!(code, 0, "{out}");

    // Only the first error line counts by default; --full-errors compares the rest.
    sb.write(
        "corpus/basic.exp",
        &exp.replace("at somewhere", "at elsewhere"),
    );
    let (code, out) = run_corpus(&sb, &reference);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run_corpus(&sb, &["--engine", "reference", "--full-errors"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REGRESSION  basic:4"), "{out}");

    // A wrong record is a failure, and --live names it as stale.
    sb.write("corpus/basic.exp", &exp.replace("=> 1 + 1", "=> 2"));
    let (code, out) = run_corpus(&sb, &["--engine", "reference", "--live"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("STALE basic:2"), "{out}");
    assert!(out.contains("REGRESSION  basic:2"), "{out}");
}

#[test]
fn corpus_refuses_expressions_that_look_like_flags() {
    let sb = Sandbox::new();
    sb.write("corpus/t.nix", "-1\n");
    let (code, out) = run_corpus(&sb, &["--engine", "reference"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("parentheses"), "{out}");
}

fn run_suite(
    sb: &Sandbox,
    suite: &str,
    dir_flag: &str,
    dir: &str,
    extra: &[&str],
) -> (i32, String) {
    let dir = sb.path(dir);
    let list = sb.path("list.txt");
    let mut args = vec![
        suite,
        "--engine",
        "reference",
        "--timeout",
        "8",
        dir_flag,
        &dir,
        "--expected",
        &list,
    ];
    args.extend(extra);
    sb.run(&args)
}

#[test]
fn nix_current_follows_the_current_lang_sh() {
    let sb = Sandbox::new();
    let lang = "nix/tests/functional/lang";
    sb.write("nix/tests/functional/lang.sh", "# fake\n");
    // Passes only if /pwd stands for the working directory in the comparison.
    sb.write(&format!("{lang}/eval-okay-pwd.nix"), "PRINTPWD");
    sb.write(&format!("{lang}/eval-okay-pwd.exp"), "/pwd/x\n");
    sb.write(&format!("{lang}/eval-okay-wrong.nix"), "3");
    sb.write(&format!("{lang}/eval-okay-wrong.exp"), "2\n");
    sb.write(&format!("{lang}/eval-okay-off.nix"), "HANG");
    sb.write(&format!("{lang}/eval-okay-off.exp-disabled"), "");
    sb.write(&format!("{lang}/eval-fail-good.nix"), "FAIL");
    sb.write(
        &format!("{lang}/eval-fail-good.err.exp"),
        "not the fake's message\n",
    );
    sb.write(&format!("{lang}/eval-fail-wrong.nix"), "fine");
    sb.write(&format!("{lang}/eval-fail-same.nix"), "FAIL");
    sb.write(
        &format!("{lang}/eval-fail-same.err.exp"),
        "trace: noise\nerror: fake failure in FAIL\n  at somewhere\n",
    );
    // The symlink the snapshot lost: restored in a copy, so the fake can read through it.
    sb.write(&format!("{lang}/readDir/foo/f.nix"), "through the link");
    sb.write(&format!("{lang}/readDir/ldir"), "foo");
    sb.write(&format!("{lang}/eval-okay-link.nix"), "");
    std::fs::remove_file(sb.root.join(lang).join("eval-okay-link.nix")).unwrap();
    std::os::unix::fs::symlink(
        "readDir/ldir/f.nix",
        sb.root.join(lang).join("eval-okay-link.nix"),
    )
    .unwrap();
    sb.write(&format!("{lang}/eval-okay-link.exp"), "through the link\n");

    let (code, out) = run_suite(&sb, "nix-current", "--tests", "nix", &["--only", "eval-"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("restored"), "{out}");
    for id in ["eval-okay-wrong.exp", "eval-fail-wrong"] {
        assert!(out.contains(&format!("REGRESSION  {id}")), "{id} in {out}");
    }
    for id in [
        "eval-okay-pwd.exp",
        "eval-okay-link.exp",
        "eval-fail-good",
        "eval-okay-off",
    ] {
        assert!(!out.contains(&format!("REGRESSION  {id}")), "{id} in {out}");
    }
    assert!(out.contains("eval-okay 3 of 3, eval-fail 1 of 2"), "{out}");

    // The whole suite (with the preamble, which the fake fails) is held to its list.
    let (code, out) = run_suite(&sb, "nix-current", "--tests", "nix", &["--write-expected"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        sb.read("list.txt").contains("preamble-warn "),
        "{}",
        sb.read("list.txt")
    );
    let (code, out) = run_suite(&sb, "nix-current", "--tests", "nix", &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn nixpkgs_lib_runs_each_modules_sh_check_as_a_case() {
    let sb = Sandbox::new();
    sb.write("pkgs/lib/default.nix", "{ }");
    sb.write("pkgs/lib/tests/misc.nix", "[ ]");
    sb.write("pkgs/lib/tests/systems.nix", "[ ]");
    sb.write("pkgs/lib/tests/fetchers.nix", "[ FAIL ]");
    sb.write("pkgs/lib/path/tests/unit.nix", "null");
    sb.write("pkgs/lib/tests/modules/graph/test.nix", "true");
    sb.write(
        "pkgs/lib/tests/modules.sh",
        r#"checkConfigOutput() {
    evalConfig "$@" | grep -E "$1"
}
checkConfigOutput 'modules = \[ \./a\.nix \]' config.x ./a.nix
set -- config.y ./b.nix
checkConfigOutput '^nothing like it$' "$@"
checkConfigError 'fake failure in import \./default\.nix \{ modules = \[ \./b\.nix \./FAIL\.nix \]' "$@" \
  ./FAIL.nix
checkConfigError 'fake' config.z ./fine.nix
REQUIRE_INFINITE_RECURSION_HINT=1 checkConfigError 'fake' config.z ./FAIL.nix
checkExpression './graph/test.nix'
"#,
    );
    let (code, out) = run_suite(&sb, "nixpkgs-lib", "--lib", "pkgs", &[]);
    assert_eq!(code, 1, "{out}");
    for id in [
        "lib/tests/fetchers.nix",
        "modules.sh:6",
        "modules.sh:9",
        "modules.sh:10",
    ] {
        assert!(out.contains(&format!("REGRESSION  {id} ")), "{id} in {out}");
    }
    for id in [
        "lib/tests/misc.nix",
        "lib/path/tests/unit.nix",
        "modules.sh:4",
        "modules.sh:7",
        "modules.sh:11",
    ] {
        assert!(
            !out.contains(&format!("REGRESSION  {id} ")),
            "{id} in {out}"
        );
    }
    assert!(out.contains("missing infinite-recursion hint"), "{out}");
    let total = out.lines().find(|l| l.starts_with("total")).unwrap();
    assert_eq!(
        total.split_whitespace().collect::<Vec<_>>(),
        ["total", "10", "6", "4", "0", "60.0%"],
        "{out}"
    );
}
