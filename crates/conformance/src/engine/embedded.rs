//! The embedded engine: nixweb-eval's `instantiate`, with the real file system and
//! environment (`StdIO`), in the `run-one` child so that a crash or hang stays contained.

use crate::invocation::{Arg, Input, Invocation, Mode, Outcome, Output};
use nixweb_eval::{ArgValue, InstantiateOptions, OutputFormat, Settings, Source, StdIO};
use std::sync::Arc;

pub fn run(invocation: &Invocation) -> Outcome {
    let options = match options(invocation) {
        Ok(options) => options,
        Err(unsupported) => return Outcome::runner_failure(unsupported),
    };
    let output = nixweb_eval::instantiate(&options, Arc::new(StdIO));
    if invocation.mode == Mode::Instantiate && output.exit_code == 0 {
        return Outcome::runner_failure(
            "nixweb-eval only evaluates: it cannot instantiate the derivations this value \
             holds (nix-instantiate without --eval)"
                .into(),
        );
    }
    Outcome {
        stdout: output.stdout,
        stderr: output.stderr,
        exit_code: output.exit_code,
    }
}

/// What the flags without a field of their own in `Invocation` set.
#[derive(Default)]
struct Flags {
    show_trace: bool,
    settings: Settings,
}

/// Reads the flags that have no field of their own. Those that cannot change what the
/// evaluation yields are accepted; any other fails the case, so that no case passes
/// because its flag was ignored.
fn read_flags(flags: &[String]) -> Result<Flags, String> {
    let mut out = Flags::default();
    let mut words = flags.iter();
    let unsupported = |flag: &String, rest: std::slice::Iter<String>| {
        let rest: Vec<&str> = std::iter::once(flag)
            .chain(rest)
            .map(String::as_str)
            .collect();
        format!(
            "nixweb-eval has no equivalent of nix-instantiate's `{}`",
            rest.join(" ")
        )
    };
    while let Some(flag) = words.next() {
        match flag.as_str() {
            "--show-trace" => out.show_trace = true,
            "--no-show-trace" => out.show_trace = false,
            "--abort-on-warn" => out.settings.abort_on_warn = true,
            "--trace-verbose" => out.settings.trace_verbose = true,
            lint if lint.starts_with("--lint-") || lint == "--max-call-depth" => {
                let rest = words.clone();
                let Some(value) = words.next() else {
                    return Err(unsupported(flag, rest));
                };
                if !out.settings.set_option(&lint[2..], value)? {
                    return Err(unsupported(flag, rest));
                }
            }
            "--option" => {
                let rest = words.clone();
                let (Some(name), Some(value)) = (words.next(), words.next()) else {
                    return Err(unsupported(flag, rest));
                };
                if !out.settings.set_option(name, value)? {
                    return Err(unsupported(flag, rest));
                }
            }
            // nixweb-eval writes no store, and reads no more in one mode than the other.
            "--read-write-mode" | "--impure" => {}
            // A limit on build time; evaluating builds nothing.
            "--timeout" => {
                words.next();
            }
            _ => return Err(unsupported(flag, words)),
        }
    }
    Ok(out)
}

