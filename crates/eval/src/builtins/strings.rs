//! String builtins: coercion, slicing, replacement, versions and string contexts.

use super::Registry;
use crate::error::err;
use crate::source::Pos;
use crate::value::*;

pub fn register(reg: &mut Registry) {
    reg.add("toString", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, true, false, &mut ctx)?;
        Ok(Value::String(NixStr::with_ctx(s, ctx)))
    });
    reg.add("stringLength", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, true, &mut ctx)?;
        Ok(Value::Int(s.len() as i64))
    });
    reg.add("substring", 3, |ev, a, pos| {
        // Nix 2.8 keeps both in a C `int`, truncating larger values.
        let start = ev.force_int(&a[0], pos)? as i32 as i64;
        let len = ev.force_int(&a[1], pos)? as i32 as i64;
        let v = ev.force(&a[2])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, true, &mut ctx)?;
        if start < 0 {
            return err("negative start position in 'substring'", pos);
        }
        let bytes = s.as_bytes();
        let start = (start as usize).min(bytes.len());
        let end = if len < 0 {
            bytes.len()
        } else {
            start.saturating_add(len as usize).min(bytes.len())
        };
        let out = String::from_utf8_lossy(&bytes[start..end]).into_owned();
        Ok(Value::String(NixStr::with_ctx(out, ctx)))
    });
    reg.add("concatStringsSep", 2, |ev, a, pos| {
        let sep = ev.force_string(&a[0], pos)?;
        let l = ev.force_list(&a[1], pos)?;
        let mut ctx = Context::new();
        if let Some(c) = sep.context() {
            ctx.extend(c.iter().cloned());
        }
        let mut out = String::new();
        for (i, t) in l.iter().enumerate() {
            if i > 0 {
                out.push_str(sep.as_str());
            }
            let v = ev.force(t)?;
            let s = ev.coerce_to_string(&v, pos, false, true, &mut ctx)?;
            ev.reserve(out.len() + s.len(), pos)?;
            out.push_str(&s);
        }
        Ok(Value::String(NixStr::with_ctx(out, ctx)))
    });
    reg.add("replaceStrings", 3, |ev, a, pos| {
        let from_l = ev.force_list(&a[0], pos)?;
        let to_l = ev.force_list(&a[1], pos)?;
        if from_l.len() != to_l.len() {
            return err(
                "'from' and 'to' arguments to 'replaceStrings' have different lengths",
                pos,
            );
        }
        let mut from = Vec::with_capacity(from_l.len());
        for t in from_l.iter() {
            from.push(ev.force_string(t, pos)?);
        }
        // Nix 2.8 forces every replacement, used or not, before the subject.
        let mut to = Vec::with_capacity(to_l.len());
        for t in to_l.iter() {
            to.push(ev.force_string(t, pos)?);
        }
        let s = ev.force_string(&a[2], pos)?;
        let mut ctx = Context::new();
        if let Some(c) = s.context() {
            ctx.extend(c.iter().cloned());
        }
        let src = s.as_str().as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(src.len());
        // Without an empty pattern (which matches everywhere), the bytes no pattern starts
        // with are copied a run at a time, not tried against every pattern.
        let any_empty = from.iter().any(|f| f.is_empty());
        let mut starts = [false; 256];
        for f in &from {
            if let Some(&b) = f.as_bytes().first() {
                starts[b as usize] = true;
            }
        }
        let mut p = 0;
        while p <= src.len() {
            if !any_empty {
                let run = src[p..]
                    .iter()
                    .position(|b| starts[*b as usize])
                    .unwrap_or(src.len() - p);
                out.extend_from_slice(&src[p..p + run]);
                p += run;
                if p == src.len() {
                    break;
                }
            }
            let mut found = false;
            for (i, f) in from.iter().enumerate() {
                if src[p..].starts_with(f.as_bytes()) {
                    found = true;
                    let rep = &to[i];
                    ev.reserve(out.len() + rep.as_str().len(), pos)?;
                    out.extend_from_slice(rep.as_str().as_bytes());
                    if let Some(c) = rep.context() {
                        ctx.extend(c.iter().cloned());
                    }
                    if f.is_empty() {
                        if p < src.len() {
                            out.push(src[p]);
                        }
                        p += 1;
                    } else {
                        p += f.len();
                    }
                    break;
                }
            }
            if !found {
                if p < src.len() {
                    out.push(src[p]);
                }
                p += 1;
            }
        }
        // Valid unless an empty pattern split a character (then as 2.8's bytes, lossily).
        let out = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(Value::String(NixStr::with_ctx(out, ctx)))
    });
    reg.add("splitVersion", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?.as_str().to_string();
        let mut rest = s.as_str();
        let mut out = Vec::new();
        loop {
            let c = next_component(&mut rest);
            if c.is_empty() {
                break;
            }
            out.push(Thunk::value(Value::str(c)));
        }
        Ok(Value::list(out))
    });
    reg.add("compareVersions", 2, |ev, a, pos| {
        let x = ev.force_string(&a[0], pos)?;
        let y = ev.force_string(&a[1], pos)?;
        Ok(Value::Int(compare_versions(x.as_str(), y.as_str())))
    });
    reg.add("parseDrvName", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?.as_str().to_string();
        let bytes = s.as_bytes();
        let mut name = s.clone();
        let mut version = String::new();
        for i in 0..bytes.len() {
            if bytes[i] == b'-' && i + 1 < bytes.len() && !bytes[i + 1].is_ascii_alphabetic() {
                name = s[..i].to_string();
                version = s[i + 1..].to_string();
                break;
            }
        }
        Ok(super::mk_attrs(vec![
            ("name", Value::str(name)),
            ("version", Value::str(version)),
        ]))
    });
    reg.add("baseNameOf", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        // As Nix 2.8: one trailing slash is dropped, so "a//" has an empty base name.
        let trimmed = match s.strip_suffix('/') {
            Some(t) if !t.is_empty() => t,
            _ => &s,
        };
        let base = match trimmed.rfind('/') {
            Some(i) => &trimmed[i + 1..],
            None => trimmed,
        };
        Ok(Value::String(NixStr::with_ctx(base, ctx)))
    });
    reg.add("dirOf", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let is_path = matches!(v, Value::Path(_));
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        let dir = match s.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => s[..i].to_string(),
            None => ".".to_string(),
        };
        if is_path {
            Ok(Value::Path(dir.into()))
        } else {
            Ok(Value::String(NixStr::with_ctx(dir, ctx)))
        }
    });
    reg.add("hasContext", 1, |ev, a, pos| {
        Ok(Value::Bool(ev.force_string(&a[0], pos)?.has_context()))
    });
    reg.add("unsafeDiscardStringContext", 1, |ev, a, pos| {
        let v = ev.force(&a[0])?;
        let mut ctx = Context::new();
        let s = ev.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        Ok(Value::String(NixStr::plain(s)))
    });
    reg.add("unsafeDiscardOutputDependency", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        let ctx: Context = s
            .context_items()
            .map(|c| c.strip_prefix('=').unwrap_or(c).to_string())
            .collect();
        Ok(Value::String(NixStr::with_ctx(s.as_str(), ctx)))
    });
    // Added after Nix 2.8: the inverse of unsafeDiscardOutputDependency for a string that
    // refers to one derivation file, which then depends on all that derivation's outputs.
    reg.add("addDrvOutputDependencies", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        let elements: Vec<&String> = s.context_items().collect();
        let [element] = elements.as_slice() else {
            return err(
                format!(
                    "context of string '{}' must have exactly one element, but has {}",
                    s.as_str(),
                    elements.len()
                ),
                pos,
            );
        };
        let deep = if element.starts_with('=') {
            // Already on all outputs: the same string again.
            element.to_string()
        } else if let Some(built) = element.strip_prefix('!') {
            let output = built.split_once('!').map_or(built, |(output, _)| output);
            return err(
                format!(
                    "`addDrvOutputDependencies` can only act on derivations, not on a \
                     derivation output such as '{output}'"
                ),
                pos,
            );
        } else if element.ends_with(".drv") {
            format!("={element}")
        } else {
            return err(format!("path '{element}' is not a derivation"), pos);
        };
        Ok(Value::String(NixStr::with_ctx(
            s.as_str(),
            Context::from([deep]),
        )))
    });
    reg.add("getContext", 1, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        let mut info: std::collections::BTreeMap<String, (bool, bool, Vec<String>)> =
            Default::default();
        for c in s.context_items() {
            if let Some(p) = c.strip_prefix('=') {
                info.entry(p.to_string()).or_default().1 = true;
            } else if let Some(rest) = c.strip_prefix('!') {
                if let Some((out, p)) = rest.split_once('!') {
                    info.entry(p.to_string())
                        .or_default()
                        .2
                        .push(out.to_string());
                }
            } else {
                info.entry(c.clone()).or_default().0 = true;
            }
        }
        let mut attrs = Attrs::new();
        for (path, (is_path, all, outs)) in info {
            let mut fields = Vec::new();
            if is_path {
                fields.push(("path", Value::Bool(true)));
            }
            if all {
                fields.push(("allOutputs", Value::Bool(true)));
            }
            if !outs.is_empty() {
                fields.push((
                    "outputs",
                    Value::list(
                        outs.into_iter()
                            .map(|o| Thunk::value(Value::str(o)))
                            .collect(),
                    ),
                ));
            }
            attrs.insert(
                path.into(),
                Thunk::value(super::mk_attrs(fields)),
                Pos::NONE,
            );
        }
        Ok(Value::attrs(attrs))
    });
    reg.add("appendContext", 2, |ev, a, pos| {
        let s = ev.force_string(&a[0], pos)?;
        let extra = ev.force_attrs(&a[1], pos)?;
        let mut ctx: Context = s.context().cloned().unwrap_or_default();
        let store = ev.store.clone();
        for e in &extra.entries {
            if store.parse_containing(&e.name).is_err() {
                return err(
                    format!("Context key '\"{}\"' is not a store path", e.name),
                    pos,
                );
            }
            let info = ev.force_attrs(&e.value, pos)?;
            if let Some(t) = info.get("path").cloned() {
                if ev.force_bool(&t, pos)? {
                    ctx.insert(e.name.to_string());
                }
            }
            if let Some(t) = info.get("allOutputs").cloned() {
                if ev.force_bool(&t, pos)? {
                    ctx.insert(format!("={}", e.name));
                }
            }
            if let Some(t) = info.get("outputs").cloned() {
                for o in ev.force_list(&t, pos)?.iter() {
                    let o = ev.force_string(o, pos)?;
                    ctx.insert(format!("!{}!{}", o.as_str(), e.name));
                }
            }
        }
        Ok(Value::String(NixStr::with_ctx(s.as_str(), ctx)))
    });
}

