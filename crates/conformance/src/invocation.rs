//! One `nix-instantiate` call, described independently of the engine that runs it.
//!
//! The parent builds an [`Invocation`], hands it to a `run-one` child as JSON, and gets
//! an [`Outcome`] back. Keeping it plain data is what lets every engine and the
//! process isolation share one path.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the Nix code comes from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Input {
    /// A file, relative to the working directory (`nix-instantiate lang/x.nix`).
    File(PathBuf),
    /// Text fed on standard input (`nix-instantiate -`); its base directory is the cwd.
    Stdin(String),
    /// Text given with `-E`; its base directory is the cwd.
    Expr(String),
}

/// What to do with the input.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Mode {
    /// `--parse`: only check that the input parses (and binds its variables).
    Parse,
    /// `--eval`, optionally `--strict`.
    Eval { strict: bool, output: Output },
    /// Neither `--eval` nor `--parse`: instantiate the derivations the value holds.
    Instantiate,
}

impl Mode {
    /// `--eval --strict`, the mode of most cases.
    pub const STRICT: Mode = Mode::Eval {
        strict: true,
        output: Output::Nix,
    };
    /// `--eval` alone.
    pub const LAZY: Mode = Mode::Eval {
        strict: false,
        output: Output::Nix,
    };
}

/// How an evaluated value is printed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Output {
    /// As Nix prints values.
    Nix,
    /// `--xml --no-location`, as the lang tests' `.exp.xml` files were made.
    Xml,
    /// `--json`.
    Json,
}

/// A `--arg` / `--argstr` value.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Arg {
    Expr(String),
    Str(String),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Invocation {
    pub input: Input,
    pub mode: Mode,
    pub args: Vec<(String, Arg)>,
    pub attr_paths: Vec<String>,
    /// `-I` entries, in order.
    pub include: Vec<String>,
    /// Any other command-line words, in order (`--show-trace`, `--option NAME VALUE`, …).
    /// The reference engine passes them on; the embedded engine honours those it has an
    /// equivalent for and fails the case on any other, so no case passes by ignoring one.
    pub flags: Vec<String>,
    /// `NIX_PATH` entries, in order; they come after the `-I` entries.
    pub nix_path: Vec<String>,
    /// Extra environment variables (besides the fixed base environment).
    pub env: Vec<(String, String)>,
    /// Working directory of the evaluation; relative paths resolve against it.
    pub cwd: PathBuf,
}

impl Invocation {
    pub fn new(input: Input, mode: Mode, cwd: PathBuf) -> Self {
        Invocation {
            input,
            mode,
            args: Vec::new(),
            attr_paths: Vec::new(),
            include: Vec::new(),
            flags: Vec::new(),
            nix_path: Vec::new(),
            env: Vec::new(),
            cwd,
        }
    }

    /// Applies the words of a lang test `.flags` file. lang.sh expands it unquoted, so it
    /// is split on whitespace without any quoting rules.
    pub fn apply_flags(&mut self, flags: &str) -> Result<(), String> {
        self.apply_words(flags.split_whitespace().map(str::to_owned))
    }

    /// Applies nix-instantiate command-line words: the ones every engine understands go
    /// into their fields, `--eval`, `--strict`, `--json` and `--xml` into the mode, and
    /// anything else into [`Invocation::flags`].
    pub fn apply_words(&mut self, words: impl IntoIterator<Item = String>) -> Result<(), String> {
        let mut words = words.into_iter();
        while let Some(flag) = words.next() {
            let mut next = |what: &str| {
                words
                    .next()
                    .ok_or_else(|| format!("flag {flag} is missing its {what}"))
            };
            match flag.as_str() {
                "--arg" => {
                    let name = next("name")?;
                    self.args.push((name, Arg::Expr(next("value")?)));
                }
                "--argstr" => {
                    let name = next("name")?;
                    self.args.push((name, Arg::Str(next("value")?)));
                }
                "-A" | "--attr" => self.attr_paths.push(next("attribute path")?),
                "-I" | "--include" => self.include.push(next("path")?),
                "--eval" | "--eval-only" => {
                    if !matches!(self.mode, Mode::Eval { .. }) {
                        self.mode = Mode::LAZY;
                    }
                }
                "--parse" => self.mode = Mode::Parse,
                "--strict" => self.set_eval(|strict, _| *strict = true)?,
                "--json" => self.set_eval(|_, output| *output = Output::Json)?,
                "--xml" => self.set_eval(|_, output| *output = Output::Xml)?,
                _ => self.flags.push(flag),
            }
        }
        Ok(())
    }

