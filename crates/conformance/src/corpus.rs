//! The differential corpus: small expressions written for this project, one per line in
//! `corpus/<topic>.nix`, with the answers of the real `nix-instantiate --eval --strict`
//! 2.8 recorded next to them in `corpus/<topic>.exp`, so it runs where Nix is absent.
//!
//! `.exp` format: each case's expression on a line (a multi-line one as `>>> ` and a
//! JSON string), then its result: `=> line` for each stdout line of a success,
//! `=! line` for each line of the error.
//!
//! A topic file whose first line is `#! ARGS` runs its cases with those nix-instantiate
//! arguments (shell words) instead of `--eval --strict`: `#! --eval` prints values
//! unforced, `#! --eval --strict --json` prints JSON, `#! --eval -A 'a."b.c"'` selects.

use crate::invocation::{Input, Invocation, Mode, Outcome};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Stands in for the corpus directory's absolute path in recorded outputs, so the
/// records do not depend on where the repository is checked out.
const DIR_PLACEHOLDER: &str = "<corpus>";

/// Variables every corpus case sees, for the `getEnv` cases.
const CORPUS_ENV: [(&str, &str); 1] = [("NIXWEB_CORPUS_VAR", "corpus value")];

#[derive(Debug, Clone)]
pub struct Case {
    /// `topic:line`, the name used in the expected-failures list.
    pub id: String,
    pub topic: String,
    pub expr: String,
    /// The nix-instantiate arguments besides `-E EXPR` (the topic's `#!` line).
    pub args: Vec<String>,
}

/// The arguments of a topic without a `#!` line.
const DEFAULT_ARGS: [&str; 2] = ["--eval", "--strict"];

/// What a case must produce, as recorded from Nix.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Value(Vec<String>),
    Error(Vec<String>),
}

impl Recorded {
    pub fn from_outcome(outcome: &Outcome, dir: &Path) -> Self {
        if outcome.succeeded() {
            Recorded::Value(
                normalise(&outcome.stdout, dir)
                    .lines()
                    .map(str::to_owned)
                    .collect(),
            )
        } else {
            Recorded::Error(error_lines(&normalise(&outcome.stderr, dir)))
        }
    }

    /// Whether `actual` agrees with this record; errors compare on their first line
    /// unless `full_errors`.
    pub fn matches(&self, actual: &Recorded, full_errors: bool) -> bool {
        match (self, actual) {
            (Recorded::Value(a), Recorded::Value(b)) => a == b,
            (Recorded::Error(a), Recorded::Error(b)) if full_errors => a == b,
            (Recorded::Error(a), Recorded::Error(b)) => a.first() == b.first(),
            _ => false,
        }
    }

    pub fn render(&self) -> String {
        let (marker, lines) = match self {
            Recorded::Value(lines) => ("=>", lines),
            Recorded::Error(lines) => ("=!", lines),
        };
        if lines.is_empty() {
            return format!("{marker}\n");
        }
        lines
            .iter()
            .map(|l| {
                if l.is_empty() {
                    format!("{marker}\n")
                } else {
                    format!("{marker} {l}\n")
                }
            })
            .collect()
    }

    /// One line for tables and reasons.
    pub fn headline(&self) -> String {
        match self {
            Recorded::Value(lines) => lines.join(" "),
            Recorded::Error(lines) => lines.first().cloned().unwrap_or_default(),
        }
    }
}

fn normalise(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), DIR_PLACEHOLDER)
}

/// The error block: from the first `error:` line on, without trailing blank lines.
fn error_lines(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().map(str::trim_end).collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("error:"))
        .unwrap_or(0);
    let mut block: Vec<String> = lines[start..].iter().map(|l| l.to_string()).collect();
    while block.last().is_some_and(|l| l.is_empty()) {
        block.pop();
    }
    if block.is_empty() {
        block.push("error: (no message)".to_owned());
    }
    block
}

/// The topics (file stems) in `dir`, sorted.
fn topics(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut topics: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "nix"))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
        .collect();
    topics.sort();
    Ok(topics)
}

