//! `fromTOML` via the `toml` crate.

use super::Registry;
use crate::error::err;
use crate::source::Pos;
use crate::value::*;

fn from_toml(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s.as_str()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::str(d.to_string()),
        toml::Value::Array(items) => {
            Value::list(items.iter().map(|i| Thunk::value(from_toml(i))).collect())
        }
        toml::Value::Table(t) => {
            let entries = t
                .iter()
                .map(|(k, v)| Attr {
                    name: k.as_str().into(),
                    value: Thunk::value(from_toml(v)),
                    pos: Pos::NONE,
                })
                .collect();
            Value::attrs(Attrs::from_unsorted(entries))
        }
    }
}

pub fn register(reg: &mut Registry) {
    reg.add("fromTOML", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        match s.s.parse::<toml::Table>() {
            Ok(t) => Ok(from_toml(&toml::Value::Table(t))),
            Err(e) => err(format!("while parsing a TOML string: {}", e.message()), pos),
        }
    });
}