    fn set_eval(&mut self, change: impl FnOnce(&mut bool, &mut Output)) -> Result<(), String> {
        match &mut self.mode {
            Mode::Eval { strict, output } => {
                change(strict, output);
                Ok(())
            }
            _ => Err("--strict, --json and --xml need --eval".into()),
        }
    }
}

/// What a run produced, as `nix-instantiate` would report it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }

    /// An outcome the runner itself produced (timeout, crash), never the engine.
    pub fn runner_failure(message: String) -> Self {
        Outcome {
            stdout: String::new(),
            stderr: message,
            exit_code: -1,
        }
    }

    /// The first `error: …` line of stderr, which is what the corpus compares by default.
    pub fn first_error_line(&self) -> Option<&str> {
        self.stderr
            .lines()
            .map(str::trim_end)
            .find(|line| line.starts_with("error:"))
    }

    /// A one-line summary for tables and expected-failure reasons.
    pub fn summary(&self) -> String {
        if let Some(line) = self.first_error_line() {
            return line.to_owned();
        }
        match self.stderr.lines().find(|l| !l.trim().is_empty()) {
            Some(line) => line.trim().to_owned(),
            None => format!("exit code {}", self.exit_code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> Invocation {
        Invocation::new(Input::Expr("1".into()), Mode::Parse, PathBuf::from("."))
    }

    #[test]
    fn flags_of_the_autoargs_test() {
        let mut inv = blank();
        inv.apply_flags("--arg lib import(lang/lib.nix) --argstr xyzzy xyzzy! -A result\n")
            .unwrap();
        assert_eq!(
            inv.args,
            vec![
                ("lib".into(), Arg::Expr("import(lang/lib.nix)".into())),
                ("xyzzy".into(), Arg::Str("xyzzy!".into())),
            ]
        );
        assert_eq!(inv.attr_paths, vec!["result".to_string()]);
    }

    #[test]
    fn flags_of_the_search_path_test() {
        let mut inv = blank();
        inv.apply_flags("-I lang/dir1 -I lang/dir2 -I dir5=lang/dir3")
            .unwrap();
        assert_eq!(inv.include, ["lang/dir1", "lang/dir2", "dir5=lang/dir3"]);
    }

    #[test]
    fn truncated_flags_are_errors() {
        assert!(blank().apply_flags("--strict").is_err(), "needs --eval");
        assert!(blank().apply_flags("--arg x").is_err());
    }

    #[test]
    fn mode_flags_set_the_mode_and_the_rest_are_kept_in_order() {
        let mut inv = blank();
        inv.apply_flags("--eval --show-trace --strict --lint-url-literals fatal --json")
            .unwrap();
        assert_eq!(
            inv.mode,
            Mode::Eval {
                strict: true,
                output: Output::Json
            }
        );
        assert_eq!(inv.flags, ["--show-trace", "--lint-url-literals", "fatal"]);
    }

    #[test]
    fn first_error_line_skips_traces() {
        let out = Outcome {
            stdout: String::new(),
            stderr: "trace: hi\nerror: boom\n\n       at x\n".into(),
            exit_code: 1,
        };
        assert_eq!(out.first_error_line(), Some("error: boom"));
        assert_eq!(out.summary(), "error: boom");
    }
}
