//! The reference engine: the real `nix-instantiate`, invoked exactly as tests/lang.sh does.

use crate::invocation::{Arg, Input, Invocation, Mode, Outcome, Output};
use std::io::Write;
use std::process::{Command, Stdio};

const PROGRAM: &str = "nix-instantiate";

pub fn available() -> bool {
    Command::new(PROGRAM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The command-line words for an invocation, flags first as lang.sh puts them.
pub fn argv(invocation: &Invocation) -> Vec<String> {
    let mut argv = Vec::new();
    for (name, value) in &invocation.args {
        match value {
            Arg::Expr(expr) => argv.extend(["--arg".into(), name.clone(), expr.clone()]),
            Arg::Str(text) => argv.extend(["--argstr".into(), name.clone(), text.clone()]),
        }
    }
    for path in &invocation.attr_paths {
        argv.extend(["-A".into(), path.clone()]);
    }
    for entry in &invocation.include {
        argv.extend(["-I".into(), entry.clone()]);
    }
    argv.extend(invocation.flags.iter().cloned());
    match invocation.mode {
        Mode::Parse => argv.push("--parse".into()),
        Mode::Eval { strict, output } => {
            argv.push("--eval".into());
            match output {
                Output::Nix => {}
                Output::Xml => argv.extend(["--xml".into(), "--no-location".into()]),
                Output::Json => argv.push("--json".into()),
            }
            if strict {
                argv.push("--strict".into());
            }
        }
        Mode::Instantiate => {}
    }
    match &invocation.input {
        Input::File(path) => argv.push(path.display().to_string()),
        Input::Stdin(_) => argv.push("-".into()),
        Input::Expr(text) => argv.extend(["-E".into(), text.clone()]),
    }
    argv
}

pub fn run(invocation: &Invocation) -> Outcome {
    let mut command = Command::new(PROGRAM);
    command
        .args(argv(invocation))
        .current_dir(&invocation.cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Nix reads the search path from the environment, so that is where it goes here.
    if invocation.nix_path.is_empty() {
        command.env_remove("NIX_PATH");
    } else {
        command.env("NIX_PATH", invocation.nix_path.join(":"));
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return Outcome::runner_failure(format!("cannot start {PROGRAM}: {err}")),
    };
    let stdin_text = match &invocation.input {
        Input::Stdin(text) => text.clone(),
        _ => String::new(),
    };
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A writer thread keeps a large input from deadlocking against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(stdin_text.as_bytes());
    });
    let output = child.wait_with_output();
    let _ = writer.join();
    match output {
        Ok(output) => Outcome {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            exit_code: output.status.code().unwrap_or(-1),
        },
        Err(err) => Outcome::runner_failure(format!("waiting for {PROGRAM}: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn argv_matches_lang_sh_for_an_xml_case() {
        let inv = Invocation::new(
            Input::File("lang/eval-okay-x.nix".into()),
            Mode::Eval {
                strict: true,
                output: Output::Xml,
            },
            PathBuf::from("."),
        );
        assert_eq!(
            argv(&inv),
            [
                "--eval",
                "--xml",
                "--no-location",
                "--strict",
                "lang/eval-okay-x.nix"
            ]
        );
    }

    #[test]
    fn argv_passes_other_flags_before_the_mode() {
        let mut inv = Invocation::new(Input::Expr("1".into()), Mode::LAZY, PathBuf::from("."));
        inv.apply_flags("--json --show-trace -A a").unwrap();
        assert_eq!(
            argv(&inv),
            ["-A", "a", "--show-trace", "--eval", "--json", "-E", "1"]
        );
    }

    #[test]
    fn argv_for_a_parse_case_reads_stdin() {
        let inv = Invocation::new(Input::Stdin("1".into()), Mode::Parse, PathBuf::from("."));
        assert_eq!(argv(&inv), ["--parse", "-"]);
    }
}