/// The cases of one topic file: every line that is neither blank nor a `#` comment,
/// plus multi-line cases written between a `#>` line and a `#<` line (for what only
/// real newlines can test, such as indented strings). Ids use the first line's number.
pub fn parse_topic(topic: &str, text: &str) -> Result<Vec<Case>> {
    let args = match text.lines().next().and_then(|l| l.strip_prefix("#!")) {
        Some(words) => {
            let args =
                crate::shell::split(words, &[]).map_err(|e| anyhow::anyhow!("{topic}:1: {e}"))?;
            // Checked here, so that a bad line fails the run instead of every case.
            let mut probe =
                Invocation::new(Input::Expr(String::new()), Mode::Instantiate, ".".into());
            probe
                .apply_words(args.clone())
                .map_err(|e| anyhow::anyhow!("{topic}:1: {e}"))?;
            args
        }
        None => DEFAULT_ARGS.map(String::from).to_vec(),
    };
    let mut cases = Vec::new();
    let mut block: Option<(usize, Vec<&str>)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Some((start, lines)) = block.as_mut() {
            if line.trim() == "#<" {
                cases.push(Case {
                    id: format!("{topic}:{start}"),
                    topic: topic.to_owned(),
                    expr: lines.join("\n"),
                    args: args.clone(),
                });
                block = None;
            } else {
                lines.push(line);
            }
            continue;
        }
        let expr = line.trim();
        if expr == "#>" {
            block = Some((number, Vec::new()));
            continue;
        }
        if expr.is_empty() || expr.starts_with('#') {
            continue;
        }
        if expr.starts_with('-') {
            // nix-instantiate would take `-E -x` for a flag, and has no `--` to stop that.
            bail!("{topic}:{number}: an expression may not start with '-'; wrap it in parentheses");
        }
        cases.push(Case {
            id: format!("{topic}:{number}"),
            topic: topic.to_owned(),
            expr: expr.to_owned(),
            args: args.clone(),
        });
    }
    if let Some((start, _)) = block {
        bail!("{topic}:{start}: `#>` block without a closing `#<`");
    }
    Ok(cases)
}

/// All cases of every topic file in `dir`.
pub fn discover(dir: &Path) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for (topic, path) in topics(dir)? {
        let text = std::fs::read_to_string(&path)?;
        cases.extend(parse_topic(&topic, &text)?);
    }
    if cases.is_empty() {
        bail!("no corpus cases in {}", dir.display());
    }
    Ok(cases)
}

pub fn invocation(case: &Case, dir: &Path) -> Invocation {
    let mut invocation = Invocation::new(
        Input::Expr(case.expr.clone()),
        Mode::Instantiate,
        dir.to_path_buf(),
    );
    invocation
        .apply_words(case.args.clone())
        .expect("checked when the topic was read");
    invocation.env = CORPUS_ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    invocation
}

fn exp_path(dir: &Path, topic: &str) -> PathBuf {
    dir.join(format!("{topic}.exp"))
}

/// The recorded results of one topic, by expression text.
pub fn parse_exp(text: &str) -> Result<BTreeMap<String, Recorded>> {
    let mut records = BTreeMap::new();
    let mut current: Option<(String, Option<Recorded>)> = None;
    let mut finish = |current: Option<(String, Option<Recorded>)>| -> Result<()> {
        if let Some((expr, recorded)) = current {
            let recorded = recorded.with_context(|| format!("no result recorded for {expr}"))?;
            records.insert(expr, recorded);
        }
        Ok(())
    };
    for line in text.lines() {
        let (marker, rest) = match line.get(..2) {
            Some(m @ ("=>" | "=!")) => (m, line[2..].strip_prefix(' ').unwrap_or(&line[2..])),
            _ => {
                finish(current.take())?;
                current = Some((decode_expr(line)?, None));
                continue;
            }
        };
        let Some((_, recorded)) = current.as_mut() else {
            bail!("result line without an expression: {line}");
        };
        match (marker, recorded) {
            ("=>", Some(Recorded::Value(lines))) | ("=!", Some(Recorded::Error(lines))) => {
                lines.push(rest.to_owned())
            }
            ("=>", r @ None) => *r = Some(Recorded::Value(vec![rest.to_owned()])),
            ("=!", r @ None) => *r = Some(Recorded::Error(vec![rest.to_owned()])),
            _ => bail!("mixed value and error lines near: {line}"),
        }
    }
    finish(current)?;
    Ok(records)
}

/// Prefix of an `.exp` key line holding a multi-line expression as a JSON string.
const MULTI_LINE_KEY: &str = ">>> ";

fn encode_expr(expr: &str) -> String {
    if expr.contains('\n') {
        format!("{MULTI_LINE_KEY}{}", serde_json::Value::from(expr))
    } else {
        expr.to_owned()
    }
}

fn decode_expr(line: &str) -> Result<String> {
    match line.strip_prefix(MULTI_LINE_KEY) {
        Some(json) => serde_json::from_str(json).context("multi-line expression key"),
        None => Ok(line.to_owned()),
    }
}

/// Recorded results of every topic, keyed by (topic, expression).
pub fn load_records(dir: &Path) -> Result<BTreeMap<(String, String), Recorded>> {
    let mut all = BTreeMap::new();
    for (topic, _) in topics(dir)? {
        let path = exp_path(dir, &topic);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let records = parse_exp(&text).with_context(|| format!("parsing {}", path.display()))?;
        for (expr, recorded) in records {
            all.insert((topic.clone(), expr), recorded);
        }
    }
    Ok(all)
}

