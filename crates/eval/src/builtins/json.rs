//! `toJSON`/`fromJSON`, also used for `nix-instantiate --json` output.

use super::Registry;
use crate::error::{err, limit_err, EResult, Limit};
use crate::eval::Evaluator;
use crate::print::format_float;
use crate::source::Pos;
use crate::value::*;

pub fn escape_json(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Runs of characters that need no escape are copied whole.
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            8 => "\\b",
            12 => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            use std::fmt::Write;
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Serialises a value as Nix's printValueAsJSON does (forcing everything it reaches).
pub fn to_json(
    ev: &mut Evaluator,
    v: &Value,
    pos: Pos,
    copy_to_store: bool,
    ctx: &mut Context,
    out: &mut String,
) -> EResult<()> {
    to_json_with(ev, v, pos, copy_to_store, true, ctx, out)
}

/// Like `to_json`; with `force` off (`--json` without `--strict`), unevaluated parts are
/// an error, as in Nix.
pub fn to_json_with(
    ev: &mut Evaluator,
    v: &Value,
    pos: Pos,
    copy_to_store: bool,
    force: bool,
    ctx: &mut Context,
    out: &mut String,
) -> EResult<()> {
    // The document as it grows: enough for a number or a key, or the string itself.
    let extra = match v {
        Value::String(s) => s.as_str().len() + 2,
        _ => 64,
    };
    ev.reserve_append(out.len(), out.capacity(), extra, pos)?;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            use std::fmt::Write;
            let _ = write!(out, "{}", i);
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c.iter().cloned());
            }
            escape_json(s.as_str(), out);
        }
        Value::Path(p) => {
            let s = if copy_to_store {
                let sp = super::paths::copy_path_to_store(ev, p, pos)?;
                ctx.insert(sp.clone());
                sp
            } else {
                p.to_string()
            };
            escape_json(&s, out);
        }
        Value::List(l) => ev.nested(pos, |ev| {
            out.push('[');
            for (i, t) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let item = force_or_fail(ev, t, force, pos)?;
                to_json_with(ev, &item, pos, copy_to_store, force, ctx, out)?;
            }
            out.push(']');
            Ok(())
        })?,
        Value::Attrs(a) => ev.nested(pos, |ev| {
            match attrs_as(ev, v, a, pos, copy_to_store, force, ctx)? {
                AttrsAs::String(s) => {
                    escape_json(&s, out);
                    return Ok(());
                }
                AttrsAs::OutPath(o) => {
                    return to_json_with(ev, &o, pos, copy_to_store, force, ctx, out)
                }
                AttrsAs::Object => {}
            }
            out.push('{');
            for (i, attr) in a.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                escape_json(&attr.name, out);
                out.push(':');
                let item = force_or_fail(ev, &attr.value, force, pos)?;
                to_json_with(ev, &item, pos, copy_to_store, force, ctx, out)?;
            }
            out.push('}');
            Ok(())
        })?,
        other => return err(format!("cannot convert {} to JSON", other.type_desc()), pos),
    }
    Ok(())
}

/// How an attribute set appears in JSON, as in Nix: through its `__toString`, as its
/// `outPath`, or as an object.
enum AttrsAs {
    String(String),
    OutPath(Value),
    Object,
}

fn attrs_as(
    ev: &mut Evaluator,
    v: &Value,
    a: &Attrs,
    pos: Pos,
    copy_to_store: bool,
    force: bool,
    ctx: &mut Context,
) -> EResult<AttrsAs> {
    if a.contains("__toString") {
        let mut c2 = Context::new();
        let s = ev.coerce_to_string(v, pos, false, copy_to_store, &mut c2)?;
        ctx.extend(c2);
        return Ok(AttrsAs::String(s.to_string()));
    }
    if let Some(t) = a.get("outPath").cloned() {
        return Ok(AttrsAs::OutPath(force_or_fail(ev, &t, force, pos)?));
    }
    Ok(AttrsAs::Object)
}

