//! The `builtins` set, split into families. `install` registers everything on an evaluator;
//! each family module exposes a `register` function. Builtins receive their arguments as
//! (lazy) thunks and force only what they need.

use std::rc::Rc;

use crate::error::{err, ErrorKind, EvalError};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::*;

pub mod arith;
pub mod attrs;
pub mod corepkgs;
pub mod derivation;
pub mod fetch;
pub mod hashing;
pub mod json;
pub mod json_parse;
pub mod lists;
pub mod messages;
pub mod paths;
pub mod regex;
pub mod strings;
pub mod toml;
pub mod types;
pub mod xml;

/// Names reachable without the `builtins.` prefix (in Nix 2.8).
const GLOBAL: &[&str] = &[
    "abort",
    "baseNameOf",
    "derivation",
    "derivationStrict",
    "dirOf",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
];

/// Collects builtins before they become the `builtins` set.
pub struct Registry {
    pub entries: Vec<(String, Thunk)>,
}

impl Registry {
    pub fn add(&mut self, name: &'static str, arity: usize, func: PrimOpFn) {
        let op = PrimOp {
            name,
            arity,
            func: PrimOpImpl::Native(func),
        };
        self.entries
            .push((name.to_string(), Thunk::value(Value::PrimOp(Rc::new(op)))));
    }
    pub fn value(&mut self, name: &str, v: Value) {
        self.entries.push((name.to_string(), Thunk::value(v)));
    }
    pub fn thunk(&mut self, name: &str, t: Thunk) {
        self.entries.push((name.to_string(), t));
    }
}

pub fn install(ev: &mut Evaluator) {
    let mut reg = Registry {
        entries: Vec::new(),
    };
    register_core(&mut reg);
    types::register(&mut reg);
    arith::register(&mut reg);
    attrs::register(&mut reg);
    lists::register(&mut reg);
    messages::register(&mut reg);
    strings::register(&mut reg);
    regex::register(&mut reg);
    json::register(&mut reg);
    toml::register(&mut reg);
    xml::register(&mut reg);
    paths::register(&mut reg);
    hashing::register(&mut reg);
    derivation::register(&mut reg);
    fetch::register(&mut reg);
    reg.value("true", Value::Bool(true));
    reg.value("false", Value::Bool(false));
    reg.value("null", Value::Null);
    reg.value("langVersion", Value::Int(6));
    reg.value("nixPath", Value::list(Vec::new()));
    reg.value("nixVersion", Value::str("2.8.0"));
    reg.value("currentSystem", Value::str("x86_64-linux"));
    reg.value("storeDir", Value::str(ev.store_dir.clone()));
    let time = ev.io.current_time();
    reg.value("currentTime", Value::Int(time));
    install_registry(ev, reg);
}

/// Turns the registry into globals and the `builtins` set (which contains itself).
fn install_registry(ev: &mut Evaluator, reg: Registry) {
    let builtins_thunk = Thunk::blackhole();
    let mut attrs = Attrs::new();
    for (name, t) in &reg.entries {
        attrs.insert(name.as_str().into(), t.clone(), Pos::NONE);
    }
    attrs.insert("builtins".into(), builtins_thunk.clone(), Pos::NONE);
    builtins_thunk.fill(ThunkState::Done(Value::attrs(attrs)));
    for (name, t) in &reg.entries {
        if GLOBAL.contains(&name.as_str()) || matches!(name.as_str(), "true" | "false" | "null") {
            ev.define_global(name, t.clone());
        }
        ev.define_global(&format!("__{}", name), t.clone());
    }
    ev.define_global("builtins", builtins_thunk);
    // `derivation` is written in Nix on top of derivationStrict, as in Nix itself.
    let drv = derivation::derivation_wrapper(ev);
    ev.define_global("derivation", drv.clone());
    if let Some(Value::Attrs(b)) = ev.globals[ev.global_names["builtins"] as usize].get() {
        let mut b = (*b).clone();
        b.insert("derivation".into(), drv, Pos::NONE);
        let t = &ev.globals[ev.global_names["builtins"] as usize];
        t.fill(ThunkState::Done(Value::attrs(b)));
    }
}

