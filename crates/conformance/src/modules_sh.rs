//! Reads nixpkgs' `lib/tests/modules.sh` into its checks, without running bash: each
//! `checkConfigOutput`, `checkConfigError` and `checkExpression` line becomes one
//! [`Check`], with the words bash would give it (quotes, `set --` and `"$@"`, brace
//! expansion) and the variables set in front of it (`STRICT_EVAL=1`, `ABORT_ON_WARN=1`,
//! `REQUIRE_INFINITE_RECURSION_HINT=1`).
//!
//! Lines of any other shape are the script's own machinery (function bodies, counters)
//! and are passed over; a check line this reader cannot take apart is an error, so a
//! newer modules.sh is never half-read.

use crate::shell;
use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `checkConfigOutput REGEX ATTR MODULE…`: evaluates, and a line of the JSON output
    /// matches REGEX (`grep -E`).
    Output { regex: String },
    /// `checkConfigError REGEX ATTR MODULE…`: fails, and the whole stderr matches REGEX
    /// (`grep -zP`).
    Error { regex: String },
    /// `checkExpression FILE`: a file that must evaluate strictly.
    Expression { file: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The line of modules.sh the check starts on.
    pub line: usize,
    pub kind: Kind,
    /// The `-A` path (empty for `checkExpression`).
    pub attr: String,
    pub modules: Vec<String>,
    /// `STRICT_EVAL=1`: `--strict`.
    pub strict: bool,
    /// `ABORT_ON_WARN=1`: `--option abort-on-warn true`.
    pub abort_on_warn: bool,
    /// `REQUIRE_INFINITE_RECURSION_HINT=1`: the error must carry the module system's hint
    /// about infinite recursions; without it, the error must not.
    pub recursion_hint: bool,
}

const CHECKS: [&str; 3] = ["checkConfigOutput", "checkConfigError", "checkExpression"];

/// Every check of the script, in order.
pub fn parse(script: &str) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let mut positional: Vec<String> = Vec::new();
    for (line, text) in logical_lines(script) {
        let fail = |e: String| anyhow::anyhow!("modules.sh:{line}: {e}: {text}");
        let Some(first) = text.split_whitespace().next() else {
            continue;
        };
        if first == "set" && text.split_whitespace().nth(1) == Some("--") {
            let words = shell::split(&text, &positional).map_err(fail)?;
            positional = words[2..].to_vec();
            continue;
        }
        let command = text
            .split_whitespace()
            .find(|w| !is_assignment(w))
            .unwrap_or("");
        if !CHECKS.contains(&command) {
            continue;
        }
        let words = shell::split(&text, &positional).map_err(fail)?;
        let mut check = Check {
            line,
            kind: Kind::Expression {
                file: String::new(),
            },
            attr: String::new(),
            modules: Vec::new(),
            strict: false,
            abort_on_warn: false,
            recursion_hint: false,
        };
        let mut words = words.into_iter();
        let mut command = String::new();
        for word in words.by_ref() {
            let Some((name, value)) = word.split_once('=').filter(|_| is_assignment(&word)) else {
                command = word;
                break;
            };
            // The script tests these with `= "1"` and `-n`; only 1 is used.
            if value != "1" {
                return Err(fail(format!("{name} is set to {value:?}, not 1")));
            }
            match name {
                "STRICT_EVAL" => check.strict = true,
                "ABORT_ON_WARN" => check.abort_on_warn = true,
                "REQUIRE_INFINITE_RECURSION_HINT" => check.recursion_hint = true,
                _ => return Err(fail(format!("unknown variable {name}"))),
            }
        }
        let rest: Vec<String> = words.collect();
        match (command.as_str(), rest.as_slice()) {
            ("checkExpression", [file]) => check.kind = Kind::Expression { file: file.clone() },
            ("checkConfigOutput" | "checkConfigError", [regex, attr, modules @ ..]) => {
                check.kind = if command == "checkConfigOutput" {
                    Kind::Output {
                        regex: regex.clone(),
                    }
                } else {
                    Kind::Error {
                        regex: regex.clone(),
                    }
                };
                check.attr = attr.clone();
                check.modules = modules.to_vec();
            }
            _ => return Err(fail(format!("unexpected arguments to {command}"))),
        }
        checks.push(check);
    }
    if checks.is_empty() {
        bail!("no checks found in modules.sh");
    }
    Ok(checks)
}

/// `NAME=value`: a variable set for the command that follows.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The script's lines with `\`-continued lines joined, each with its first line's number.
fn logical_lines(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in script.lines().enumerate() {
        let (start, mut text) = pending.take().unwrap_or((index + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                text.push_str(head);
                pending = Some((start, text));
            }
            None => {
                text.push_str(line);
                out.push((start, text));
            }
        }
    }
    out.extend(pending);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = r#"
checkConfigOutput() {
    local outputContains=$1
    if evalConfig "$@" 2>/dev/null | grep -E --silent "$outputContains" ; then
        ((++pass))
    fi
}
# A comment with checkConfigOutput in it
checkConfigOutput '^"one two"$' config.result ./shorthand-meta.nix
set -- config.enable ./declare-enable.nix ./define-enable.nix
checkConfigOutput '^true$' "$@"
checkConfigError 'The option .* does not exist' "$@" ./x.nix
set -- "$@" ./more.nix
REQUIRE_INFINITE_RECURSION_HINT=1 checkConfigError 'infinite' "$@"
set --
STRICT_EVAL=1 ABORT_ON_WARN=1 checkConfigOutput "^42$" config.a.\"b.c\" ./d/{e.nix,f.nix}
checkConfigError \
  'long' \
  config.set \
  ./declare-set.nix
checkExpression './graph/test.nix'
"#;

    #[test]
    fn checks_get_the_words_bash_would_give_them() {
        let checks = parse(SCRIPT).unwrap();
        let summary: Vec<(usize, &str, Vec<&str>)> = checks
            .iter()
            .map(|c| {
                (
                    c.line,
                    c.attr.as_str(),
                    c.modules.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (9, "config.result", vec!["./shorthand-meta.nix"]),
                (
                    11,
                    "config.enable",
                    vec!["./declare-enable.nix", "./define-enable.nix"]
                ),
                (
                    12,
                    "config.enable",
                    vec!["./declare-enable.nix", "./define-enable.nix", "./x.nix"]
                ),
                (
                    14,
                    "config.enable",
                    vec!["./declare-enable.nix", "./define-enable.nix", "./more.nix"]
                ),
                (16, "config.a.\"b.c\"", vec!["./d/e.nix", "./d/f.nix"]),
                (17, "config.set", vec!["./declare-set.nix"]),
                (21, "", vec![]),
            ]
        );
        assert_eq!(
            checks[0].kind,
            Kind::Output {
                regex: "^\"one two\"$".into()
            }
        );
        assert!(checks[3].recursion_hint && !checks[2].recursion_hint);
        assert!(checks[4].strict && checks[4].abort_on_warn && !checks[0].strict);
        assert_eq!(
            checks[6].kind,
            Kind::Expression {
                file: "./graph/test.nix".into()
            }
        );
    }

    #[test]
    fn unreadable_checks_are_errors() {
        assert!(parse("checkConfigOutput 'x' \"$attr\" ./a.nix\n").is_err());
        assert!(parse("OTHER=1 checkConfigOutput 'x' a ./a.nix\n").is_err());
        assert!(parse("STRICT_EVAL=0 checkConfigOutput 'x' a ./a.nix\n").is_err());
        assert!(parse("checkExpression\n").is_err());
        assert!(parse("echo nothing to see\n").is_err(), "no checks at all");
    }
}
