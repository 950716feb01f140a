//! The official Nix 2.8 language tests (tests/lang/ + tests/lang.sh), run case by case
//! the way lang.sh runs them, with the pass criteria lang.sh applies.

use crate::diff::line_diff;
use crate::invocation::{Input, Invocation, Mode, Outcome, Output};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The search path lang.sh puts in NIX_PATH for the `.exp` runs.
const LANG_NIX_PATH: [&str; 2] = ["lang/dir3", "lang/dir4"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// The output checks at the top of lang.sh, before the per-file loops.
    Preamble,
    EvalOkay,
    EvalOkayXml,
    EvalFail,
    ParseOkay,
    ParseFail,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Preamble,
        Category::EvalOkay,
        Category::EvalOkayXml,
        Category::EvalFail,
        Category::ParseOkay,
        Category::ParseFail,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Preamble => "lang.sh preamble",
            Category::EvalOkay => "eval-okay .exp",
            Category::EvalOkayXml => "eval-okay .exp.xml",
            Category::EvalFail => "eval-fail",
            Category::ParseOkay => "parse-okay",
            Category::ParseFail => "parse-fail",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Case {
    /// Stable name used in the expected-failures list, e.g. `eval-okay-attrs.exp`.
    pub id: String,
    pub category: Category,
    pub invocation: Invocation,
    /// The exact stdout required (eval-okay only).
    pub expected_stdout: Option<String>,
    /// Preamble only: what the output must show.
    pub output_check: Option<OutputCheck>,
    /// The stderr current Nix's lang.sh compares with (`.err.exp`; empty when an eval-okay
    /// case has none). Only reported, never judged: 2.8's suite has none.
    pub expected_stderr: Option<String>,
}

/// One of lang.sh's preamble checks: a `grep` of some of the command's output, and the
/// exit code the command must have for the check to hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputCheck {
    pub needle: String,
    /// Whether the needle must appear (`grepQuiet`) or must not (`grepQuietInverse`).
    pub must_appear: bool,
    pub stream: Stream,
    /// The exit code required (`expectStderr 1`; 0 where a pipeline runs under
    /// `set -o pipefail`); `None`: any.
    pub exit_code: Option<i32>,
}

/// Which output a check reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Stream {
    /// `2>&1`.
    #[default]
    Both,
    /// `2>/dev/null`.
    Stdout,
    /// `expectStderr`: stdout goes to the terminal, stderr into the pipe.
    Stderr,
}

