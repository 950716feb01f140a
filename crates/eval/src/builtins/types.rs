//! Type predicates and `typeOf`.

use super::Registry;
use crate::value::Value;

pub fn register(reg: &mut Registry) {
    reg.add("typeOf", 1, |ev, a, _| {
        Ok(Value::str(ev.force(&a[0])?.type_name()))
    });
    reg.add("isNull", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::Null)))
    });
    reg.add("isInt", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::Int(_))))
    });
    reg.add("isFloat", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::Float(_))))
    });
    reg.add("isBool", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::Bool(_))))
    });
    reg.add("isString", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::String(_))))
    });
    reg.add("isPath", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::Path(_))))
    });
    reg.add("isAttrs", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::Attrs(_))))
    });
    reg.add("isList", 1, |ev, a, _| {
        Ok(Value::Bool(matches!(ev.force(&a[0])?, Value::List(_))))
    });
    reg.add("isFunction", 1, |ev, a, _| {
        Ok(Value::Bool(ev.force(&a[0])?.is_function()))
    });
}
