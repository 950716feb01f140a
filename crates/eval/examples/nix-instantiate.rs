//! A tiny `nix-instantiate --eval` look-alike over `nixweb_eval::instantiate`, for
//! comparing against the real one by hand and in the local conformance script.
//! Understands: --eval (implied) --strict --json --xml --no-location --parse -E expr,
//! -A path, -I entry, --arg n e, --argstr n s, and a file argument (or - for stdin).

use std::io::Read;
use std::sync::Arc;

use nixweb_eval::{instantiate, ArgValue, InstantiateOptions, OutputFormat, Source, StdIO};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut strict = false;
    let mut json = false;
    let mut xml = false;
    let mut location = true;
    let mut parse_only = false;
    let mut expr = None;
    let mut file = None;
    let mut attr_paths = Vec::new();
    let mut search_path = Vec::new();
    let mut auto_args = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--eval" => {}
            "--strict" => strict = true,
            "--json" => json = true,
            "--xml" => xml = true,
            "--no-location" => location = false,
            "--parse" => parse_only = true,
            "-E" | "--expr" => expr = args.next(),
            "-A" | "--attr" => attr_paths.push(args.next().unwrap_or_default()),
            "-I" => search_path.push(args.next().unwrap_or_default()),
            "--arg" => {
                let n = args.next().unwrap_or_default();
                auto_args.push((n, ArgValue::Expr(args.next().unwrap_or_default())));
            }
            "--argstr" => {
                let n = args.next().unwrap_or_default();
                auto_args.push((n, ArgValue::Str(args.next().unwrap_or_default())));
            }
            _ => file = Some(a),
        }
    }
    if let Ok(np) = std::env::var("NIX_PATH") {
        search_path.extend(np.split(':').filter(|s| !s.is_empty()).map(String::from));
    }
    let cwd = std::env::current_dir().unwrap();
    let source = match (expr, file.as_deref()) {
        (Some(text), _) => Source::Expr {
            text,
            base_dir: cwd.clone(),
        },
        (None, Some("-")) | (None, None) => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).unwrap();
            Source::Expr {
                text,
                base_dir: cwd.clone(),
            }
        }
        (None, Some(f)) => Source::File(cwd.join(f)),
    };
    if parse_only {
        // Parsing only: evaluate nothing, just report parse errors.
        let mut ev = nixweb_eval::Evaluator::new(Arc::new(StdIO));
        let r = match &source {
            Source::Expr { text, base_dir } => ev.parse(text, None, base_dir).map(|_| ()),
            Source::File(p) => {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                ev.parse(&text, Some(p.clone()), p.parent().unwrap())
                    .map(|_| ())
            }
        };
        if let Err(e) = r {
            eprint!(
                "{}",
                nixweb_eval::error::format_error(&e, &ev.sources, false)
            );
            std::process::exit(1);
        }
        return;
    }
    let format = if xml {
        OutputFormat::Xml { location }
    } else if json {
        OutputFormat::Json
    } else {
        OutputFormat::Nix
    };
    let out = instantiate(
        &InstantiateOptions {
            source,
            strict,
            format,
            args: auto_args,
            attr_paths,
            search_path,
            show_trace: false,
            settings: Default::default(),
        },
        Arc::new(StdIO),
    );
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    std::process::exit(out.exit_code);
}