impl OutputCheck {
    /// A check of stdout and stderr together, whatever the exit code.
    pub fn both(needle: &str, must_appear: bool) -> Self {
        OutputCheck {
            needle: needle.to_owned(),
            must_appear,
            ..OutputCheck::default()
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum Verdict {
    Pass,
    Fail {
        /// One line, also used as the default reason in the expected-failures list.
        reason: String,
        /// Expected vs actual, for `-v`.
        detail: String,
    },
}

/// Checks that `dir` looks like a fetched tests directory (with `lang/` and `lang.sh`).
pub fn check_tests_dir(dir: &Path) -> Result<()> {
    if !dir.join("lang").is_dir() || !dir.join("lang.sh").is_file() {
        bail!(
            "no Nix language tests in {} (expected lang/ and lang.sh); \
             run crates/conformance/fetch-tests.sh first",
            dir.display()
        );
    }
    Ok(())
}

/// The names of the `.nix` files in `lang`, without the extension, sorted.
pub fn nix_stems(lang: &Path) -> Result<Vec<String>> {
    let mut stems: Vec<String> = std::fs::read_dir(lang)
        .with_context(|| format!("listing {}", lang.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".nix").map(str::to_owned))
        .collect();
    stems.sort();
    Ok(stems)
}

/// Every case of the suite, in lang.sh's order: parse-fail, parse-okay, eval-fail,
/// eval-okay (each eval-okay file giving an .exp case, an .exp.xml case, or both).
pub fn discover(tests_dir: &Path) -> Result<Vec<Case>> {
    check_tests_dir(tests_dir)?;
    let stems = nix_stems(&tests_dir.join("lang"))?;

    let cwd = tests_dir.to_path_buf();
    let mut cases = preamble_cases(&cwd);
    for prefix in ["parse-fail-", "parse-okay-", "eval-fail-", "eval-okay-"] {
        for stem in stems.iter().filter(|s| s.starts_with(prefix)) {
            let file = PathBuf::from("lang").join(format!("{stem}.nix"));
            match prefix {
                "parse-fail-" | "parse-okay-" => {
                    // lang.sh pipes the file into `nix-instantiate --parse -`.
                    let text = std::fs::read_to_string(tests_dir.join(&file))
                        .with_context(|| format!("reading {}", file.display()))?;
                    let category = if prefix == "parse-fail-" {
                        Category::ParseFail
                    } else {
                        Category::ParseOkay
                    };
                    cases.push(Case {
                        id: stem.clone(),
                        category,
                        invocation: Invocation::new(Input::Stdin(text), Mode::Parse, cwd.clone()),
                        expected_stdout: None,
                        output_check: None,
                        expected_stderr: None,
                    });
                }
                "eval-fail-" => cases.push(Case {
                    id: stem.clone(),
                    category: Category::EvalFail,
                    invocation: Invocation::new(Input::File(file.clone()), Mode::LAZY, cwd.clone()),
                    expected_stdout: None,
                    output_check: None,
                    expected_stderr: None,
                }),
                _ => cases.extend(eval_okay_cases(tests_dir, stem, &file)?),
            }
        }
    }
    for case in &mut cases {
        // lang.sh exports this for eval-okay-getenv; it is there for every case.
        case.invocation
            .env
            .push(("TEST_VAR".to_owned(), "foo".to_owned()));
    }
    Ok(cases)
}

/// lang.sh first checks that `builtins.trace` prints and that `addErrorContext` stays
/// quiet when nothing fails. Its third check needs `--show-trace`, which the embedded API
/// has no option for, so it is left out.
fn preamble_cases(cwd: &Path) -> Vec<Case> {
    [
        ("preamble-trace", r#"builtins.trace "Hello" 123"#, true),
        (
            "preamble-addErrorContext-quiet",
            r#"builtins.addErrorContext "Hello" 123"#,
            false,
        ),
    ]
    .into_iter()
    .map(|(id, expr, must_appear)| Case {
        id: id.to_owned(),
        category: Category::Preamble,
        invocation: Invocation::new(Input::Expr(expr.to_owned()), Mode::LAZY, cwd.to_path_buf()),
        expected_stdout: None,
        output_check: Some(OutputCheck::both("Hello", must_appear)),
        expected_stderr: None,
    })
    .collect()
}

fn eval_okay_cases(tests_dir: &Path, stem: &str, file: &Path) -> Result<Vec<Case>> {
    let lang = tests_dir.join("lang");
    let mut cases = Vec::new();
    let exp = lang.join(format!("{stem}.exp"));
    if exp.is_file() {
        let mut invocation = Invocation::new(
            Input::File(file.to_path_buf()),
            Mode::STRICT,
            tests_dir.to_path_buf(),
        );
        let flags = lang.join(format!("{stem}.flags"));
        if flags.is_file() {
            let text = std::fs::read_to_string(&flags)?;
            invocation
                .apply_flags(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", flags.display()))?;
        }
        invocation.nix_path = LANG_NIX_PATH.iter().map(|s| s.to_string()).collect();
        cases.push(Case {
            id: format!("{stem}.exp"),
            category: Category::EvalOkay,
            invocation,
            expected_stdout: Some(std::fs::read_to_string(&exp)?),
            output_check: None,
            expected_stderr: None,
        });
    }
    let exp_xml = lang.join(format!("{stem}.exp.xml"));
    if exp_xml.is_file() {
        cases.push(Case {
            id: format!("{stem}.exp.xml"),
            category: Category::EvalOkayXml,
            invocation: Invocation::new(
                Input::File(file.to_path_buf()),
                Mode::Eval {
                    strict: true,
                    output: Output::Xml,
                },
                tests_dir.to_path_buf(),
            ),
            expected_stdout: Some(std::fs::read_to_string(&exp_xml)?),
            output_check: None,
            expected_stderr: None,
        });
    }
    Ok(cases)
}

/// lang.sh's pass criterion for one case.
pub fn judge(case: &Case, outcome: &Outcome) -> Verdict {
    let fail = |reason: String, detail: String| Verdict::Fail { reason, detail };
    match case.category {
        Category::Preamble => {
            let check = case.output_check.clone().unwrap_or_default();
            let output = match check.stream {
                Stream::Both => format!("{}{}", outcome.stdout, outcome.stderr),
                Stream::Stdout => outcome.stdout.clone(),
                Stream::Stderr => outcome.stderr.clone(),
            };
            if outcome.exit_code < 0 {
                fail(outcome.summary(), outcome.stderr.clone())
            } else if check
                .exit_code
                .is_some_and(|code| code != outcome.exit_code)
            {
                fail(
                    format!(
                        "exit code {}, want {}",
                        outcome.exit_code,
                        check.exit_code.unwrap_or_default()
                    ),
                    output,
                )
            } else if output.contains(&check.needle) == check.must_appear {
                Verdict::Pass
            } else {
                let what = if check.must_appear {
                    "missing"
                } else {
                    "unexpected"
                };
                fail(format!("{what} {:?} in the output", check.needle), output)
            }
        }
        Category::ParseFail | Category::EvalFail => {
            if outcome.succeeded() {
                fail(
                    "succeeded but must fail".to_owned(),
                    format!("stdout:\n{}", outcome.stdout),
                )
            } else if outcome.exit_code < 0 {
                // A timeout or crash is not the clean failure the test asks for.
                fail(outcome.summary(), outcome.stderr.clone())
            } else {
                Verdict::Pass
            }
        }
        Category::ParseOkay => {
            if outcome.succeeded() {
                Verdict::Pass
            } else {
                fail(outcome.summary(), outcome.stderr.clone())
            }
        }
        Category::EvalOkay | Category::EvalOkayXml => {
            let expected = case.expected_stdout.as_deref().unwrap_or_default();
            if !outcome.succeeded() {
                fail(outcome.summary(), outcome.stderr.clone())
            } else if outcome.stdout != expected {
                fail(
                    "output differs".to_owned(),
                    format!(
                        "--- expected\n+++ actual\n{}",
                        line_diff(expected, &outcome.stdout)
                    ),
                )
            } else {
                Verdict::Pass
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(category: Category, expected: Option<&str>) -> Case {
        Case {
            id: "x".into(),
            category,
            invocation: Invocation::new(Input::Expr("1".into()), Mode::Parse, ".".into()),
            expected_stdout: expected.map(str::to_owned),
            output_check: None,
            expected_stderr: None,
        }
    }

    fn outcome(stdout: &str, exit_code: i32) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            stderr: if exit_code == 0 { "" } else { "error: no\n" }.into(),
            exit_code,
        }
    }

    #[test]
    fn eval_okay_needs_exact_output() {
        let c = case(Category::EvalOkay, Some("3\n"));
        assert_eq!(judge(&c, &outcome("3\n", 0)), Verdict::Pass);
        assert!(matches!(judge(&c, &outcome("3", 0)), Verdict::Fail { .. }));
        assert!(matches!(
            judge(&c, &outcome("3\n", 1)),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn fail_cases_need_a_clean_failure() {
        let c = case(Category::EvalFail, None);
        assert_eq!(judge(&c, &outcome("", 1)), Verdict::Pass);
        assert!(matches!(
            judge(&c, &outcome("1\n", 0)),
            Verdict::Fail { .. }
        ));
        let timed_out = Outcome::runner_failure("timed out after 20 s".into());
        assert!(matches!(judge(&c, &timed_out), Verdict::Fail { .. }));
    }

    #[test]
    fn preamble_checks_the_output_text() {
        let mut c = case(Category::Preamble, None);
        c.output_check = Some(OutputCheck::both("Hello", true));
        let traced = Outcome {
            stdout: "123\n".into(),
            stderr: "trace: Hello\n".into(),
            exit_code: 0,
        };
        assert_eq!(judge(&c, &traced), Verdict::Pass);
        assert!(matches!(
            judge(&c, &outcome("123\n", 0)),
            Verdict::Fail { .. }
        ));
        c.output_check = Some(OutputCheck::both("Hello", false));
        assert!(matches!(judge(&c, &traced), Verdict::Fail { .. }));
        // expectStderr 1 … | grepQuiet: stderr only, and the exit code counts.
        c.output_check = Some(OutputCheck {
            stream: Stream::Stderr,
            exit_code: Some(1),
            ..OutputCheck::both("Hello", true)
        });
        assert!(matches!(judge(&c, &traced), Verdict::Fail { .. }));
        let failed = Outcome {
            exit_code: 1,
            ..traced.clone()
        };
        assert_eq!(judge(&c, &failed), Verdict::Pass);
        c.output_check = Some(OutputCheck {
            stream: Stream::Stdout,
            ..OutputCheck::both("Hello", true)
        });
        assert!(matches!(judge(&c, &failed), Verdict::Fail { .. }));
    }

    #[test]
    fn parse_okay_needs_success() {
        let c = case(Category::ParseOkay, None);
        assert_eq!(judge(&c, &outcome("<LAMBDA>\n", 0)), Verdict::Pass);
        assert!(matches!(judge(&c, &outcome("", 1)), Verdict::Fail { .. }));
    }
}