fn next_component<'a>(s: &mut &'a str) -> &'a str {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b'.' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    if i < b.len() && b[i].is_ascii_digit() {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    } else {
        while i < b.len() && !b[i].is_ascii_digit() && b[i] != b'.' && b[i] != b'-' {
            i += 1;
        }
    }
    let c = &s[start..i];
    *s = &s[i..];
    c
}

fn component_lt(c1: &str, c2: &str) -> bool {
    let n1 = c1.parse::<u64>().ok().filter(|_| !c1.is_empty());
    let n2 = c2.parse::<u64>().ok().filter(|_| !c2.is_empty());
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == "pre" && c2 != "pre" => true,
        _ if c2 == "pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

pub fn compare_versions(a: &str, b: &str) -> i64 {
    let (mut p1, mut p2) = (a, b);
    while !p1.is_empty() || !p2.is_empty() {
        let c1 = next_component(&mut p1);
        let c2 = next_component(&mut p2);
        if component_lt(c1, c2) {
            return -1;
        }
        if component_lt(c2, c1) {
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_like_nix() {
        assert_eq!(compare_versions("1.0", "2.3"), -1);
        assert_eq!(compare_versions("2.1", "2.3"), -1);
        assert_eq!(compare_versions("2.3", "2.3"), 0);
        assert_eq!(compare_versions("2.5", "2.3"), 1);
        assert_eq!(compare_versions("3.1", "2.3"), 1);
        assert_eq!(compare_versions("2.3.1", "2.3"), 1);
        assert_eq!(compare_versions("2.3.1", "2.3a"), 1);
        assert_eq!(compare_versions("2.3pre1", "2.3"), -1);
        assert_eq!(compare_versions("2.3pre3", "2.3pre12"), -1);
        assert_eq!(compare_versions("2.3a", "2.3c"), -1);
        assert_eq!(compare_versions("2.3pre1", "2.3c"), -1);
        assert_eq!(compare_versions("2.3pre1", "2.3q"), -1);
    }
}
