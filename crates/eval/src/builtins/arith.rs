//! Arithmetic, bitwise operations and numeric comparison.

use super::Registry;
use crate::ast::BinOp;
use crate::error::err;
use crate::value::Value;

pub fn register(reg: &mut Registry) {
    reg.add("add", 2, |ev, a, pos| {
        let (x, y) = (ev.force(&a[0])?, ev.force(&a[1])?);
        ev.arith(BinOp::Add, x, y, pos)
    });
    reg.add("sub", 2, |ev, a, pos| {
        let (x, y) = (ev.force(&a[0])?, ev.force(&a[1])?);
        ev.arith(BinOp::Sub, x, y, pos)
    });
    reg.add("mul", 2, |ev, a, pos| {
        let (x, y) = (ev.force(&a[0])?, ev.force(&a[1])?);
        ev.arith(BinOp::Mul, x, y, pos)
    });
    reg.add("div", 2, |ev, a, pos| {
        let (x, y) = (ev.force(&a[0])?, ev.force(&a[1])?);
        ev.arith(BinOp::Div, x, y, pos)
    });
    reg.add("lessThan", 2, |ev, a, pos| {
        let (x, y) = (ev.force(&a[0])?, ev.force(&a[1])?);
        Ok(Value::Bool(ev.less_than(&x, &y, pos)?))
    });
    reg.add("bitAnd", 2, |ev, a, pos| {
        Ok(Value::Int(
            ev.force_int(&a[0], pos)? & ev.force_int(&a[1], pos)?,
        ))
    });
    reg.add("bitOr", 2, |ev, a, pos| {
        Ok(Value::Int(
            ev.force_int(&a[0], pos)? | ev.force_int(&a[1], pos)?,
        ))
    });
    reg.add("bitXor", 2, |ev, a, pos| {
        Ok(Value::Int(
            ev.force_int(&a[0], pos)? ^ ev.force_int(&a[1], pos)?,
        ))
    });
    reg.add("ceil", 1, |ev, a, pos| match ev.force(&a[0])? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(f) => Ok(Value::Int(float_to_int(f.ceil()))),
        other => err(
            format!("value is {} while a float was expected", other.type_desc()),
            pos,
        ),
    });
    reg.add("floor", 1, |ev, a, pos| match ev.force(&a[0])? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(f) => Ok(Value::Int(float_to_int(f.floor()))),
        other => err(
            format!("value is {} while a float was expected", other.type_desc()),
            pos,
        ),
    });
}

/// C++'s float-to-integer conversion on x86-64, which Nix 2.8 uses: out-of-range values
/// (and NaN) become the minimum integer.
fn float_to_int(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}
