//! Printing values exactly as `nix-instantiate --eval` 2.8 does.

use std::collections::HashSet;
use std::rc::Rc;

use crate::value::{Thunk, Value};

/// C's `%g` with 6 significant digits, which is how Nix 2.8 prints floats.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let precision = 6i32;
    let sci = format!("{:.*e}", (precision - 1) as usize, f);
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if exp < -4 || exp >= precision {
        let m = trim_zeros(mantissa);
        format!("{}e{}{:02}", m, if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (precision - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, f)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

pub fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Nix 2.8 quotes only this keyword when printing attribute names.
const KEYWORDS: &[&str] = &["if"];

/// Attribute names are printed bare when they are identifiers, quoted otherwise.
pub fn attr_name(name: &str) -> String {
    let mut chars = name.chars();
    let valid = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '\'' || c == '-')
        }
        _ => false,
    };
    if valid && !KEYWORDS.contains(&name) {
        name.to_string()
    } else {
        escape_string(name)
    }
}

/// Prints a value as Nix does; unevaluated thunks show as `<CODE>`.
pub fn print_value(v: &Value) -> String {
    print_value_capped(v, usize::MAX)
}

/// `print_value`, stopping once the text is longer than `cap` bytes (it is then cut
/// somewhere past `cap`). The walk keeps its own stack, so no nesting overflows it.
pub fn print_value_capped(v: &Value, cap: usize) -> String {
    let mut out = String::new();
    let mut seen = HashSet::new();
    // Sets and lists being printed, with the index of their next entry.
    let mut open: Vec<(Container, usize)> = Vec::new();
    let mut next = Some((v.clone(), None));
    while out.len() <= cap {
        if let Some((v, holder)) = next.take() {
            if let Some(c) = print_scalar_or_open(&mut out, &v, holder, &mut seen) {
                open.push((c, 0));
            }
            continue;
        }
        let Some((container, index)) = open.last_mut() else {
            break;
        };
        let i = *index;
        *index += 1;
        match container {
            Container::Attrs(a) => {
                if i > 0 {
                    out.push_str("; ");
                }
                match a.entries.get(i) {
                    Some(attr) => {
                        out.push_str(&attr_name(&attr.name));
                        out.push_str(" = ");
                        next = thunk_value(&mut out, &attr.value);
                    }
                    None => {
                        out.push('}');
                        open.pop();
                    }
                }
            }
            Container::List(l) => {
                if i > 0 {
                    out.push(' ');
                }
                match l.get(i) {
                    Some(t) => next = thunk_value(&mut out, t),
                    None => {
                        out.push(']');
                        open.pop();
                    }
                }
            }
        }
    }
    out
}

/// Which values count as "already printed" follows Nix 2.8: a set is identified by its
/// bindings, a list of up to two elements by the value holding it (Nix stores those
/// inline), a longer list by its element array. The printed root is a fresh copy in Nix,
/// so a small root list is never "seen".
fn identity(v: &Value, holder: Option<usize>) -> Option<usize> {
    match v {
        // Empty sets and lists are never reported as repeated.
        Value::Attrs(a) if a.is_empty() => None,
        Value::List(l) if l.is_empty() => None,
        Value::Attrs(a) => Some(Rc::as_ptr(a) as *const u8 as usize),
        Value::List(l) if l.len() > 2 => Some(Rc::as_ptr(l) as *const u8 as usize),
        Value::List(_) => holder,
        _ => None,
    }
}

enum Container {
    Attrs(Rc<crate::value::Attrs>),
    List(Rc<Vec<Thunk>>),
}

/// A thunk's value to print next (with the thunk as its holder), or `<CODE>` written now.
fn thunk_value(out: &mut String, t: &Thunk) -> Option<(Value, Option<usize>)> {
    // An inline value has no holder to be seen again: it is never a set or a list.
    let holder = t.lazy().map(|cell| Rc::as_ptr(cell) as *const u8 as usize);
    match t.get() {
        Some(v) => Some((v, holder)),
        None => {
            out.push_str("<CODE>");
            None
        }
    }
}

/// Writes a scalar (or «repeated»), or the opening of a set or list that is then returned
/// for its entries to follow.
fn print_scalar_or_open(
    out: &mut String,
    v: &Value,
    holder: Option<usize>,
    seen: &mut HashSet<usize>,
) -> Option<Container> {
    if let Some(id) = identity(v, holder) {
        if !seen.insert(id) {
            out.push_str("«repeated»");
            return None;
        }
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => out.push_str(&escape_string(s.as_str())),
        Value::Path(p) => out.push_str(p),
        Value::Attrs(a) => {
            out.push_str("{ ");
            return Some(Container::Attrs(a.clone()));
        }
        Value::List(l) => {
            out.push_str("[ ");
            return Some(Container::List(l.clone()));
        }
        Value::Lambda(_) => out.push_str("<LAMBDA>"),
        Value::PrimOp(_) => out.push_str("<PRIMOP>"),
        Value::PrimOpApp(..) => out.push_str("<PRIMOP-APP>"),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_nix() {
        // Recorded from nix-instantiate 2.8.
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (1.0e20, "1e+20"),
            (1.5e-7, "1.5e-07"),
            (123456789.0, "1.23457e+08"),
            (0.1 + 0.2, "0.3"),
            (2.5e-5, "2.5e-05"),
            (1234567.0, "1.23457e+06"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
        ];
        for (f, s) in cases {
            assert_eq!(format_float(f), s, "{}", f);
        }
    }

    #[test]
    fn attr_names_quoted_like_nix() {
        assert_eq!(attr_name("a'"), "a'");
        assert_eq!(attr_name("1x"), "\"1x\"");
        assert_eq!(attr_name("if"), "\"if\"");
        assert_eq!(attr_name("a b"), "\"a b\"");
    }
}
