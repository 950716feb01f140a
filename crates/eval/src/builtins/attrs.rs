//! Builtins over attribute sets.

use super::Registry;
use crate::error::err;
use crate::source::Pos;
use crate::value::*;

pub fn register(reg: &mut Registry) {
    reg.add("attrNames", 1, |ev, a, pos| {
        let s = ev.force_attrs(&a[0], pos)?;
        ev.reserve_items(s.len(), pos)?;
        Ok(Value::list(
            s.entries
                .iter()
                .map(|e| Thunk::value(Value::str(e.name.clone())))
                .collect(),
        ))
    });
    reg.add("attrValues", 1, |ev, a, pos| {
        let s = ev.force_attrs(&a[0], pos)?;
        ev.reserve_items(s.len(), pos)?;
        Ok(Value::list(
            s.entries.iter().map(|e| e.value.clone()).collect(),
        ))
    });
    reg.add("getAttr", 2, |ev, a, pos| {
        let name = ev.force_string(&a[0], pos)?;
        let s = ev.force_attrs(&a[1], pos)?;
        match s.get(name.as_str()) {
            Some(t) => {
                let t = t.clone();
                ev.force(&t)
            }
            None => err(
                format!(
                    "attribute '{}' missing for call to 'getAttr'",
                    name.as_str()
                ),
                pos,
            ),
        }
    });
    reg.add("hasAttr", 2, |ev, a, pos| {
        let name = ev.force_string(&a[0], pos)?;
        let s = ev.force_attrs(&a[1], pos)?;
        Ok(Value::Bool(s.contains(name.as_str())))
    });
    reg.add("removeAttrs", 2, |ev, a, pos| {
        let s = ev.force_attrs(&a[0], pos)?;
        let names = ev.force_list(&a[1], pos)?;
        let mut remove = Vec::with_capacity(names.len());
        for n in names.iter() {
            remove.push(ev.force_string(n, pos)?);
        }
        remove.sort_unstable();
        let entries: Vec<Attr> = s
            .entries
            .iter()
            .filter(|e| {
                remove
                    .binary_search_by(|r| r.as_str().cmp(&e.name))
                    .is_err()
            })
            .cloned()
            .collect();
        if entries.len() == s.len() {
            // Nothing removed: the set itself will do.
            return Ok(Value::Attrs(s));
        }
        Ok(Value::attrs(Attrs { entries }))
    });
    reg.add("listToAttrs", 1, |ev, a, pos| {
        let l = ev.force_list(&a[0], pos)?;
        ev.reserve_items(l.len(), pos)?;
        let mut entries: Vec<Attr> = Vec::with_capacity(l.len());
        for t in l.iter() {
            let item = ev.force_attrs(t, pos)?;
            let name = match item.get("name") {
                Some(n) => ev.force_string(&n.clone(), pos)?,
                None => return err("attribute 'name' missing for call to 'listToAttrs'", pos),
            };
            let value = match item.get_attr("value") {
                Some(v) => v.clone(),
                None => return err("attribute 'value' missing for call to 'listToAttrs'", pos),
            };
            entries.push(Attr {
                name: name.as_str().into(),
                value: value.value,
                pos: value.pos,
            });
        }
        // The first occurrence of a name wins: stable sort, then keep firsts.
        entries.sort_by(|x, y| x.name.cmp(&y.name));
        entries.dedup_by(|later, earlier| later.name == earlier.name);
        Ok(Value::attrs(Attrs { entries }))
    });
    reg.add("intersectAttrs", 2, |ev, a, pos| {
        let x = ev.force_attrs(&a[0], pos)?;
        let y = ev.force_attrs(&a[1], pos)?;
        Ok(match intersect(&x, &y) {
            Some(entries) => Value::attrs(Attrs { entries }),
            None => Value::Attrs(y),
        })
    });
    reg.add("catAttrs", 2, |ev, a, pos| {
        let name = ev.force_string(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let mut out = Vec::new();
        for t in l.iter() {
            let s = ev.force_attrs(t, pos)?;
            if let Some(v) = s.get(name.as_str()) {
                out.push(v.clone());
            }
        }
        Ok(Value::list(out))
    });
    reg.add("mapAttrs", 2, |ev, a, pos| {
        let s = ev.force_attrs(&a[1], pos)?;
        ev.reserve_items(s.len(), pos)?;
        let f = a[0].clone();
        let entries = s
            .entries
            .iter()
            .map(|e| {
                let partial = Thunk::apply(f.clone(), Thunk::value(Value::str(e.name.clone())));
                Attr {
                    name: e.name.clone(),
                    value: Thunk::apply(partial, e.value.clone()),
                    // 2.8 gives a mapped attribute no position (lib's module system
                    // relies on it: unsafeGetAttrPos answers null).
                    pos: Pos::NONE,
                }
            })
            .collect();
        Ok(Value::attrs(Attrs { entries }))
    });
    reg.add("zipAttrsWith", 2, |ev, a, pos| {
        let f = Thunk::value(ev.force_function(&a[0], pos)?);
        let l = ev.force_list(&a[1], pos)?;
        let mut sets = Vec::with_capacity(l.len());
        for t in l.iter() {
            sets.push(ev.force_attrs(t, pos)?);
        }
        // Every set's entries are sorted already: a stable sort of them all merges those
        // runs, keeping the values of one name in the order of the sets.
        let mut all: Vec<&Attr> = sets.iter().flat_map(|s| s.entries.iter()).collect();
        all.sort_by(|x, y| x.name.cmp(&y.name));
        ev.reserve_items(all.len(), pos)?;
        let mut entries = Vec::new();
        let mut rest = &all[..];
        while let Some(first) = rest.first() {
            // `Rc<str>`'s == compares the pointers first.
            let same = rest.iter().take_while(|e| e.name == first.name).count();
            let vals = rest[..same].iter().map(|e| e.value.clone()).collect();
            rest = &rest[same..];
            let name = first.name.clone();
            let partial = Thunk::apply(f.clone(), Thunk::value(Value::str(name.clone())));
            entries.push(Attr {
                name,
                value: Thunk::apply(partial, Thunk::value(Value::list(vals))),
                pos: Pos::NONE,
            });
        }
        Ok(Value::attrs(Attrs { entries }))
    });
}

/// A two-argument primop `f: x: f x`, used to build lazy applications of a lazily computed
/// function (e.g. `f name` in mapAttrs) without forcing it early.
pub fn apply_primop() -> PrimOp {
    PrimOp {
        name: "__apply",
        arity: 2,
        func: PrimOpImpl::Native(|ev, a, pos| {
            let f = ev.force(&a[0])?;
            ev.call(f, a[1].clone(), pos)
        }),
    }
}

/// The attributes of `y` whose names `x` has, or `None` when that is all of `y` (as often
/// as not: callPackage's `functionArgs f` against a package set), which is then not copied.
/// Both are sorted by name: sets of like size are walked side by side, a much smaller one
/// has each of its names looked up in the other.
fn intersect(x: &Attrs, y: &Attrs) -> Option<Vec<Attr>> {
    let (xs, ys) = (&x.entries, &y.entries);
    if xs.len().saturating_mul(16) < ys.len() {
        return Some(
            xs.iter()
                .filter_map(|e| y.get_attr(&e.name).cloned())
                .collect(),
        );
    }
    if ys.len().saturating_mul(16) < xs.len() {
        let kept: Vec<Attr> = ys.iter().filter(|e| x.contains(&e.name)).cloned().collect();
        return (kept.len() < ys.len()).then_some(kept);
    }
    // Copied only from the first name of `y` that `x` lacks.
    let mut kept: Option<Vec<Attr>> = None;
    let mut i = 0;
    for (j, e) in ys.iter().enumerate() {
        while i < xs.len() && *xs[i].name < *e.name {
            i += 1;
        }
        let found = i < xs.len() && xs[i].name == e.name;
        match (&mut kept, found) {
            (Some(out), true) => out.push(e.clone()),
            (None, false) => kept = Some(ys[..j].to_vec()),
            _ => {}
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: impl IntoIterator<Item = String>) -> Attrs {
        Attrs::from_unsorted(
            names
                .into_iter()
                .map(|n| Attr {
                    name: n.into(),
                    value: Thunk::value(Value::Null),
                    pos: Pos::NONE,
                })
                .collect(),
        )
    }

    #[test]
    fn intersect_keeps_what_both_have_in_every_size_regime() {
        let names = |a: &Attrs| {
            a.entries
                .iter()
                .map(|e| e.name.to_string())
                .collect::<Vec<_>>()
        };
        // Sets of like size and sets far apart in size (walked side by side, or looked
        // up), overlapping in every way: all, none, some, a prefix, a suffix.
        let ranges = [
            (0, 3),
            (0, 40),
            (10, 50),
            (30, 34),
            (0, 0),
            (39, 100),
            (5, 6),
        ];
        for &(a0, a1) in &ranges {
            for &(b0, b1) in &ranges {
                for step in [1, 3] {
                    let x = set((a0..a1).map(|i| format!("n{i:03}")));
                    let y = set((b0..b1).step_by(step).map(|i| format!("n{i:03}")));
                    let want: Vec<String> =
                        names(&y).into_iter().filter(|n| x.contains(n)).collect();
                    let got = match intersect(&x, &y) {
                        Some(entries) => names(&Attrs { entries }),
                        None => {
                            assert_eq!(want.len(), y.len(), "None only when all of y is kept");
                            names(&y)
                        }
                    };
                    assert_eq!(got, want, "{a0}..{a1} / {b0}..{b1} by {step}");
                }
            }
        }
    }
}