/// How deeply a value handed to the host (`Evaluator::to_json`) may nest. Hosts walk,
/// serialise and drop `serde_json` values recursively, on threads with ordinary stacks.
pub const MAX_RESULT_NESTING: usize = 1_000;

/// The JSON `to_json` would write, as a `serde_json::Value`, built without the text: for
/// hosts that want the data, not the characters. A float is exactly what parsing Nix's
/// printed float gives (so `3.0` is the integer `3` if Nix prints it as `3`). `nesting`
/// is how many arrays and objects enclose `v`.
pub fn to_serde(
    ev: &mut Evaluator,
    v: &Value,
    pos: Pos,
    ctx: &mut Context,
    nesting: usize,
) -> EResult<serde_json::Value> {
    use serde_json::Value as J;
    match v {
        Value::Null => Ok(J::Null),
        Value::Bool(b) => Ok(J::Bool(*b)),
        Value::Int(i) => Ok(J::from(*i)),
        Value::Float(f) => {
            let printed = format_float(*f);
            serde_json::from_str(&printed)
                .or_else(|_| err(format!("cannot convert the float {printed} to JSON"), pos))
        }
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c.iter().cloned());
            }
            ev.reserve(s.as_str().len(), pos)?;
            Ok(J::String(String::from(s.as_str())))
        }
        Value::Path(p) => Ok(J::String(p.to_string())),
        Value::List(_) | Value::Attrs(_) if nesting >= MAX_RESULT_NESTING => Err(limit_err(
            Limit::ResultNesting,
            format!(
                "the result nests lists and sets more than {} levels deep",
                MAX_RESULT_NESTING
            ),
            pos,
        )),
        Value::List(l) => ev.nested(pos, |ev| {
            let mut items = Vec::with_capacity(l.len());
            for t in l.iter() {
                let item = ev.force(t)?;
                items.push(to_serde(ev, &item, pos, ctx, nesting + 1)?);
            }
            Ok(J::Array(items))
        }),
        Value::Attrs(a) => ev.nested(pos, |ev| match attrs_as(ev, v, a, pos, false, true, ctx)? {
            AttrsAs::String(s) => Ok(J::String(s)),
            AttrsAs::OutPath(o) => to_serde(ev, &o, pos, ctx, nesting),
            AttrsAs::Object => {
                let mut object = serde_json::Map::new();
                for attr in a.entries.iter() {
                    let item = ev.force(&attr.value)?;
                    object.insert(
                        String::from(&*attr.name),
                        to_serde(ev, &item, pos, ctx, nesting + 1)?,
                    );
                }
                Ok(J::Object(object))
            }
        }),
        other => err(format!("cannot convert {} to JSON", other.type_desc()), pos),
    }
}

fn force_or_fail(ev: &mut Evaluator, t: &Thunk, force: bool, pos: Pos) -> EResult<Value> {
    if force {
        return ev.force(t);
    }
    match t.get() {
        Some(v) => Ok(v),
        None => err("cannot convert a thunk to JSON", pos),
    }
}

/// Converts parsed JSON into a Nix value.
pub fn from_serde(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::list(items.iter().map(|i| Thunk::value(from_serde(i))).collect())
        }
        serde_json::Value::Object(map) => {
            let entries = map
                .iter()
                .map(|(k, v)| Attr {
                    name: k.as_str().into(),
                    value: Thunk::value(from_serde(v)),
                    pos: Pos::NONE,
                })
                .collect();
            Value::attrs(Attrs::from_unsorted(entries))
        }
    }
}

pub fn register(reg: &mut Registry) {
    reg.add("toJSON", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut out = String::new();
        let mut ctx = Context::new();
        to_json(ev, &v, pos, true, &mut ctx, &mut out)?;
        Ok(Value::String(NixStr::with_ctx(out, ctx)))
    });
    reg.add("fromJSON", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        super::json_parse::parse(s.as_str(), ev.limits.max_depth).map_err(|mut e| {
            e.pos = pos;
            e
        })
    });
}
