//! Nix's current language suite (`tests/functional/lang/` and its `lang.sh`, a snapshot
//! kept outside the repository at `../shared/nix-lang-tests`), run case by case as that
//! lang.sh runs them. It is how the project sees what Nix added after 2.8.
//!
//! Differences from 2.8's lang.sh that matter here: eval-fail cases take their flags
//! from a `.flags` file instead of `--eval --strict --show-trace`; an eval-okay case with
//! an `.exp.xml` is run only as XML; `.exp-disabled` marks an eval-okay file that is not
//! run; stdout and stderr have the working directory replaced by `/pwd`; and the preamble
//! checks more (`--trace-verbose`, `--show-trace`, `builtins.warn`, `--abort-on-warn`).
//!
//! Pass or fail is decided as lang.sh decides it, except that stderr is not: current
//! Nix's message layout (`.err.exp`) differs from 2.8's, which nixweb-eval follows, so the
//! messages are compared and counted apart ([`stderr_matches`]).

use crate::invocation::{Input, Invocation, Mode, Outcome, Output};
use crate::lang::{Case, Category, OutputCheck, Stream};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The snapshot's directory, relative to the repository root.
pub const DEFAULT_DIR: &str = "../shared/nix-lang-tests";

/// Where lang.sh lives inside the snapshot; it runs with this as working directory.
const SUITE_DIR: &str = "tests/functional";

/// What lang.sh substitutes for its working directory in the outputs.
const PWD_PLACEHOLDER: &str = "/pwd";

/// The flags of an eval-fail case that has no `.flags` file.
const EVAL_FAIL_FLAGS: &str = "--eval --strict --show-trace";

/// Symlinks of upstream's tree that the snapshot holds as plain files containing their
/// target (it was made without symlinks), relative to `lang/`.
const SYMLINKS: [(&str, &str); 4] = [
    ("readDir/ldir", "foo"),
    ("readDir/linked", "foo/git-hates-directories"),
    ("symlink-resolution/broken", "nonexistent"),
    ("symlink-resolution/foo/overlays", "../overlays"),
];

/// lang.sh's directory with upstream's symlinks in place: `suite` itself when it has
/// them, otherwise a copy in `scratch` with them restored, so that the readDir,
/// readFileType, pathExists and symlink-resolution cases test what they were written for.
pub fn with_symlinks(suite: &Path, scratch: &Path) -> Result<PathBuf> {
    let lang = suite.join("lang");
    let mut lost = Vec::new();
    for (link, target) in SYMLINKS {
        let path = lang.join(link);
        // Absent (a newer suite may drop a case), or already a symlink: nothing to do.
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_symlink() => {}
            _ => continue,
        }
        if std::fs::read(&path)? != target.as_bytes() {
            bail!(
                "{} is neither a symlink nor the text {target:?}",
                path.display()
            );
        }
        lost.push((link, target));
    }
    if lost.is_empty() {
        return Ok(suite.to_path_buf());
    }
    let copy = scratch.join("functional");
    copy_tree(suite, &copy)?;
    for (link, target) in lost {
        let path = copy.join("lang").join(link);
        std::fs::remove_file(&path)?;
        std::os::unix::fs::symlink(target, &path)
            .with_context(|| format!("restoring the symlink {}", path.display()))?;
    }
    Ok(copy)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// lang.sh's working directory for a snapshot at `dir`, after checking it is one.
pub fn suite_dir(dir: &Path) -> Result<PathBuf> {
    let suite = dir.join(SUITE_DIR);
    if !suite.join("lang").is_dir() || !suite.join("lang.sh").is_file() {
        bail!(
            "no Nix language suite in {} (expected {SUITE_DIR}/lang and {SUITE_DIR}/lang.sh; \
             see its SOURCE.md)",
            dir.display()
        );
    }
    Ok(suite)
}

