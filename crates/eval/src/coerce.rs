//! Coercions and type checks: Nix's coerceToString (with `__toString`, `outPath` and
//! copying paths to the store) and the `force_*` helpers builtins use to demand a type.

use std::borrow::Cow;
use std::rc::Rc;

use crate::error::{err, EResult};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::*;

impl Evaluator {
    // ---------------------------------------------------------------- coercions

    /// Nix's coerceToString. `coerce_more` also accepts null, booleans, numbers and lists
    /// (as `toString` does); `copy_to_store` turns paths into store paths.
    /// A string is borrowed, not copied: most callers append it to something.
    pub fn coerce_to_string<'v>(
        &mut self,
        v: &'v Value,
        pos: Pos,
        coerce_more: bool,
        copy_to_store: bool,
        ctx: &mut Context,
    ) -> EResult<Cow<'v, str>> {
        match v {
            // Strings, the common case, go straight through; anything else may nest.
            Value::String(_) => self.coerce_to_string_here(v, pos, coerce_more, copy_to_store, ctx),
            _ => self.nested(pos, |ev| {
                ev.coerce_to_string_here(v, pos, coerce_more, copy_to_store, ctx)
            }),
        }
    }

    fn coerce_to_string_here<'v>(
        &mut self,
        v: &'v Value,
        pos: Pos,
        coerce_more: bool,
        copy_to_store: bool,
        ctx: &mut Context,
    ) -> EResult<Cow<'v, str>> {
        match v {
            Value::String(s) => {
                if let Some(c) = s.context() {
                    ctx.extend(c.iter().cloned());
                }
                Ok(Cow::Borrowed(s.as_str()))
            }
            Value::Path(p) => {
                if copy_to_store {
                    let sp = crate::builtins::paths::copy_path_to_store(self, p, pos)?;
                    ctx.insert(sp.clone());
                    Ok(Cow::Owned(sp))
                } else {
                    Ok(Cow::Borrowed(p))
                }
            }
            Value::Attrs(a) => {
                if let Some(f) = a.get("__toString").cloned() {
                    let f = self.force(&f)?;
                    let r = self.call(f, Thunk::value(v.clone()), pos)?;
                    return self
                        .coerce_to_string(&r, pos, coerce_more, copy_to_store, ctx)
                        .map(|s| Cow::Owned(s.into_owned()));
                }
                if let Some(o) = a.get("outPath").cloned() {
                    let o = self.force(&o)?;
                    return self
                        .coerce_to_string(&o, pos, coerce_more, copy_to_store, ctx)
                        .map(|s| Cow::Owned(s.into_owned()));
                }
                err("cannot coerce a set to a string", pos)
            }
            _ if coerce_more => match v {
                Value::Null => Ok(Cow::Borrowed("")),
                Value::Bool(true) => Ok(Cow::Borrowed("1")),
                Value::Bool(false) => Ok(Cow::Borrowed("")),
                Value::Int(i) => Ok(Cow::Owned(i.to_string())),
                Value::Float(f) => Ok(Cow::Owned(format!("{:.6}", f))),
                Value::List(l) => {
                    let mut out = String::new();
                    let n = l.len();
                    for (i, t) in l.iter().enumerate() {
                        let item = self.force(t)?;
                        let s =
                            self.coerce_to_string(&item, pos, coerce_more, copy_to_store, ctx)?;
                        self.reserve(out.len() + s.len(), pos)?;
                        out.push_str(&s);
                        let empty_list = matches!(&item, Value::List(x) if x.is_empty());
                        if i + 1 < n && !empty_list {
                            out.push(' ');
                        }
                    }
                    Ok(Cow::Owned(out))
                }
                other => err(
                    format!("cannot coerce {} to a string", other.type_desc()),
                    pos,
                ),
            },
            other => err(
                format!("cannot coerce {} to a string", other.type_desc()),
                pos,
            ),
        }
    }

    pub fn force_string(&mut self, t: &Thunk, pos: Pos) -> EResult<NixStr> {
        match self.force(t)? {
            Value::String(s) => Ok(s),
            other => err(
                format!("value is {} while a string was expected", other.type_desc()),
                pos,
            ),
        }
    }

    pub fn force_string_noctx_val(&mut self, v: &Value, pos: Pos) -> EResult<String> {
        match v {
            Value::String(s) => Ok(s.as_str().to_string()),
            other => err(
                format!("value is {} while a string was expected", other.type_desc()),
                pos,
            ),
        }
    }

    pub fn force_int(&mut self, t: &Thunk, pos: Pos) -> EResult<i64> {
        match self.force(t)? {
            Value::Int(i) => Ok(i),
            other => err(
                format!(
                    "value is {} while an integer was expected",
                    other.type_desc()
                ),
                pos,
            ),
        }
    }

    pub fn force_bool(&mut self, t: &Thunk, pos: Pos) -> EResult<bool> {
        match self.force(t)? {
            Value::Bool(b) => Ok(b),
            other => err(
                format!(
                    "value is {} while a Boolean was expected",
                    other.type_desc()
                ),
                pos,
            ),
        }
    }

    pub fn force_attrs(&mut self, t: &Thunk, pos: Pos) -> EResult<Rc<Attrs>> {
        match self.force(t)? {
            Value::Attrs(a) => Ok(a),
            other => err(
                format!("value is {} while a set was expected", other.type_desc()),
                pos,
            ),
        }
    }

    pub fn force_list(&mut self, t: &Thunk, pos: Pos) -> EResult<Rc<Vec<Thunk>>> {
        match self.force(t)? {
            Value::List(l) => Ok(l),
            other => err(
                format!("value is {} while a list was expected", other.type_desc()),
                pos,
            ),
        }
    }

    pub fn force_function(&mut self, t: &Thunk, pos: Pos) -> EResult<Value> {
        let v = self.force(t)?;
        match &v {
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(..) => Ok(v),
            Value::Attrs(a) if a.contains("__functor") => Ok(v),
            other => err(
                format!(
                    "value is {} while a function was expected",
                    other.type_desc()
                ),
                pos,
            ),
        }
    }

    /// Coerces to a path string (absolute), as builtins taking paths do.
    pub fn coerce_to_path(&mut self, t: &Thunk, pos: Pos) -> EResult<String> {
        let v = self.force(t)?;
        let mut ctx = Context::new();
        let s = self.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        if !s.starts_with('/') {
            return err(
                format!("string '{}' doesn't represent an absolute path", s),
                pos,
            );
        }
        Ok(s.into_owned())
    }
}
