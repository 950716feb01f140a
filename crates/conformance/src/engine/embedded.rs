//! The embedded engine: nixweb-eval's `instantiate`, with the real file system and
//! environment (`StdIO`), in the `run-one` child so that a crash or hang stays contained.

use crate::invocation::{Arg, Input, Invocation, Mode, Outcome};
use nixweb_eval::{ArgValue, InstantiateOptions, OutputFormat, Source, StdIO};
use std::sync::Arc;

pub fn run(invocation: &Invocation) -> Outcome {
    let options = options(invocation);
    let output = nixweb_eval::instantiate(&options, Arc::new(StdIO));
    Outcome {
        stdout: output.stdout,
        stderr: output.stderr,
        exit_code: output.exit_code,
    }
}

fn options(invocation: &Invocation) -> InstantiateOptions {
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
        Mode::Eval { strict, xml: false } => (strict, OutputFormat::Nix),
        Mode::Eval { strict, xml: true } => (strict, OutputFormat::Xml { location: false }),
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
    InstantiateOptions {
        source,
        strict,
        format,
        args,
        attr_paths: invocation.attr_paths.clone(),
        search_path,
    }
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
                xml: true,
            },
            PathBuf::from("/tests"),
        );
        inv.apply_flags("-I lang/dir1 --argstr s v -A a.b").unwrap();
        inv.nix_path = vec!["lang/dir3".into()];
        let opts = options(&inv);
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
    fn parse_mode_is_a_lazy_evaluation_of_the_text() {
        let inv = Invocation::new(Input::Stdin("1".into()), Mode::Parse, PathBuf::from("/t"));
        let opts = options(&inv);
        assert!(!opts.strict);
        assert!(matches!(opts.format, OutputFormat::Nix));
        assert!(
            matches!(&opts.source, Source::Expr { text, base_dir } if text == "1" && base_dir == &PathBuf::from("/t"))
        );
    }
}
