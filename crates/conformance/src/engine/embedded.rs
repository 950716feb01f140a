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
