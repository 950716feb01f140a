//! nixpkgs' current `lib` (a snapshot kept outside the repository at
//! `../shared/nixpkgs-lib`), tested as nixpkgs tests it: `lib/tests/misc.nix`,
//! `systems.nix` and `fetchers.nix` must print `[ ]`, `lib/path/tests/unit.nix` must
//! evaluate, and every check of `lib/tests/modules.sh` is one case, run with the
//! arguments its `evalConfig` gives `nix-instantiate` and judged by its `grep`.

use crate::invocation::{Input, Invocation, Mode, Outcome};
use crate::lang::Verdict;
use crate::modules_sh::{self, Check, Kind};
use anyhow::{bail, Context, Result};
use regex::Regex;
use std::path::Path;

/// The snapshot's directory, relative to the repository root.
pub const DEFAULT_DIR: &str = "../shared/nixpkgs-lib";

/// The files nixpkgs' CI evaluates with `--eval --strict` and compares with `[ ]`
/// (lib/tests/test-with-nix.nix).
const EMPTY_LIST_TESTS: [&str; 3] = [
    "lib/tests/misc.nix",
    "lib/tests/systems.nix",
    "lib/tests/fetchers.nix",
];

/// What modules.sh's `local-nix-instantiate` passes before its own arguments.
const MODULES_SH_FLAGS: [&str; 6] = [
    "--timeout",
    "1",
    "--eval-only",
    "--show-trace",
    "--read-write-mode",
    "--json",
];

/// The text whose presence `REQUIRE_INFINITE_RECURSION_HINT` asks for (`grep -i`).
const RECURSION_HINT: &str = "if you get an infinite recursion here";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    LibTests,
    ConfigOutput,
    ConfigError,
    Expression,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::LibTests,
        Group::ConfigOutput,
        Group::ConfigError,
        Group::Expression,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Group::LibTests => "lib tests (= [ ])",
            Group::ConfigOutput => "modules.sh checkConfigOutput",
            Group::ConfigError => "modules.sh checkConfigError",
            Group::Expression => "modules.sh checkExpression",
        }
    }
}

#[derive(Debug)]
pub enum Expect {
    /// Exit 0 and exactly this on stdout.
    Stdout(String),
    /// Exit 0.
    Success,
    /// Exit 0 and a line of stdout that matches (`grep -E`).
    OutputMatches(Regex),
    /// A clean failure whose whole stderr matches (`grep -zP`), carrying the module
    /// system's infinite-recursion hint exactly when `recursion_hint`.
    ErrorMatches { regex: Regex, recursion_hint: bool },
}

#[derive(Debug)]
pub struct Case {
    /// `lib/tests/misc.nix`, or `modules.sh:LINE`.
    pub id: String,
    pub group: Group,
    pub invocation: Invocation,
    pub expect: Expect,
}

/// Checks that `dir` holds nixpkgs' lib with its tests.
pub fn check_dir(dir: &Path) -> Result<()> {
    if !dir.join("lib/tests/modules.sh").is_file() || !dir.join("lib/default.nix").is_file() {
        bail!(
            "no nixpkgs lib in {} (expected lib/default.nix and lib/tests/modules.sh; \
             see its SOURCE.md)",
            dir.display()
        );
    }
    Ok(())
}

/// Every case. `root` is the absolute directory holding `lib/`.
pub fn discover(root: &Path) -> Result<Vec<Case>> {
    check_dir(root)?;
    let mut cases: Vec<Case> = EMPTY_LIST_TESTS
        .iter()
        .map(|file| Case {
            id: file.to_string(),
            group: Group::LibTests,
            invocation: Invocation::new(Input::File(file.into()), Mode::STRICT, root.into()),
            expect: Expect::Stdout("[ ]\n".into()),
        })
        .collect();
    // As lib/path/tests/default.nix runs it.
    let mut unit = Invocation::new(
        Input::File("lib/path/tests/unit.nix".into()),
        Mode::LAZY,
        root.into(),
    );
    unit.apply_words([
        "--show-trace".into(),
        "--argstr".into(),
        "libpath".into(),
        root.join("lib").display().to_string(),
    ])
    .map_err(anyhow::Error::msg)?;
    cases.push(Case {
        id: "lib/path/tests/unit.nix".into(),
        group: Group::LibTests,
        invocation: unit,
        expect: Expect::Success,
    });

    let script_path = root.join("lib/tests/modules.sh");
    let script = std::fs::read_to_string(&script_path)
        .with_context(|| format!("reading {}", script_path.display()))?;
    let modules_dir = root.join("lib/tests/modules");
    for check in modules_sh::parse(&script)? {
        cases.push(modules_case(&check, &modules_dir)?);
    }
    Ok(cases)
}

