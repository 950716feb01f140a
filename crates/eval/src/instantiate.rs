//! `nix-instantiate --eval` as a function: the entry point the CLI and the conformance
//! runner use. Everything here is option plumbing and output formatting around `Evaluator`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{err, format_error, EResult, ErrorKind, EvalError};
use crate::eval::Evaluator;
use crate::io::EvalIO;
use crate::source::Pos;
use crate::value::{Attrs, Context, Thunk, Value};

pub enum Source {
    File(PathBuf),
    Expr { text: String, base_dir: PathBuf },
}

pub enum OutputFormat {
    Nix,
    Json,
    Xml { location: bool },
}

/// `--arg name expr` / `--argstr name string`.
pub enum ArgValue {
    Expr(String),
    Str(String),
}

pub struct InstantiateOptions {
    pub source: Source,
    pub strict: bool,
    pub format: OutputFormat,
    pub args: Vec<(String, ArgValue)>,
    /// `-A`, may be repeated; "" means the root.
    pub attr_paths: Vec<String>,
    /// `-I` entries then `NIX_PATH` entries, each "prefix=path" or "path".
    pub search_path: Vec<String>,
    /// `--show-trace`: errors list their enclosing frames.
    pub show_trace: bool,
    /// `--abort-on-warn`, `--trace-verbose`, the `--lint-*` flags (and their `--option`
    /// forms). As in current
    /// Nix, `NIX_ABORT_ON_WARN=1` (or `yes`, `true`) in the environment sets abort-on-warn.
    pub settings: crate::settings::Settings,
}

impl InstantiateOptions {
    /// `nix-instantiate --eval` of `source` with no other flag: lazy, printed as Nix,
    /// no arguments, attribute paths or search path.
    pub fn new(source: Source) -> InstantiateOptions {
        InstantiateOptions {
            source,
            strict: false,
            format: OutputFormat::Nix,
            args: Vec::new(),
            attr_paths: Vec::new(),
            search_path: Vec::new(),
            show_trace: false,
            settings: Default::default(),
        }
    }
}

pub struct InstantiateOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// Behaves as `nix-instantiate --eval` with the given flags: stdout gets the printed value(s)
/// followed by a newline, stderr gets Nix-formatted errors, exit code 1 on error.
pub fn instantiate(opts: &InstantiateOptions, io: Arc<dyn EvalIO>) -> InstantiateOutput {
    instantiate_in(opts, io, Heap::Free)
}

/// `instantiate` for a process that exits right after it (the one-shot CLI): the
/// evaluation's values are left to the operating system, as Nix leaves its heap, instead
/// of being freed one by one (a few percent of a large evaluation's time). Never for a
/// process that goes on: that memory stays taken until it exits.
pub fn instantiate_then_exit(opts: &InstantiateOptions, io: Arc<dyn EvalIO>) -> InstantiateOutput {
    instantiate_in(opts, io, Heap::Leave)
}

#[derive(Clone, Copy, PartialEq)]
enum Heap {
    Free,
    Leave,
}

fn instantiate_in(opts: &InstantiateOptions, io: Arc<dyn EvalIO>, heap: Heap) -> InstantiateOutput {
    let abort_from_env = matches!(
        io.get_env("NIX_ABORT_ON_WARN").as_deref(),
        Some("1" | "yes" | "true")
    );
    let mut ev = Evaluator::new(io);
    ev.set_search_path(&opts.search_path);
    ev.settings = opts.settings;
    if let Some(depth) = opts.settings.max_call_depth {
        ev.max_call_depth = depth as usize;
    }
    ev.settings.abort_on_warn |= abort_from_env;
    let mut stdout = String::new();
    let mut values = Vec::new();
    let result = run(&mut ev, opts, &mut stdout, &mut values);
    let mut stderr = std::mem::take(&mut ev.stderr);
    let exit_code = match result {
        Ok(()) => 0,
        Err(e) => {
            let text = format_error(&e, &ev.sources, opts.show_trace);
            stderr.push_str(&crate::log_text::for_log(&text));
            1
        }
    };
    if heap == Heap::Leave {
        // What values hold (the globals, the imports, what was printed) stays allocated;
        // the rest of the evaluator, its `EvalIO` above all (which may clean up after
        // itself), goes as usual, with no remembered scope left to empty.
        std::mem::forget(values);
        std::mem::forget(std::mem::take(&mut ev.globals));
        std::mem::forget(std::mem::take(&mut ev.import_cache));
        ev.cyclic_envs.clear();
        ev.cyclic_cells.clear();
    }
    InstantiateOutput {
        stdout,
        stderr,
        exit_code,
    }
}

