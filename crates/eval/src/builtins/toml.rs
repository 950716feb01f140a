//! `fromTOML` via the `toml` crate.

use super::Registry;
use crate::error::err;
use crate::source::Pos;
use crate::value::*;

/// A NUL byte in a key or string is refused in current Nix's words (2.8 cut it short).
fn no_nul(s: &str) -> Result<(), String> {
    refuse_nul(s).map_err(|msg| format!("while parsing TOML: error: {}", msg))
}

/// The message in `Err` is whole: 2.8's for what it refuses, current Nix's for NUL bytes.
fn from_toml(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => {
            no_nul(s)?;
            Value::str(s.as_str())
        }
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(_) => {
            return Err("while parsing a TOML string: Dates and times are not supported".into())
        }
        toml::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(Thunk::value(from_toml(i)?));
            }
            Value::list(out)
        }
        toml::Value::Table(t) => {
            let mut entries = Vec::with_capacity(t.len());
            for (k, v) in t {
                no_nul(k)?;
                entries.push(Attr {
                    name: k.as_str().into(),
                    value: Thunk::value(from_toml(v)?),
                    pos: Pos::NONE,
                });
            }
            Value::attrs(Attrs::from_unsorted(entries))
        }
    })
}

pub fn register(reg: &mut Registry) {
    reg.add("fromTOML", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        match s.as_str().parse::<toml::Table>() {
            Ok(t) => match from_toml(&toml::Value::Table(t)) {
                Ok(v) => Ok(v),
                Err(msg) => err(msg, pos),
            },
            Err(e) => err(format!("while parsing a TOML string: {}", e.message()), pos),
        }
    });
}