/// Every case, in lang.sh's order. `suite` is lang.sh's directory (see [`suite_dir`]).
pub fn discover(suite: &Path) -> Result<Vec<Case>> {
    let lang = suite.join("lang");
    let stems = crate::lang::nix_stems(&lang)?;
    let read = |name: String| -> Result<Option<String>> {
        let path = lang.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        // Lossy, as the outcomes are: one case's expected message is not UTF-8.
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    };

    let mut cases = preamble_cases(suite);
    for prefix in ["parse-fail-", "parse-okay-", "eval-fail-", "eval-okay-"] {
        for stem in stems.iter().filter(|s| s.starts_with(prefix)) {
            let file = PathBuf::from("lang").join(format!("{stem}.nix"));
            let case = |id: String, category, invocation, expected_stdout| Case {
                id,
                category,
                invocation,
                expected_stdout,
                output_check: None,
                expected_stderr: None,
            };
            match prefix {
                "parse-fail-" | "parse-okay-" => {
                    let text = read(format!("{stem}.nix"))?.unwrap_or_default();
                    let category = if prefix == "parse-fail-" {
                        Category::ParseFail
                    } else {
                        Category::ParseOkay
                    };
                    let invocation =
                        Invocation::new(Input::Stdin(text), Mode::Parse, suite.to_path_buf());
                    // The printed syntax tree (`.exp`) is Nix's own format; only the
                    // success counts here, as for 2.8's suite.
                    cases.push(case(stem.clone(), category, invocation, None));
                }
                "eval-fail-" => {
                    let mut invocation =
                        Invocation::new(Input::File(file), Mode::Instantiate, suite.to_path_buf());
                    // lang.sh strips comments, then splits the words unquoted.
                    let flags = read(format!("{stem}.flags"))?
                        .map(|text| {
                            text.lines()
                                .map(|l| l.split('#').next().unwrap_or(""))
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_else(|| EVAL_FAIL_FLAGS.to_owned());
                    invocation
                        .apply_flags(&flags)
                        .map_err(|e| anyhow::anyhow!("{stem}.flags: {e}"))?;
                    let mut c = case(stem.clone(), Category::EvalFail, invocation, None);
                    c.expected_stderr = read(format!("{stem}.err.exp"))?;
                    cases.push(c);
                }
                _ => {
                    if let Some(xml) = read(format!("{stem}.exp.xml"))? {
                        let mode = Mode::Eval {
                            strict: true,
                            output: Output::Xml,
                        };
                        let invocation =
                            Invocation::new(Input::File(file), mode, suite.to_path_buf());
                        let id = format!("{stem}.exp.xml");
                        cases.push(case(id, Category::EvalOkayXml, invocation, Some(xml)));
                    } else if !lang.join(format!("{stem}.exp-disabled")).exists() {
                        let mut invocation =
                            Invocation::new(Input::File(file), Mode::STRICT, suite.to_path_buf());
                        if let Some(flags) = read(format!("{stem}.flags"))? {
                            // `read -r -a` takes the first line's words.
                            let first = flags.lines().next().unwrap_or("");
                            invocation
                                .apply_flags(first)
                                .map_err(|e| anyhow::anyhow!("{stem}.flags: {e}"))?;
                        }
                        invocation.nix_path = vec!["lang/dir3".into(), "lang/dir4".into()];
                        invocation.env.push(("HOME".into(), "/fake-home".into()));
                        // A missing .exp is compared as empty output, as lang.sh does.
                        let exp = read(format!("{stem}.exp"))?.unwrap_or_default();
                        let mut c = case(
                            format!("{stem}.exp"),
                            Category::EvalOkay,
                            invocation,
                            Some(exp),
                        );
                        c.expected_stderr =
                            Some(read(format!("{stem}.err.exp"))?.unwrap_or_default());
                        cases.push(c);
                    }
                }
            }
        }
    }
    for case in &mut cases {
        case.invocation.env.extend([
            ("TEST_VAR".to_owned(), "foo".to_owned()),
            ("NIX_STORE_DIR".to_owned(), "/nix/store".to_owned()),
        ]);
    }
    Ok(cases)
}

/// The checks at the top of lang.sh, in its order. Each command there runs under
/// `set -e -o pipefail`, so one piped into `grepQuiet` must also exit 0.
fn preamble_cases(suite: &Path) -> Vec<Case> {
    let trace_hello = r#"builtins.trace "Hello" 123"#;
    let context_hello = r#"builtins.addErrorContext "Hello" 123"#;
    let context_warn = r#"builtins.addErrorContext "while doing ${"something"} interesting" (builtins.warn "Hello" 123)"#;
    let warn_hello = r#"builtins.warn "Hello" 123"#;
    let verbose_hello = r#"builtins.traceVerbose "Hello" 123"#;
    let grep = |needle: &str, must_appear, stream, exit_code| OutputCheck {
        needle: needle.to_owned(),
        must_appear,
        stream,
        exit_code,
    };
    let ok = |needle: &str, stream| grep(needle, true, stream, Some(0));
    let absent = |needle: &str| grep(needle, false, Stream::Both, None);
    let fails_with = |needle: &str| grep(needle, true, Stream::Stderr, Some(1));
    let check = |id: &str, flags: &str, expr: &str, check: OutputCheck| {
        let mut invocation = Invocation::new(
            Input::Expr(expr.to_owned()),
            Mode::LAZY,
            suite.to_path_buf(),
        );
        invocation
            .apply_flags(flags)
            .expect("the preamble's flags are well-formed");
        preamble_case(id, invocation, check)
    };
    // Instantiating (not evaluating) a derivation whose drvPath is not a derivation.
    let mut bad_drv_path = Invocation::new(
        Input::File("lang/non-eval-fail-bad-drvPath.nix".into()),
        Mode::Instantiate,
        suite.to_path_buf(),
    );
    bad_drv_path.flags.push("--show-trace".into());
    let mut abort_env = check(
        "abort-on-warn-env",
        "",
        context_warn,
        fails_with("while doing something interesting"),
    );
    abort_env
        .invocation
        .env
        .push(("NIX_ABORT_ON_WARN".into(), "1".into()));
    vec![
        check("trace", "", trace_hello, ok("Hello", Stream::Both)),
        check("trace-value", "", trace_hello, ok("123", Stream::Stdout)),
        check(
            "addErrorContext-runs",
            "",
            context_hello,
            ok("", Stream::Both),
        ),
        check(
            "traceVerbose-on",
            "--trace-verbose",
            verbose_hello,
            ok("Hello", Stream::Both),
        ),
        check("traceVerbose-off", "", verbose_hello, absent("Hello")),
        check(
            "show-trace-quiet",
            "--show-trace",
            context_hello,
            absent("Hello"),
        ),
        check(
            "show-trace-context",
            "--show-trace",
            r#"builtins.addErrorContext "Hello" (throw "Foo")"#,
            fails_with("Hello"),
        ),
        check(
            "show-trace-context-percent",
            "--show-trace",
            r#"builtins.addErrorContext "Hello %" (throw "Foo")"#,
            fails_with("Hello %"),
        ),
        preamble_case(
            "bad-drvPath",
            bad_drv_path,
            fails_with(
                "store path '2chwzswhhmpxbgc981i2vcz7xj4d1in9-cachix-1.7.3-bin' \
                 is not a valid derivation path",
            ),
        ),
        check(
            "trace-potential-recursion",
            "",
            "let x = builtins.trace { x = x; } true; in x",
            ok(
                "trace: { x = «potential infinite recursion»; }",
                Stream::Both,
            ),
        ),
        check(
            "trace-repeated",
            "",
            "let x = { repeating = x; tracing = builtins.trace x true; }; in x.tracing",
            ok(
                "trace: { repeating = «repeated»; tracing = «potential infinite recursion»; }",
                Stream::Both,
            ),
        ),
        check("warn", "", warn_hello, ok("warning: Hello", Stream::Both)),
        check(
            "warn-in-context",
            "",
            context_warn,
            ok("123", Stream::Stdout),
        ),
        check(
            "warn-needs-a-string",
            "",
            "let x = builtins.warn { x = x; } true; in x",
            fails_with("expected a string but found a set"),
        ),
        check(
            "abort-on-warn",
            "--abort-on-warn",
            warn_hello,
            fails_with("Hello"),
        ),
        abort_env,
    ]
}

fn preamble_case(id: &str, invocation: Invocation, check: OutputCheck) -> Case {
    Case {
        id: format!("preamble-{id}"),
        category: Category::Preamble,
        invocation,
        expected_stdout: None,
        output_check: Some(check),
        expected_stderr: None,
    }
}

/// The outcome as lang.sh compares it: the working directory written as `/pwd` (in
/// everything but the XML output, which lang.sh leaves alone).
pub fn normalise(case: &Case, mut outcome: Outcome) -> Outcome {
    let pwd = case.invocation.cwd.display().to_string();
    if case.category != Category::EvalOkayXml {
        outcome.stdout = outcome.stdout.replace(&pwd, PWD_PLACEHOLDER);
    }
    outcome.stderr = outcome.stderr.replace(&pwd, PWD_PLACEHOLDER);
    outcome
}

/// Whether stderr is what current Nix prints (`.err.exp`), after the case's
/// `.postprocess` script if it has one; `None` for cases whose stderr lang.sh ignores.
/// Reported beside the pass counts, not judged: 2.8's layout is the default here.
pub fn stderr_matches(suite: &Path, case: &Case, outcome: &Outcome) -> Result<Option<bool>> {
    let Some(expected) = &case.expected_stderr else {
        return Ok(None);
    };
    if outcome.exit_code < 0 {
        return Ok(Some(false));
    }
    let stem = case.id.strip_suffix(".exp").unwrap_or(&case.id);
    let script = suite.join("lang").join(format!("{stem}.postprocess"));
    let actual = if script.is_file() {
        postprocess(suite, &script, stem, &outcome.stderr)?
    } else {
        outcome.stderr.clone()
    };
    Ok(Some(&actual == expected))
}

/// Runs a `.postprocess` script on the stderr as lang.sh does: on `BASE.err`, given BASE.
fn postprocess(suite: &Path, script: &Path, stem: &str, stderr: &str) -> Result<String> {
    let scratch = tempfile::tempdir()?;
    let base = scratch.path().join(stem);
    let err_file = base.with_extension("err");
    std::fs::write(&err_file, stderr)?;
    let status = std::process::Command::new("bash")
        .arg(script)
        .arg(&base)
        .current_dir(suite)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("{} failed: {status}", script.display());
    }
    Ok(std::fs::read_to_string(&err_file)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join("lang").join(name), text).unwrap();
    }

    fn suite() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join(SUITE_DIR);
        std::fs::create_dir_all(suite.join("lang")).unwrap();
        std::fs::write(suite.join("lang.sh"), "").unwrap();
        (dir, suite)
    }

    #[test]
    fn cases_follow_current_lang_sh() {
        let (dir, suite) = suite();
        assert_eq!(suite_dir(dir.path()).unwrap(), suite);
        write(&suite, "eval-fail-a.nix", "1");
        write(&suite, "eval-fail-b.nix", "1");
        write(&suite, "eval-fail-b.flags", "--lint-x fatal # why\n");
        write(&suite, "eval-okay-c.nix", "1");
        write(&suite, "eval-okay-c.exp", "1\n");
        write(&suite, "eval-okay-c.exp.xml", "<x/>");
        write(&suite, "eval-okay-d.nix", "1");
        write(&suite, "eval-okay-d.exp-disabled", "");
        write(&suite, "eval-okay-e.nix", "1");
        write(&suite, "eval-okay-e.exp", "1\n");
        write(&suite, "eval-okay-e.flags", "-A x --lint-y warn\n");
        let cases = discover(&suite).unwrap();
        let ids: Vec<&str> = cases
            .iter()
            .filter(|c| c.category != Category::Preamble)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "eval-fail-a",
                "eval-fail-b",
                "eval-okay-c.exp.xml",
                "eval-okay-e.exp"
            ]
        );
        let get = |id: &str| cases.iter().find(|c| c.id == id).unwrap();
        let a = &get("eval-fail-a").invocation;
        assert_eq!(a.mode, Mode::STRICT);
        assert_eq!(a.flags, ["--show-trace"]);
        let b = &get("eval-fail-b").invocation;
        assert_eq!(
            b.mode,
            Mode::Instantiate,
            "its flags replace --eval --strict"
        );
        assert_eq!(b.flags, ["--lint-x", "fatal"]);
        let e = get("eval-okay-e.exp");
        assert_eq!(e.invocation.attr_paths, ["x"]);
        assert_eq!(e.invocation.flags, ["--lint-y", "warn"]);
        assert_eq!(e.expected_stderr.as_deref(), Some(""), "no .err.exp: empty");
        assert!(e
            .invocation
            .env
            .contains(&("HOME".into(), "/fake-home".into())));
        assert!(cases.iter().all(|c| c
            .invocation
            .env
            .contains(&("TEST_VAR".into(), "foo".into()))));
    }

    #[test]
    fn lost_symlinks_are_restored_in_a_copy() {
        let (_dir, suite) = suite();
        for (link, target) in SYMLINKS {
            let path = suite.join("lang").join(link);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, target).unwrap();
        }
        write(&suite, "eval-okay-x.nix", "1");
        let scratch = tempfile::tempdir().unwrap();
        let copy = with_symlinks(&suite, scratch.path()).unwrap();
        assert!(copy.starts_with(scratch.path()));
        assert!(copy.join("lang.sh").is_file() && copy.join("lang/eval-okay-x.nix").is_file());
        let link = std::fs::read_link(copy.join("lang/readDir/ldir")).unwrap();
        assert_eq!(link, PathBuf::from("foo"));
        // A suite that has its symlinks is used as it is.
        assert_eq!(with_symlinks(&copy, scratch.path()).unwrap(), copy);
        std::fs::write(suite.join("lang/readDir/ldir"), "changed").unwrap();
        assert!(with_symlinks(&suite, scratch.path()).is_err());
    }

    #[test]
    fn outputs_are_compared_with_pwd_for_the_working_directory() {
        let (_dir, suite) = suite();
        write(&suite, "eval-okay-p.nix", "./.");
        write(&suite, "eval-okay-p.exp", "/pwd/lang\n");
        let cases = discover(&suite).unwrap();
        let case = cases.iter().find(|c| c.id == "eval-okay-p.exp").unwrap();
        let raw = Outcome {
            stdout: format!("{}/lang\n", suite.display()),
            stderr: format!("warning: at {}/lang/x.nix\n", suite.display()),
            exit_code: 0,
        };
        let out = normalise(case, raw);
        assert_eq!(out.stdout, "/pwd/lang\n");
        assert_eq!(out.stderr, "warning: at /pwd/lang/x.nix\n");
        assert_eq!(stderr_matches(&suite, case, &out).unwrap(), Some(false));
    }

    #[test]
    fn postprocess_scripts_edit_the_stderr_before_it_is_compared() {
        let (_dir, suite) = suite();
        write(&suite, "eval-fail-n.nix", "1");
        write(&suite, "eval-fail-n.err.exp", "error at <number>\n");
        write(
            &suite,
            "eval-fail-n.postprocess",
            "sed -i \"$1.err\" -e 's/[0-9][0-9]*/<number>/g'\n",
        );
        let cases = discover(&suite).unwrap();
        let case = cases.iter().find(|c| c.id == "eval-fail-n").unwrap();
        let out = |stderr: &str| Outcome {
            stdout: String::new(),
            stderr: stderr.into(),
            exit_code: 1,
        };
        assert_eq!(
            stderr_matches(&suite, case, &out("error at 42\n")).unwrap(),
            Some(true)
        );
        assert_eq!(
            stderr_matches(&suite, case, &out("error at x\n")).unwrap(),
            Some(false)
        );
    }
}