/// Evaluates and prints; `values` gets the values evaluated, for the caller to free or
/// leave (see `Heap`).
fn run(
    ev: &mut Evaluator,
    opts: &InstantiateOptions,
    stdout: &mut String,
    values: &mut Vec<Value>,
) -> EResult<()> {
    let root = match &opts.source {
        Source::File(p) => {
            let p = if p.is_absolute() {
                p.clone()
            } else {
                let cwd = ev.cwd();
                PathBuf::from(crate::lower::canon_path(&format!(
                    "{}/{}",
                    cwd,
                    p.display()
                )))
            };
            ev.eval_file(&p)?
        }
        Source::Expr { text, base_dir } => ev.eval_expr_str(text, base_dir)?,
    };
    values.push(root.clone());
    let auto_args = build_auto_args(ev, opts)?;
    let paths: Vec<String> = if opts.attr_paths.is_empty() {
        vec![String::new()]
    } else {
        opts.attr_paths.clone()
    };
    for path in &paths {
        let v = find_along_attr_path(ev, &root, path, &auto_args)?;
        // nix-instantiate calls the result only when --arg/--argstr were given.
        let v = if opts.args.is_empty() {
            v
        } else {
            auto_call(ev, v, &auto_args)?
        };
        values.push(v.clone());
        if opts.strict {
            ev.force_deep(&v)?;
        }
        match &opts.format {
            OutputFormat::Nix => {
                stdout.push_str(&crate::print::print_value(&v));
                stdout.push('\n');
            }
            OutputFormat::Json => {
                let mut ctx = Context::new();
                let mut out = String::new();
                // Paths are copied to the store and printed as their store paths, as
                // 2.8 does (issue 13 cause 13).
                crate::builtins::json::to_json_with(
                    ev,
                    &v,
                    Pos::NONE,
                    true,
                    opts.strict,
                    &mut ctx,
                    &mut out,
                )?;
                // Nix 2.8 prints no newline after JSON output.
                stdout.push_str(&out);
            }
            OutputFormat::Xml { location } => {
                let mut ctx = Context::new();
                let out = crate::builtins::xml::to_xml(ev, &v, *location, opts.strict, &mut ctx)?;
                stdout.push_str(&out);
            }
        }
    }
    Ok(())
}

fn build_auto_args(ev: &mut Evaluator, opts: &InstantiateOptions) -> EResult<Attrs> {
    let mut attrs = Attrs::new();
    for (name, arg) in &opts.args {
        let t = match arg {
            ArgValue::Str(s) => Thunk::value(Value::str(s.as_str())),
            ArgValue::Expr(e) => {
                let cwd = ev.cwd();
                let expr = ev.parse(e, None, std::path::Path::new(&cwd))?;
                Thunk::pending(expr, ev.empty_env.clone())
            }
        };
        attrs.insert(name.as_str().into(), t, Pos::NONE);
    }
    Ok(attrs)
}

/// Nix's autoCallFunction: functions with formals get called with the `--arg`s they take.
pub fn auto_call(ev: &mut Evaluator, v: Value, args: &Attrs) -> EResult<Value> {
    match &v {
        Value::Attrs(a) if a.contains("__functor") => {
            let f = a.get("__functor").cloned().unwrap();
            let f = ev.force(&f)?;
            let inner = ev.call(f, Thunk::value(v.clone()), Pos::NONE)?;
            auto_call(ev, inner, args)
        }
        Value::Lambda(c) => {
            let Some(formals) = &c.lambda.formals else {
                return Ok(v);
            };
            let mut actual = Attrs::new();
            if formals.ellipsis {
                actual = args.clone();
            } else {
                for f in &formals.entries {
                    if let Some(t) = args.get(&f.name) {
                        actual.insert(f.name.clone(), t.clone(), Pos::NONE);
                    } else if f.default.is_none() {
                        return err(
                            format!(
                                "cannot evaluate a function that has an argument without a value ('{}')",
                                f.name
                            ),
                            c.lambda.pos,
                        );
                    }
                }
            }
            ev.call(v.clone(), Thunk::value(Value::attrs(actual)), Pos::NONE)
        }
        _ => Ok(v),
    }
}

/// `-A a.b.0.c`: attribute names and list indices, auto-calling functions on the way.
/// Splits an `-A` path at its dots, as Nix 2.8 does: a double-quoted part may hold dots
/// (`hosts."example.com"`), a trailing empty part is dropped, and an unclosed quote is an
/// error.
pub fn parse_attr_path(path: &str) -> EResult<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => parts.push(std::mem::take(&mut cur)),
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => cur.push(c),
                    None => {
                        return Err(EvalError::new(
                            ErrorKind::Parse,
                            format!("missing closing quote in selection path '{}'", path),
                            Pos::NONE,
                        ))
                    }
                }
            },
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    Ok(parts)
}

pub fn find_along_attr_path(
    ev: &mut Evaluator,
    root: &Value,
    path: &str,
    args: &Attrs,
) -> EResult<Value> {
    let mut v = root.clone();
    if path.is_empty() {
        return Ok(v);
    }
    let selected_wrong = |what: &str, v: &Value| {
        err(
            format!(
                "the expression selected by the selection path '{}' should be {} but is {}",
                path,
                what,
                v.type_desc()
            ),
            Pos::NONE,
        )
    };
    for part in parse_attr_path(path)? {
        v = auto_call(ev, v, args)?;
        // As in Nix 2.8, a part that is a number selects from a list, and only from one.
        if let Ok(i) = part.parse::<u32>() {
            let Value::List(l) = &v else {
                return selected_wrong("a list", &v);
            };
            let t = l.get(i as usize).cloned().ok_or_else(|| {
                EvalError::new(
                    ErrorKind::Eval,
                    format!(
                        "list index {} in selection path '{}' is out of range",
                        i, path
                    ),
                    Pos::NONE,
                )
            })?;
            v = ev.force(&t)?;
            continue;
        }
        let Value::Attrs(a) = &v else {
            return selected_wrong("a set", &v);
        };
        if part.is_empty() {
            return err(
                format!("empty attribute name in selection path '{}'", path),
                Pos::NONE,
            );
        }
        let t = a.get(part.as_str()).cloned().ok_or_else(|| {
            let hint = crate::error::did_you_mean(&part, a.entries.iter().map(|e| &*e.name));
            EvalError::new(
                ErrorKind::Eval,
                format!(
                    "attribute '{}' in selection path '{}' not found",
                    part, path
                ),
                Pos::NONE,
            )
            .with_hint(hint)
        })?;
        v = ev.force(&t)?;
    }
    Ok(v)
}