/// Writes one `.exp` file per topic, cases in file order.
pub fn save_records(dir: &Path, cases: &[Case], results: &[Recorded]) -> Result<()> {
    let mut files: BTreeMap<&str, String> = BTreeMap::new();
    for (case, recorded) in cases.iter().zip(results) {
        let text = files.entry(&case.topic).or_default();
        text.push_str(&encode_expr(&case.expr));
        text.push('\n');
        text.push_str(&recorded.render());
    }
    for (topic, text) in files {
        let path = exp_path(dir, topic);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_round_trips() {
        let text = "1 + 1\n=> 2\nthrow \"x\"\n=! error: x\n=!\n=! more\n\"a\"\n=> \"a\"\n";
        let records = parse_exp(text).unwrap();
        assert_eq!(records["1 + 1"], Recorded::Value(vec!["2".into()]));
        assert_eq!(
            records["throw \"x\""],
            Recorded::Error(vec!["error: x".into(), "".into(), "more".into()])
        );
        let rendered: String = ["1 + 1", "throw \"x\"", "\"a\""]
            .iter()
            .map(|e| format!("{e}\n{}", records[*e].render()))
            .collect();
        assert_eq!(rendered, text);
    }

    #[test]
    fn errors_compare_on_the_first_line_by_default() {
        let a = Recorded::Error(vec!["error: x".into(), "at 1".into()]);
        let b = Recorded::Error(vec!["error: x".into(), "at 2".into()]);
        assert!(a.matches(&b, false));
        assert!(!a.matches(&b, true));
        assert!(!a.matches(&Recorded::Value(vec!["error: x".into()]), false));
    }

    #[test]
    fn outcomes_are_normalised() {
        let dir = Path::new("/some/where/corpus");
        let ok = Outcome {
            stdout: "/some/where/corpus/a.nix\n".into(),
            stderr: "trace: 1\n".into(),
            exit_code: 0,
        };
        assert_eq!(
            Recorded::from_outcome(&ok, dir),
            Recorded::Value(vec!["<corpus>/a.nix".into()])
        );
        let err = Outcome {
            stdout: String::new(),
            stderr: "trace: 1\nerror: boom\n\n   at x\n\n".into(),
            exit_code: 1,
        };
        assert_eq!(
            Recorded::from_outcome(&err, dir),
            Recorded::Error(vec!["error: boom".into(), "".into(), "   at x".into()])
        );
    }

    #[test]
    fn topics_have_line_cases_and_block_cases() {
        let text = "# comment\n1 + 1\n\n#>\n''\n  a\n''\n#<\n2\n";
        let cases = parse_topic("t", text).unwrap();
        let got: Vec<(&str, &str)> = cases
            .iter()
            .map(|c| (c.id.as_str(), c.expr.as_str()))
            .collect();
        assert_eq!(
            got,
            [("t:2", "1 + 1"), ("t:4", "''\n  a\n''"), ("t:9", "2")]
        );
        assert!(parse_topic("t", "#>\n1\n").is_err());
        assert_eq!(cases[0].args, ["--eval", "--strict"]);
        assert!(parse_topic("t", "-1\n").is_err());
    }

    #[test]
    fn a_first_line_of_arguments_applies_to_every_case() {
        let text = "#! --eval --json -A 'a.\"b.c\"'\n{ a.\"b.c\" = 1; }\n";
        let cases = parse_topic("t", text).unwrap();
        assert_eq!(cases.len(), 1);
        let inv = invocation(&cases[0], Path::new("/c"));
        assert_eq!(inv.attr_paths, ["a.\"b.c\""]);
        assert_eq!(
            inv.mode,
            Mode::Eval {
                strict: false,
                output: crate::invocation::Output::Json
            }
        );
        assert!(
            parse_topic("t", "#! --strict\n1\n").is_err(),
            "--strict needs --eval"
        );
        assert!(parse_topic("t", "#! -A\n1\n").is_err());
    }

    #[test]
    fn multi_line_keys_round_trip() {
        let expr = "''\n  a \"q\"\n''";
        let text = format!("{}\n=> \"a\"\n", encode_expr(expr));
        assert!(text.starts_with(">>> "));
        let records = parse_exp(&text).unwrap();
        assert_eq!(records[expr], Recorded::Value(vec!["\"a\"".into()]));
    }

    #[test]
    fn missing_result_is_an_error() {
        assert!(parse_exp("1\n2\n=> 2\n").is_err());
    }
}
