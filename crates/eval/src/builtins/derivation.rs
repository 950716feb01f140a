//! `derivationStrict` (attributes to a `.drv` path, via nixweb-store), the Nix-level
//! `derivation` wrapper, and `placeholder`.

use std::path::Path;

use nixweb_store::{ContextElem, DerivationArgs, FileIngestionMethod};

use super::Registry;
use crate::error::{err, EResult, EvalError};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::*;

/// Nix 2.8 defines `derivation` in Nix (corepkgs/derivation.nix); this is the same shape:
/// one attribute set per output, sharing the common attributes.
const DERIVATION_NIX: &str = r#"
drvAttrs @ { outputs ? [ "out" ], ... }:
let
  strict = derivationStrict drvAttrs;
  commonAttrs = drvAttrs // (builtins.listToAttrs outputsList) //
    { all = map (x: x.value) outputsList; inherit drvAttrs; };
  outputToAttrListElement = outputName: {
    name = outputName;
    value = commonAttrs // {
      outPath = builtins.getAttr outputName strict;
      drvPath = strict.drvPath;
      type = "derivation";
      inherit outputName;
    };
  };
  outputsList = map outputToAttrListElement outputs;
in (builtins.head outputsList).value
"#;

pub fn derivation_wrapper(ev: &mut Evaluator) -> Thunk {
    let e = ev
        .parse(
            DERIVATION_NIX,
            Some("/builtin/derivation.nix".into()),
            Path::new("/"),
        )
        .expect("the built-in derivation wrapper parses");
    let env = ev.empty_env.clone();
    Thunk::pending(e, env)
}

fn store_err<T>(e: nixweb_store::Error, pos: Pos) -> EResult<T> {
    err(e.to_string(), pos)
}

fn derivation_strict(ev: &mut Evaluator, a: &[Thunk], pos: Pos) -> EResult<Value> {
    let attrs = ev.force_attrs(&a[0], pos)?;
    let name = match attrs.get("name").cloned() {
        Some(t) => ev.force_string(&t, pos)?.as_str().to_string(),
        None => {
            return err(
                "attribute 'name' missing for call to 'derivationStrict'",
                pos,
            )
        }
    };
    let ignore_nulls = match attrs.get("__ignoreNulls").cloned() {
        Some(t) => ev.force_bool(&t, pos)?,
        None => false,
    };
    let structured = match attrs.get("__structuredAttrs").cloned() {
        Some(t) => ev.force_bool(&t, pos)?,
        None => false,
    };
    let mut args = DerivationArgs::new(name.clone());
    let mut ctx = Context::new();
    let mut json = serde_json::Map::new();
    for attr in &attrs.entries {
        let key = &*attr.name;
        if key == "__ignoreNulls" {
            continue;
        }
        let in_attr = |mut e: Box<EvalError>| {
            e.add_trace(
                attr.pos,
                format!(
                    "while evaluating the attribute '{}' of the derivation '{}'",
                    key, name
                ),
                true,
            );
            e
        };
        let v = ev.force(&attr.value).map_err(in_attr)?;
        if ignore_nulls && matches!(v, Value::Null) {
            continue;
        }
        match key {
            "__contentAddressed" => {
                args.content_addressed = ev.force_bool(&attr.value, pos).map_err(in_attr)?;
                continue;
            }
            "__impure" => {
                args.impure = ev.force_bool(&attr.value, pos).map_err(in_attr)?;
                continue;
            }
            "args" => {
                if let Value::List(l) = &v {
                    for t in l.iter() {
                        let item = ev.force(t)?;
                        let s = ev.coerce_to_string(&item, pos, true, true, &mut ctx)?;
                        args.args.push(s.into_owned());
                    }
                    continue;
                }
                return err(
                    format!("value is {} while a list was expected", v.type_desc()),
                    pos,
                );
            }
            _ => {}
        }
        if structured && key != "__structuredAttrs" {
            let mut out = String::new();
            super::json::to_json(ev, &v, pos, true, &mut ctx, &mut out)?;
            let parsed: serde_json::Value =
                serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
            if key == "outputs" {
                if let serde_json::Value::Array(items) = &parsed {
                    args.outputs = items
                        .iter()
                        .filter_map(|i| i.as_str().map(|s| s.to_string()))
                        .collect();
                }
            }
            match (key, &parsed) {
                ("builder", serde_json::Value::String(s)) => args.builder = s.clone(),
                ("system", serde_json::Value::String(s)) => args.system = s.clone(),
                ("outputHash", serde_json::Value::String(s)) => args.output_hash = Some(s.clone()),
                ("outputHashAlgo", serde_json::Value::String(s)) => {
                    args.output_hash_algo = s.clone()
                }
                ("outputHashMode", serde_json::Value::String(s)) => {
                    match FileIngestionMethod::parse_output_hash_mode(s) {
                        Ok(m) => args.output_hash_mode = Some(m),
                        Err(e) => return store_err(e, pos),
                    }
                }
                _ => {}
            }
            json.insert(key.to_string(), parsed);
            continue;
        }
        let s = ev
            .coerce_to_string(&v, pos, true, true, &mut ctx)?
            .into_owned();
        match key {
            "builder" => args.builder = s.clone(),
            "system" => args.system = s.clone(),
            "outputHash" => args.output_hash = Some(s.clone()),
            "outputHashAlgo" => args.output_hash_algo = s.clone(),
            "outputHashMode" => match FileIngestionMethod::parse_output_hash_mode(&s) {
                Ok(m) => args.output_hash_mode = Some(m),
                Err(e) => return store_err(e, pos),
            },
            "outputs" => args.outputs = nixweb_store::split_outputs_string(&s),
            _ => {}
        }
        if !structured {
            args.env.insert(key.to_string(), s);
        }
    }
    if structured {
        args.env.insert(
            "__json".to_string(),
            serde_json::Value::Object(json).to_string(),
        );
    }
    for c in &ctx {
        match ContextElem::parse(c) {
            Ok(e) => {
                args.context.insert(e);
            }
            Err(e) => return store_err(e, pos),
        }
    }
    let store = ev.store.clone();
    let result = match nixweb_store::instantiate(&store, &args, &mut ev.known) {
        Ok(r) => r,
        Err(e) => return store_err(e, pos),
    };
    for w in &result.warnings {
        ev.print_stderr("warning", w);
    }
    let mut out = Attrs::new();
    let mut drv_ctx = Context::new();
    drv_ctx.insert(format!("={}", result.drv_path));
    out.insert(
        "drvPath".into(),
        Thunk::value(Value::String(NixStr::with_ctx(
            result.drv_path.clone(),
            drv_ctx,
        ))),
        Pos::NONE,
    );
    for (output, path) in &result.output_paths {
        let mut c = Context::new();
        c.insert(format!("!{}!{}", output, result.drv_path));
        out.insert(
            output.as_str().into(),
            Thunk::value(Value::String(NixStr::with_ctx(path.clone(), c))),
            Pos::NONE,
        );
    }
    Ok(Value::attrs(out))
}

pub fn register(reg: &mut Registry) {
    reg.add("derivationStrict", 1, derivation_strict);
    reg.add("placeholder", 1, |ev, a, pos| {
        let out = ev.force_string(&a[0], pos)?;
        Ok(Value::str(nixweb_store::placeholder(out.as_str())))
    });
}
