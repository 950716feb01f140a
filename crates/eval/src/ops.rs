//! Nix's operators on values: arithmetic with 64-bit wrap-around, `+` on strings and
//! paths, `//`, `++`, deep equality and ordering. Shared by the evaluator and builtins.

use std::rc::Rc;

use crate::ast::{BinOp, ExprRef};
use crate::error::{err, EResult};
use crate::eval::{as_f64, Evaluator};
use crate::source::Pos;
use crate::value::*;

impl Evaluator {
    // ---------------------------------------------------------------- operators

    pub(crate) fn eval_binary(
        &mut self,
        op: BinOp,
        lhs: &ExprRef,
        rhs: &ExprRef,
        env: &Rc<Env>,
        pos: Pos,
    ) -> EResult<Value> {
        self.tick(pos)?;
        match op {
            BinOp::And | BinOp::Or | BinOp::Impl => {
                let l = self.eval_bool(lhs, env, pos)?;
                let short = match op {
                    BinOp::And => (!l).then_some(false),
                    BinOp::Or => l.then_some(true),
                    _ => (!l).then_some(true),
                };
                if let Some(v) = short {
                    return Ok(Value::Bool(v));
                }
                Ok(Value::Bool(self.eval_bool(rhs, env, pos)?))
            }
            _ => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                if let (Value::Int(a), Value::Int(b)) = (&l, &r) {
                    if let Some(v) = int_op(op, *a, *b) {
                        return Ok(v);
                    }
                }
                self.binary_values(op, l, r, pos)
            }
        }
    }

    fn eval_bool(&mut self, e: &ExprRef, env: &Rc<Env>, pos: Pos) -> EResult<bool> {
        match self.eval(e, env)? {
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

    pub fn binary_values(&mut self, op: BinOp, l: Value, r: Value, pos: Pos) -> EResult<Value> {
        match op {
            BinOp::Eq => Ok(Value::Bool(self.values_equal(&l, &r, pos)?)),
            BinOp::Neq => Ok(Value::Bool(!self.values_equal(&l, &r, pos)?)),
            BinOp::Lt => Ok(Value::Bool(self.less_than(&l, &r, pos)?)),
            BinOp::Gt => Ok(Value::Bool(self.less_than(&r, &l, pos)?)),
            BinOp::Le => Ok(Value::Bool(!self.less_than(&r, &l, pos)?)),
            BinOp::Ge => Ok(Value::Bool(!self.less_than(&l, &r, pos)?)),
            BinOp::Update => match (&l, &r) {
                (Value::Attrs(a), Value::Attrs(b)) => {
                    if b.is_empty() {
                        return Ok(l.clone());
                    }
                    if a.is_empty() {
                        return Ok(r.clone());
                    }
                    self.reserve((a.len() + b.len()) * std::mem::size_of::<Attr>(), pos)?;
                    Ok(Value::attrs(a.update(b)))
                }
                (Value::Attrs(_), other) | (other, _) => err(
                    format!("value is {} while a set was expected", other.type_desc()),
                    pos,
                ),
            },
            BinOp::Concat => match (&l, &r) {
                (Value::List(a), Value::List(b)) => {
                    self.reserve((a.len() + b.len()) * std::mem::size_of::<Thunk>(), pos)?;
                    let mut out = Vec::with_capacity(a.len() + b.len());
                    out.extend(a.iter().cloned());
                    out.extend(b.iter().cloned());
                    Ok(Value::list(out))
                }
                (Value::List(_), other) | (other, _) => err(
                    format!("value is {} while a list was expected", other.type_desc()),
                    pos,
                ),
            },
            // `+` on anything but numbers is string concatenation (with its coercion
            // errors); a number plus a non-number is "cannot add".
            BinOp::Add => match (&l, &r) {
                (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                    self.arith(op, l, r, pos)
                }
                (Value::Int(_) | Value::Float(_), _) => err(
                    format!("cannot add {} to {}", r.type_desc(), l.type_desc()),
                    pos,
                ),
                _ => self.concat_add(&l, &r, pos),
            },
            _ => self.arith(op, l, r, pos),
        }
    }

    fn concat_add(&mut self, l: &Value, r: &Value, pos: Pos) -> EResult<Value> {
        let mut ctx = Context::new();
        match l {
            Value::Path(p) => {
                let s = self.coerce_to_string(r, pos, false, false, &mut ctx)?;
                if !ctx.is_empty() {
                    return err(
                        "a string that refers to a store path cannot be appended to a path",
                        pos,
                    );
                }
                Ok(Value::Path(
                    crate::lower::canon_path(&format!("{}{}", p, s)).into(),
                ))
            }
            _ => {
                let left = self.coerce_to_string(l, pos, false, true, &mut ctx)?;
                let right = self.coerce_to_string(r, pos, false, true, &mut ctx)?;
                self.reserve(left.len() + right.len(), pos)?;
                let mut s = String::with_capacity(left.len() + right.len());
                s.push_str(&left);
                s.push_str(&right);
                Ok(Value::String(NixStr::with_ctx(s, ctx)))
            }
        }
    }

    pub fn arith(&mut self, op: BinOp, l: Value, r: Value, pos: Pos) -> EResult<Value> {
        match (&l, &r) {
            (Value::Int(a), Value::Int(b)) => Ok(Value::Int(match op {
                BinOp::Add => a.wrapping_add(*b),
                BinOp::Sub => a.wrapping_sub(*b),
                BinOp::Mul => a.wrapping_mul(*b),
                BinOp::Div => {
                    if *b == 0 {
                        return err("division by zero", pos);
                    }
                    match a.checked_div(*b) {
                        Some(q) => q,
                        None => return err("overflow in integer division", pos),
                    }
                }
                _ => unreachable!(),
            })),
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                let a = as_f64(&l);
                let b = as_f64(&r);
                Ok(Value::Float(match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => {
                        if b == 0.0 {
                            return err("division by zero", pos);
                        }
                        a / b
                    }
                    _ => unreachable!(),
                }))
            }
            _ => {
                // As Nix: division wants its divisor as a float first; otherwise, when
                // either side is a float both must be floats, else both integers.
                let float = matches!(l, Value::Float(_)) || matches!(r, Value::Float(_));
                let (bad, want) =
                    if op == BinOp::Div && !matches!(r, Value::Int(_) | Value::Float(_)) {
                        (&r, "a float")
                    } else {
                        let bad = if matches!(l, Value::Int(_) | Value::Float(_)) {
                            &r
                        } else {
                            &l
                        };
                        (bad, if float { "a float" } else { "an integer" })
                    };
                err(
                    format!("value is {} while {} was expected", bad.type_desc(), want),
                    pos,
                )
            }
        }
    }

    /// Nix 2.8's `eqValues` on two held values (list elements, attributes, builtin
    /// arguments): both are forced first, then the same value is equal to itself, even a
    /// function (pointer equality: `[ f ] == [ f ]`, `elem f [ f ]`).
    pub fn thunks_equal(&mut self, a: &Thunk, b: &Thunk, pos: Pos) -> EResult<bool> {
        let va = self.force(a)?;
        let vb = self.force(b)?;
        if a.ptr_eq(b) {
            return Ok(true);
        }
        self.values_equal(&va, &vb, pos)
    }

    /// Nix's `==`: deep, forcing as needed; functions are never equal.
    pub fn values_equal(&mut self, a: &Value, b: &Value, pos: Pos) -> EResult<bool> {
        Ok(match (a, b) {
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                as_f64(a) == as_f64(b)
            }
            (Value::String(x), Value::String(y)) => x.as_str() == y.as_str(),
            (Value::Path(x), Value::Path(y)) => x == y,
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                self.nested(pos, |ev| {
                    for (tx, ty) in x.iter().zip(y.iter()) {
                        if !ev.thunks_equal(tx, ty, pos)? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })?
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                if self.is_derivation(x)? && self.is_derivation(y)? {
                    if let (Some(ox), Some(oy)) = (x.get("outPath"), y.get("outPath")) {
                        let (ox, oy) = (ox.clone(), oy.clone());
                        let vx = self.force(&ox)?;
                        let vy = self.force(&oy)?;
                        return self.nested(pos, |ev| ev.values_equal(&vx, &vy, pos));
                    }
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (ax, ay) in x.entries.iter().zip(y.entries.iter()) {
                    if ax.name != ay.name {
                        return Ok(false);
                    }
                }
                self.nested(pos, |ev| {
                    for (ax, ay) in x.entries.iter().zip(y.entries.iter()) {
                        if !ev.thunks_equal(&ax.value, &ay.value, pos)? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })?
            }
            _ => false,
        })
    }

    pub fn is_derivation(&mut self, a: &Attrs) -> EResult<bool> {
        match a.get("type").cloned() {
            Some(t) => match self.force(&t)? {
                Value::String(s) => Ok(s.as_str() == "derivation"),
                _ => Ok(false),
            },
            None => Ok(false),
        }
    }

    pub fn less_than(&mut self, a: &Value, b: &Value, pos: Pos) -> EResult<bool> {
        Ok(match (a, b) {
            (Value::Int(x), Value::Int(y)) => x < y,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                as_f64(a) < as_f64(b)
            }
            (Value::String(x), Value::String(y)) => x.as_str() < y.as_str(),
            (Value::Path(x), Value::Path(y)) => x.as_str() < y.as_str(),
            (Value::List(x), Value::List(y)) => self.nested(pos, |ev| {
                // As 2.8: the first elements that differ decide, the same value (even a
                // function) being equal to itself.
                for (tx, ty) in x.iter().zip(y.iter()) {
                    if !ev.thunks_equal(tx, ty, pos)? {
                        let vx = ev.force(tx)?;
                        let vy = ev.force(ty)?;
                        return ev.less_than(&vx, &vy, pos);
                    }
                }
                Ok(x.len() < y.len())
            })?,
            _ => {
                return err(
                    format!("cannot compare {} with {}", a.type_desc(), b.type_desc()),
                    pos,
                )
            }
        })
    }
}