/// One modules.sh check as the invocation its `evalConfig` (or `checkExpression`) makes.
fn modules_case(check: &Check, modules_dir: &Path) -> Result<Case> {
    let mut words: Vec<String> = MODULES_SH_FLAGS.iter().map(|w| w.to_string()).collect();
    if check.abort_on_warn {
        words.extend(["--option", "abort-on-warn", "true"].map(String::from));
    }
    if check.strict || matches!(check.kind, Kind::Expression { .. }) {
        words.push("--strict".into());
    }
    let input = match &check.kind {
        Kind::Expression { file } => Input::File(file.into()),
        _ => Input::Expr(format!(
            "import ./default.nix {{ modules = [ {} ];}}",
            check.modules.join(" ")
        )),
    };
    let mut invocation = Invocation::new(input, Mode::Instantiate, modules_dir.into());
    invocation.apply_words(words).map_err(anyhow::Error::msg)?;
    if !check.attr.is_empty() {
        invocation.attr_paths.push(check.attr.clone());
    }
    let at = |e: regex::Error| anyhow::anyhow!("modules.sh:{}: {e}", check.line);
    let (group, expect) = match &check.kind {
        Kind::Output { regex } => (
            Group::ConfigOutput,
            Expect::OutputMatches(Regex::new(&translate(regex, true)).map_err(at)?),
        ),
        Kind::Error { regex } => (
            Group::ConfigError,
            Expect::ErrorMatches {
                regex: Regex::new(&translate(regex, false)).map_err(at)?,
                recursion_hint: check.recursion_hint,
            },
        ),
        Kind::Expression { .. } => (Group::Expression, Expect::Success),
    };
    Ok(Case {
        id: format!("modules.sh:{}", check.line),
        group,
        invocation,
        expect,
    })
}

/// A grep pattern (`-E`, or `-P` when not `posix`) in the `regex` crate's syntax: a `{`
/// or `}` that is not part of a repetition is a literal there as in grep, and in a POSIX
/// bracket expression a backslash is itself.
fn translate(pattern: &str, posix: bool) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_brackets = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if in_brackets && posix => out.push_str("\\\\"),
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                    i += 1;
                }
            }
            '[' if !in_brackets => {
                in_brackets = true;
                out.push(c);
                // A `]` (after an optional `^`) first in the brackets is a member.
                for lead in ['^', ']'] {
                    if chars.get(i + 1) == Some(&lead) {
                        if lead == ']' {
                            out.push('\\');
                        }
                        out.push(lead);
                        i += 1;
                    }
                }
            }
            ']' if in_brackets => {
                in_brackets = false;
                out.push(c);
            }
            // `[:alpha:]` stays a class name; any other `[` in brackets is a member.
            '[' if chars.get(i + 1) == Some(&':') => {
                let name_end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']')
                    .map_or(i, |j| j + 1);
                out.extend(&chars[i..=name_end]);
                i = name_end;
            }
            '[' => out.push_str("\\["),
            '{' if !in_brackets => match repetition_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end;
                }
                None => out.push_str("\\{"),
            },
            '}' if !in_brackets => out.push_str("\\}"),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Where `{m}`, `{m,}` or `{m,n}` starting at `open` ends.
fn repetition_end(chars: &[char], open: usize) -> Option<usize> {
    let close = open + chars[open..].iter().position(|&c| c == '}')?;
    let inner: String = chars[open + 1..close].iter().collect();
    let (low, high) = inner.split_once(',').unwrap_or((&inner, "0"));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    (!low.is_empty() && digits(low) && digits(high)).then_some(close)
}