/// Host-registered builtins go into the `builtins` set and, optionally, the global scope.
pub fn register_host(
    ev: &mut Evaluator,
    name: &'static str,
    arity: usize,
    func: HostFn,
    global: bool,
) {
    let op = Thunk::value(Value::PrimOp(Rc::new(PrimOp {
        name,
        arity,
        func: PrimOpImpl::Host(func),
    })));
    let bt = ev.globals[ev.global_names["builtins"] as usize].clone();
    if let Some(Value::Attrs(b)) = bt.get() {
        let mut b = (*b).clone();
        b.insert(name.into(), op.clone(), Pos::NONE);
        bt.fill(ThunkState::Done(Value::attrs(b)));
    }
    ev.define_global(&format!("__{}", name), op.clone());
    if global {
        ev.define_global(name, op);
    }
}

pub fn mk_attrs(pairs: Vec<(&str, Value)>) -> Value {
    let mut a = Attrs::new();
    for (k, v) in pairs {
        a.insert(k.into(), Thunk::value(v), Pos::NONE);
    }
    Value::attrs(a)
}

fn register_core(reg: &mut Registry) {
    reg.add("abort", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        Err(EvalError::new(
            ErrorKind::Abort,
            format!(
                "evaluation aborted with the following error message: '{}'",
                s
            ),
            Pos::NONE,
        ))
    });
    reg.add("throw", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        Err(EvalError::new(ErrorKind::Throw, s, Pos::NONE))
    });
    reg.add("import", 1, |ev, a, pos| {
        let path = ev.coerce_to_path(&a[0], pos)?;
        ev.eval_file(std::path::Path::new(&path)).map_err(|mut e| {
            if e.pos.is_none() {
                e.pos = pos;
            }
            e
        })
    });
    reg.add("scopedImport", 2, |ev, a, pos| {
        let scope = ev.force_attrs(&a[0], pos)?;
        let path = ev.coerce_to_path(&a[1], pos)?;
        let mut p = std::path::PathBuf::from(&path);
        if ev.io.file_type(&p) == Some(crate::io::FileType::Directory) {
            p = p.join("default.nix");
        }
        let text = ev.read_source(&p, pos)?;
        let base = p
            .parent()
            .unwrap_or(std::path::Path::new("/"))
            .to_path_buf();
        // The scope's attributes form a lexical scope outside the file: they shadow builtins.
        let names: Vec<Symbol> = scope.entries.iter().map(|e| e.name.clone()).collect();
        let e = ev.parse_scoped(&text, Some(p.clone()), &base, &names)?;
        let env = Rc::new(Env {
            slots: scope.entries.iter().map(|e| e.value.clone()).collect(),
            parent: None,
        });
        ev.register_cyclic(&env, []);
        ev.eval(&e, &env)
    });
    reg.add("seq", 2, |ev, a, _| {
        ev.force(&a[0])?;
        ev.force(&a[1])
    });
    reg.add("deepSeq", 2, |ev, a, _| {
        let v = ev.force(&a[0])?;
        ev.force_deep(&v)?;
        ev.force(&a[1])
    });
    reg.add("tryEval", 1, |ev, a, _| match ev.force(&a[0]) {
        Ok(v) => Ok(mk_attrs(vec![("success", Value::Bool(true)), ("value", v)])),
        Err(e) if e.catchable() => Ok(mk_attrs(vec![
            ("success", Value::Bool(false)),
            ("value", Value::Bool(false)),
        ])),
        Err(e) => Err(e),
    });
    reg.add("addErrorContext", 2, |ev, a, pos| {
        let msg = ev.force(&a[0]);
        match ev.force(&a[1]) {
            Ok(v) => Ok(v),
            Err(mut e) => {
                if let Ok(Value::String(s)) = msg {
                    e.add_trace(pos, s.as_str().to_string(), true);
                }
                Err(e)
            }
        }
    });
    reg.add("getEnv", 1, |ev, a, pos| {
        let name = ev.force_string(&a[0], pos)?;
        Ok(Value::str(ev.io.get_env(name.as_str()).unwrap_or_default()))
    });
    reg.add("functionArgs", 1, |ev, a, pos| {
        let f = ev.force(&a[0])?;
        match f {
            Value::Lambda(c) => match &c.lambda.formals {
                Some(formals) => {
                    let set = formals.function_args.get_or_init(|| {
                        Rc::new(Attrs::from_unsorted(
                            formals
                                .entries
                                .iter()
                                .map(|f| Attr {
                                    name: f.name.clone(),
                                    value: Thunk::value(Value::Bool(f.default.is_some())),
                                    pos: f.pos,
                                })
                                .collect(),
                        ))
                    });
                    Ok(Value::Attrs(set.clone()))
                }
                None => Ok(Value::attrs(Attrs::new())),
            },
            Value::PrimOp(_) | Value::PrimOpApp(..) => Ok(Value::attrs(Attrs::new())),
            _ => err("'functionArgs' requires a function", pos),
        }
    });
    reg.add("unsafeGetAttrPos", 2, |ev, a, pos| {
        let name = ev.force_string(&a[0], pos)?;
        let set = ev.force_attrs(&a[1], pos)?;
        match set.get_attr(name.as_str()) {
            Some(attr) if !attr.pos.is_none() => Ok(ev.pos_value(attr.pos)),
            _ => Ok(Value::Null),
        }
    });
    reg.add("genericClosure", 1, |ev, a, pos| {
        let args = ev.force_attrs(&a[0], pos)?;
        let start = args.get("startSet").cloned().ok_or_else(|| {
            EvalError::new(
                ErrorKind::Eval,
                "attribute 'startSet' missing for call to 'genericClosure'",
                pos,
            )
        })?;
        let op = args.get("operator").cloned().ok_or_else(|| {
            EvalError::new(
                ErrorKind::Eval,
                "attribute 'operator' missing for call to 'genericClosure'",
                pos,
            )
        })?;
        let op = ev.force(&op)?;
        let mut queue: std::collections::VecDeque<Thunk> =
            ev.force_list(&start, pos)?.iter().cloned().collect();
        let mut done: Vec<Value> = Vec::new();
        let mut out = Vec::new();
        while let Some(t) = queue.pop_front() {
            let item = ev.force_attrs(&t, pos)?;
            let key = item
                .get("key")
                .cloned()
                .ok_or_else(|| EvalError::new(ErrorKind::Eval, "attribute 'key' required", pos))?;
            let key = ev.force(&key)?;
            // Nix keeps the keys in an ordered set compared with `<`.
            let (mut lo, mut hi) = (0, done.len());
            let mut seen = false;
            while lo < hi {
                let mid = (lo + hi) / 2;
                if ev.less_than(&key, &done[mid], pos)? {
                    hi = mid;
                } else if ev.less_than(&done[mid], &key, pos)? {
                    lo = mid + 1;
                } else {
                    seen = true;
                    break;
                }
            }
            if seen {
                continue;
            }
            done.insert(lo, key);
            out.push(t.clone());
            let next = ev.call(op.clone(), t, pos)?;
            match next {
                Value::List(l) => queue.extend(l.iter().cloned()),
                other => {
                    return err(
                        format!("value is {} while a list was expected", other.type_desc()),
                        pos,
                    )
                }
            }
        }
        Ok(Value::list(out))
    });
}

/// Replaces (or adds) a plain value in the `builtins` set, e.g. `nixPath` once the search
/// path is known.
pub fn set_builtin_value(ev: &mut Evaluator, name: &str, v: Value) {
    set_builtin_thunk(ev, name, Thunk::value(v));
}

/// Makes `builtins.<name>` and `__<name>` one shared thunk. A host can later change what
/// it holds in place (through its state) without rebuilding the builtins set.
pub fn set_builtin_thunk(ev: &mut Evaluator, name: &str, thunk: Thunk) {
    let bt = ev.globals[ev.global_names["builtins"] as usize].clone();
    if let Some(Value::Attrs(b)) = bt.get() {
        let mut b = (*b).clone();
        b.insert(name.into(), thunk.clone(), Pos::NONE);
        bt.fill(ThunkState::Done(Value::attrs(b)));
    }
    ev.define_global(&format!("__{}", name), thunk);
}

/// `x: x`, for re-pointing a thunk at another thunk.
pub fn identity_primop() -> PrimOp {
    PrimOp {
        name: "__identity",
        arity: 1,
        func: PrimOpImpl::Native(|ev, a, _| ev.force(&a[0])),
    }
}
