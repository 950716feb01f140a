//! Builtins over lists.

use super::Registry;
use crate::error::{err, EResult};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::*;

/// The lists one after the other, once the evaluation may hold the result.
fn concat(ev: &mut Evaluator, lists: &[std::rc::Rc<Vec<Thunk>>], pos: Pos) -> EResult<Value> {
    let len = lists.iter().map(|l| l.len()).sum::<usize>();
    ev.reserve(len * std::mem::size_of::<Thunk>(), pos)?;
    let mut out = Vec::with_capacity(len);
    for l in lists {
        out.extend(l.iter().cloned());
    }
    Ok(Value::list(out))
}

pub fn register(reg: &mut Registry) {
    // map, genList and mapAttrs leave their function unforced, as Nix 2.8 does: each
    // element applies it lazily, so an empty list never looks at it.
    reg.add("map", 2, |ev, a, pos| {
        let l = ev.force_list(&a[1], pos)?;
        ev.reserve_items(l.len(), pos)?;
        let f = a[0].clone();
        Ok(Value::list(
            l.iter()
                .map(|t| Thunk::apply(f.clone(), t.clone()))
                .collect(),
        ))
    });
    reg.add("filter", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let mut out = Vec::new();
        for t in l.iter() {
            if truthy(ev, f.clone(), t.clone(), pos)? {
                out.push(t.clone());
            }
        }
        Ok(Value::list(out))
    });
    reg.add("length", 1, |ev, a, pos| {
        Ok(Value::Int(ev.force_list(&a[0], pos)?.len() as i64))
    });
    reg.add("head", 1, |ev, a, pos| {
        let l = ev.force_list(&a[0], pos)?;
        match l.first() {
            Some(t) => ev.force(t),
            None => err("list index 0 is out of bounds", pos),
        }
    });
    reg.add("tail", 1, |ev, a, pos| {
        let l = ev.force_list(&a[0], pos)?;
        if l.is_empty() {
            return err("'tail' called on an empty list", pos);
        }
        Ok(Value::list(l[1..].to_vec()))
    });
    reg.add("elemAt", 2, |ev, a, pos| {
        let l = ev.force_list(&a[0], pos)?;
        let i = ev.force_int(&a[1], pos)?;
        if i < 0 || i as usize >= l.len() {
            return err(format!("list index {} is out of bounds", i), pos);
        }
        ev.force(&l[i as usize])
    });
    reg.add("elem", 2, |ev, a, pos| {
        // As 2.8: the value is forced only when compared (not at all for `[ ]`).
        let l = ev.force_list(&a[1], pos)?;
        for t in l.iter() {
            if ev.thunks_equal(&a[0], t, pos)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    });
    reg.add("concatLists", 1, |ev, a, pos| {
        let l = ev.force_list(&a[0], pos)?;
        let mut lists = Vec::with_capacity(l.len());
        for t in l.iter() {
            lists.push(ev.force_list(t, pos)?);
        }
        concat(ev, &lists, pos)
    });
    reg.add("concatMap", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let mut lists = Vec::with_capacity(l.len());
        for t in l.iter() {
            match ev.call(f.clone(), t.clone(), pos)? {
                Value::List(items) => lists.push(items),
                other => {
                    return err(
                        format!("value is {} while a list was expected", other.type_desc()),
                        pos,
                    )
                }
            }
        }
        concat(ev, &lists, pos)
    });
    reg.add("foldl'", 3, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[2], pos)?;
        // The initial accumulator reaches the function unforced (as in Nix 2.8); each
        // result after it is a call's, so already evaluated.
        let mut acc = a[1].clone();
        for t in l.iter() {
            acc = Thunk::value(ev.call2(&f, acc, t.clone(), pos)?);
        }
        ev.force(&acc)
    });
    reg.add("genList", 2, |ev, a, pos| {
        let n = ev.force_int(&a[1], pos)?;
        if n < 0 {
            return err(format!("cannot create list of size {}", n), pos);
        }
        ev.reserve_items(n as usize, pos)?;
        // The indices first, then the elements: allocated in one run, the elements sit
        // next to each other in memory rather than interleaved with their (soon freed)
        // indices, which matters to whatever walks the list later (sort, say).
        let indices: Vec<Thunk> = (0..n).map(|i| Thunk::value(Value::Int(i))).collect();
        let f = a[0].clone();
        Ok(Value::list(
            indices
                .into_iter()
                .map(|i| Thunk::apply(f.clone(), i))
                .collect(),
        ))
    });
    reg.add("sort", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let mut items: Vec<Thunk> = l.to_vec();
        // Nix forces every element first, even when nothing gets compared.
        for t in &items {
            ev.force(t)?;
        }
        if matches!(&f, Value::PrimOp(op) if op.name == "lessThan") {
            // Nix compares directly when the comparator is lessThan itself.
            let mut vals = Vec::with_capacity(items.len());
            for t in &items {
                vals.push((ev.force(t)?, t.clone()));
            }
            let mut failure = None;
            vals.sort_by(|a, b| {
                if failure.is_some() {
                    return std::cmp::Ordering::Equal;
                }
                match ev.less_than(&a.0, &b.0, pos) {
                    Ok(true) => std::cmp::Ordering::Less,
                    Ok(false) => match ev.less_than(&b.0, &a.0, pos) {
                        Ok(true) => std::cmp::Ordering::Greater,
                        Ok(false) => std::cmp::Ordering::Equal,
                        Err(e) => {
                            failure = Some(e);
                            std::cmp::Ordering::Equal
                        }
                    },
                    Err(e) => {
                        failure = Some(e);
                        std::cmp::Ordering::Equal
                    }
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
            return Ok(Value::list(vals.into_iter().map(|(_, t)| t).collect()));
        }
        merge_sort(ev, &f, &mut items, pos)?;
        Ok(Value::list(items))
    });
    reg.add("partition", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let (mut right, mut wrong) = (Vec::new(), Vec::new());
        for t in l.iter() {
            // Nix forces each element before calling the predicate.
            ev.force(t)?;
            if truthy(ev, f.clone(), t.clone(), pos)? {
                right.push(t.clone());
            } else {
                wrong.push(t.clone());
            }
        }
        Ok(super::mk_attrs(vec![
            ("right", Value::list(right)),
            ("wrong", Value::list(wrong)),
        ]))
    });
    reg.add("groupBy", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let mut groups: std::collections::BTreeMap<Symbol, Vec<Thunk>> = Default::default();
        for t in l.iter() {
            let k = ev.call(f.clone(), t.clone(), pos)?;
            let k = ev.force_string_noctx_val(&k, pos)?;
            groups.entry(k.into()).or_default().push(t.clone());
        }
        let entries = groups
            .into_iter()
            .map(|(name, v)| Attr {
                name,
                value: Thunk::value(Value::list(v)),
                pos: Pos::NONE,
            })
            .collect();
        Ok(Value::attrs(Attrs { entries }))
    });
    reg.add("all", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        for t in l.iter() {
            if !truthy(ev, f.clone(), t.clone(), pos)? {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    });
    reg.add("any", 2, |ev, a, pos| {
        let f = ev.force_function(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        for t in l.iter() {
            if truthy(ev, f.clone(), t.clone(), pos)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    });
}

fn truthy(ev: &mut Evaluator, f: Value, arg: Thunk, pos: Pos) -> EResult<bool> {
    match ev.call(f, arg, pos)? {
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

/// A stable merge sort calling the Nix comparator, which may fail (so no `sort_by`).
fn merge_sort(ev: &mut Evaluator, f: &Value, items: &mut Vec<Thunk>, pos: Pos) -> EResult<()> {
    let n = items.len();
    if n < 2 {
        return Ok(());
    }
    let mut src = std::mem::take(items);
    let mut dst: Vec<Thunk> = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        dst.clear();
        let mut i = 0;
        while i < n {
            let mid = (i + width).min(n);
            let end = (i + 2 * width).min(n);
            let (mut l, mut r) = (i, mid);
            while l < mid && r < end {
                // Take from the right only when right < left, keeping the sort stable.
                let lt = match ev.call2(f, src[r].clone(), src[l].clone(), pos)? {
                    Value::Bool(b) => b,
                    other => {
                        return err(
                            format!(
                                "value is {} while a Boolean was expected",
                                other.type_desc()
                            ),
                            pos,
                        )
                    }
                };
                if lt {
                    dst.push(src[r].clone());
                    r += 1;
                } else {
                    dst.push(src[l].clone());
                    l += 1;
                }
            }
            dst.extend_from_slice(&src[l..mid]);
            dst.extend_from_slice(&src[r..end]);
            i = end;
        }
        std::mem::swap(&mut src, &mut dst);
        width *= 2;
    }
    *items = src;
    Ok(())
}