/// Two integers under the operators that cannot fail on them, the commonest case, without
/// `binary_values`' dispatch: the same results as `arith` (wrapping) and `less_than` /
/// `values_equal` give them. None for the rest (division, with its errors, goes there).
#[inline(always)]
fn int_op(op: BinOp, a: i64, b: i64) -> Option<Value> {
    Some(match op {
        BinOp::Add => Value::Int(a.wrapping_add(b)),
        BinOp::Sub => Value::Int(a.wrapping_sub(b)),
        BinOp::Mul => Value::Int(a.wrapping_mul(b)),
        BinOp::Lt => Value::Bool(a < b),
        BinOp::Le => Value::Bool(a <= b),
        BinOp::Gt => Value::Bool(a > b),
        BinOp::Ge => Value::Bool(a >= b),
        BinOp::Eq => Value::Bool(a == b),
        BinOp::Neq => Value::Bool(a != b),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integer_shortcut_agrees_with_the_general_operators() {
        let mut ev = Evaluator::new(std::sync::Arc::new(crate::io::StdIO));
        let ints = [
            i64::MIN,
            i64::MIN + 1,
            -7,
            -1,
            0,
            1,
            2,
            7,
            i64::MAX - 1,
            i64::MAX,
        ];
        let ops = [
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
            BinOp::Eq,
            BinOp::Neq,
        ];
        let mut shortcuts = 0;
        for op in ops {
            for a in ints {
                for b in ints {
                    let Some(short) = int_op(op, a, b) else {
                        continue;
                    };
                    shortcuts += 1;
                    let general = ev
                        .binary_values(op, Value::Int(a), Value::Int(b), Pos::NONE)
                        .unwrap();
                    assert_eq!(
                        crate::print::print_value(&short),
                        crate::print::print_value(&general),
                        "{a} {op:?} {b}"
                    );
                }
            }
        }
        // Every operator but division takes the shortcut.
        assert_eq!(shortcuts, 9 * ints.len() * ints.len());
    }
}