fn options(invocation: &Invocation) -> Result<InstantiateOptions, String> {
    let flags = read_flags(&invocation.flags)?;
    let base_dir = invocation.cwd.clone();
    let source = match &invocation.input {
        // The nix-instantiate command line makes its file argument absolute against the
        // working directory before evaluating; this is that step.
        Input::File(path) => Source::File(invocation.cwd.join(path)),
        Input::Stdin(text) | Input::Expr(text) => Source::Expr {
            text: text.clone(),
            base_dir,
        },
    };
    // Parse mode is "evaluate without forcing": a parse (or binding) error still fails
    // it, while the value itself is never forced. Agreed with the evaluator side.
    let (strict, format) = match invocation.mode {
        Mode::Parse => (false, OutputFormat::Nix),
        Mode::Eval { strict, output } => (
            strict,
            match output {
                Output::Nix => OutputFormat::Nix,
                Output::Xml => OutputFormat::Xml { location: false },
                Output::Json => OutputFormat::Json,
            },
        ),
        // Instantiating starts with evaluating: an error there (a lint's, say) is the
        // outcome; an evaluation that succeeds cannot go on (see `run`).
        Mode::Instantiate => (false, OutputFormat::Nix),
    };
    let args = invocation
        .args
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Arg::Expr(expr) => ArgValue::Expr(expr.clone()),
                Arg::Str(text) => ArgValue::Str(text.clone()),
            };
            (name.clone(), value)
        })
        .collect();
    // NIX_PATH is handed over explicitly (after the -I entries, as Nix orders them), and
    // the child's environment has no NIX_PATH, so nothing is counted twice.
    let search_path = invocation
        .include
        .iter()
        .chain(&invocation.nix_path)
        .cloned()
        .collect();
    Ok(InstantiateOptions {
        source,
        strict,
        format,
        args,
        attr_paths: invocation.attr_paths.clone(),
        search_path,
        show_trace: flags.show_trace,
        settings: flags.settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn options_follow_the_command_line() {
        let mut inv = Invocation::new(
            Input::File("lang/x.nix".into()),
            Mode::Eval {
                strict: true,
                output: Output::Xml,
            },
            PathBuf::from("/tests"),
        );
        inv.apply_flags("-I lang/dir1 --argstr s v -A a.b").unwrap();
        inv.nix_path = vec!["lang/dir3".into()];
        let opts = options(&inv).unwrap();
        assert!(
            matches!(&opts.source, Source::File(p) if p == &PathBuf::from("/tests/lang/x.nix"))
        );
        assert!(opts.strict);
        assert!(matches!(opts.format, OutputFormat::Xml { location: false }));
        assert_eq!(opts.search_path, ["lang/dir1", "lang/dir3"]);
        assert_eq!(opts.attr_paths, ["a.b"]);
        assert!(matches!(&opts.args[..], [(n, ArgValue::Str(v))] if n == "s" && v == "v"));
    }

    #[test]
    fn flags_without_an_equivalent_fail_the_case() {
        let mut inv = Invocation::new(Input::Expr("1".into()), Mode::STRICT, PathBuf::from("/t"));
        inv.apply_flags("--show-trace --timeout 1 --read-write-mode --json")
            .unwrap();
        let opts = options(&inv).unwrap();
        assert!(matches!(opts.format, OutputFormat::Json));
        assert!(opts.show_trace && !opts.settings.abort_on_warn);
        inv.apply_flags("--option abort-on-warn true --trace-verbose --lint-url-literals fatal")
            .unwrap();
        let opts = options(&inv).unwrap();
        assert!(opts.settings.abort_on_warn && opts.settings.trace_verbose);
        assert_eq!(
            opts.settings.lints.url_literals,
            nixweb_eval::settings::Diagnose::Fatal
        );
        inv.apply_flags("--option no-such-setting true").unwrap();
        let err = options(&inv).err().unwrap();
        assert!(err.contains("`--option no-such-setting true`"), "{err}");
        inv.flags = vec!["--option".into(), "abort-on-warn".into(), "maybe".into()];
        let err = options(&inv).err().unwrap();
        assert!(err.contains("'maybe' is not a Boolean"), "{err}");
        inv.mode = Mode::Instantiate;
        inv.flags.clear();
        inv.input = Input::Expr("1".into());
        let outcome = run(&inv);
        assert_ne!(outcome.exit_code, 0, "{}", outcome.stderr);
        assert!(
            outcome.stderr.contains("cannot instantiate"),
            "{}",
            outcome.stderr
        );
        inv.input = Input::Expr("throw \"no\"".into());
        let outcome = run(&inv);
        assert_eq!(outcome.exit_code, 1);
        assert!(
            outcome.stderr.starts_with("error: no"),
            "{}",
            outcome.stderr
        );
    }

    #[test]
    fn parse_mode_is_a_lazy_evaluation_of_the_text() {
        let inv = Invocation::new(Input::Stdin("1".into()), Mode::Parse, PathBuf::from("/t"));
        let opts = options(&inv).unwrap();
        assert!(!opts.strict);
        assert!(matches!(opts.format, OutputFormat::Nix));
        assert!(
            matches!(&opts.source, Source::Expr { text, base_dir } if text == "1" && base_dir == &PathBuf::from("/t"))
        );
    }
}