/// modules.sh's verdict on one case.
pub fn judge(case: &Case, outcome: &Outcome) -> Verdict {
    let fail = |reason: String| Verdict::Fail {
        detail: format!(
            "exit code {}\nstdout:\n{}\nstderr:\n{}",
            outcome.exit_code, outcome.stdout, outcome.stderr
        ),
        reason,
    };
    let must_succeed = !matches!(case.expect, Expect::ErrorMatches { .. });
    if must_succeed && !outcome.succeeded() {
        return fail(outcome.summary());
    }
    match &case.expect {
        Expect::Success => Verdict::Pass,
        Expect::Stdout(want) if &outcome.stdout == want => Verdict::Pass,
        Expect::Stdout(want) => fail(format!(
            "printed {}, want {}",
            outcome.stdout.trim_end(),
            want.trim_end()
        )),
        Expect::OutputMatches(regex) if outcome.stdout.lines().any(|l| regex.is_match(l)) => {
            Verdict::Pass
        }
        Expect::OutputMatches(regex) => fail(format!(
            "printed {}, which does not match /{regex}/",
            outcome.stdout.trim_end()
        )),
        Expect::ErrorMatches { .. } if outcome.succeeded() => fail(format!(
            "succeeded (printed {}) but must fail",
            outcome.stdout.trim_end()
        )),
        Expect::ErrorMatches { .. } if outcome.exit_code < 0 => fail(outcome.summary()),
        Expect::ErrorMatches {
            regex,
            recursion_hint,
        } => {
            // `echo "$err"`: the captured stderr without its trailing newlines, plus one.
            let err = format!("{}\n", outcome.stderr.trim_end_matches('\n'));
            let hinted = err.to_lowercase().contains(RECURSION_HINT);
            if hinted != *recursion_hint {
                let what = if hinted { "unexpected" } else { "missing" };
                fail(format!(
                    "{what} infinite-recursion hint; {}",
                    outcome.summary()
                ))
            } else if regex.is_match(&err) {
                Verdict::Pass
            } else {
                fail(format!("{} does not match /{regex}/", outcome.summary()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(stdout: &str, stderr: &str, exit_code: i32) -> Outcome {
        Outcome {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_code,
        }
    }

    fn case(expect: Expect) -> Case {
        Case {
            id: "x".into(),
            group: Group::ConfigOutput,
            invocation: Invocation::new(Input::Expr("1".into()), Mode::LAZY, ".".into()),
            expect,
        }
    }

    #[test]
    fn grep_patterns_translate() {
        let ere = |p: &str| Regex::new(&translate(p, true)).unwrap();
        assert!(ere("^{}$").is_match("{}"));
        assert!(ere(r"^\{\}$").is_match("{}"));
        assert!(ere(r#"^\[\{"bar":\[1\]\}\]$"#).is_match(r#"[{"bar":[1]}]"#));
        assert!(ere("^a{2}$").is_match("aa") && !ere("^a{2}$").is_match("a"));
        assert!(ere(r#"^"/[^"]+"$"#).is_match(r#""/x""#));
        assert!(ere("^38|27$").is_match("27"));
        assert!(ere(r"[\]").is_match(r"\"));
        assert!(ere("[[]x[[:digit:]]").is_match("[x1"));
        let pcre = |p: &str| Regex::new(&translate(p, false)).unwrap();
        assert!(pcre(r"values:\n\s*- In .*: true").is_match("values:\n  - In `x': true\n"));
        assert!(
            !pcre("a.b").is_match("a\nb"),
            "`.` stops at newlines as in grep -zP"
        );
        assert!(pcre(r"module `.*`.*?expects class").is_match("module `a` expects class"));
        assert!(pcre(r"the \'either\' type").is_match("the 'either' type"));
    }

    #[test]
    fn output_checks_need_success_and_a_matching_line() {
        let c = case(Expect::OutputMatches(Regex::new("^true$").unwrap()));
        assert_eq!(judge(&c, &outcome("true", "", 0)), Verdict::Pass);
        assert!(matches!(
            judge(&c, &outcome("false", "", 0)),
            Verdict::Fail { .. }
        ));
        assert!(matches!(
            judge(&c, &outcome("true", "", 1)),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn error_checks_need_a_clean_failure_a_match_and_the_right_hint() {
        let regex = Regex::new("infinite recursion encountered").unwrap();
        let mut c = case(Expect::ErrorMatches {
            regex,
            recursion_hint: false,
        });
        let plain = "error: infinite recursion encountered\n";
        let hinted = "error:\n  … if you get an infinite recursion here, you probably …\n\
                      error: infinite recursion encountered\n";
        assert_eq!(judge(&c, &outcome("", plain, 1)), Verdict::Pass);
        assert!(matches!(
            judge(&c, &outcome("", hinted, 1)),
            Verdict::Fail { .. }
        ));
        assert!(matches!(
            judge(&c, &outcome("1", "", 0)),
            Verdict::Fail { .. }
        ));
        let crashed = Outcome::runner_failure("timed out; infinite recursion encountered".into());
        assert!(matches!(judge(&c, &crashed), Verdict::Fail { .. }));
        if let Expect::ErrorMatches { recursion_hint, .. } = &mut c.expect {
            *recursion_hint = true;
        }
        assert_eq!(judge(&c, &outcome("", hinted, 1)), Verdict::Pass);
        assert!(matches!(
            judge(&c, &outcome("", plain, 1)),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn lib_tests_compare_the_whole_output() {
        let c = case(Expect::Stdout("[ ]\n".into()));
        assert_eq!(judge(&c, &outcome("[ ]\n", "trace: x", 0)), Verdict::Pass);
        assert!(matches!(
            judge(&c, &outcome("[ { name = \"testX\"; } ]\n", "", 0)),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn modules_checks_become_evalconfig_invocations() {
        let check = Check {
            line: 7,
            kind: Kind::Output {
                regex: "^1$".into(),
            },
            attr: "config.a".into(),
            modules: vec!["./a.nix".into(), "./b.nix".into()],
            strict: true,
            abort_on_warn: true,
            recursion_hint: false,
        };
        let c = modules_case(&check, Path::new("/m")).unwrap();
        assert_eq!(c.id, "modules.sh:7");
        let inv = &c.invocation;
        assert_eq!(
            inv.input,
            Input::Expr("import ./default.nix { modules = [ ./a.nix ./b.nix ];}".into())
        );
        assert_eq!(inv.attr_paths, ["config.a"]);
        assert_eq!(
            inv.mode,
            Mode::Eval {
                strict: true,
                output: crate::invocation::Output::Json
            }
        );
        assert_eq!(
            inv.flags,
            [
                "--timeout",
                "1",
                "--show-trace",
                "--read-write-mode",
                "--option",
                "abort-on-warn",
                "true"
            ]
        );
    }
}
