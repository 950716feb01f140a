//! Regular-expression builtins (`match`, `split`): POSIX extended patterns, compiled with
//! bounded size and cached per evaluator.

use std::rc::Rc;

use super::Registry;
use crate::error::{err, EResult};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::*;

pub fn register(reg: &mut Registry) {
    reg.add("match", 2, |ev, a, pos| {
        let re = ev.force_string(&a[0], pos)?;
        let s = ev.force_string(&a[1], pos)?;
        let regex = compile(ev, &format!("^(?:{})$", re.s), &re.s, pos)?;
        match regex.captures(s.s.as_bytes()) {
            None => Ok(Value::Null),
            Some(caps) => Ok(Value::list(
                (1..caps.len())
                    .map(|i| {
                        Thunk::value(match caps.get(i) {
                            Some(m) => Value::str(String::from_utf8_lossy(m.as_bytes())),
                            None => Value::Null,
                        })
                    })
                    .collect(),
            )),
        }
    });
    reg.add("split", 2, |ev, a, pos| {
        let re = ev.force_string(&a[0], pos)?;
        let s = ev.force_string(&a[1], pos)?;
        let regex = compile(ev, &re.s, &re.s, pos)?;
        let mut out = Vec::new();
        let mut last = 0;
        let bytes = s.s.as_bytes();
        let lossy = |b: &[u8]| Value::str(String::from_utf8_lossy(b));
        for caps in regex.captures_iter(bytes) {
            let m = caps.get(0).unwrap();
            out.push(Thunk::value(lossy(&bytes[last..m.start()])));
            let groups = (1..caps.len())
                .map(|i| {
                    Thunk::value(match caps.get(i) {
                        Some(g) => lossy(g.as_bytes()),
                        None => Value::Null,
                    })
                })
                .collect();
            out.push(Thunk::value(Value::list(groups)));
            last = m.end();
        }
        out.push(Thunk::value(lossy(&bytes[last..])));
        Ok(Value::list(out))
    });
}

/// Compiles a POSIX extended regular expression (as Nix's std::regex::extended): matching is
/// on bytes, `.` matches newlines, and Perl-style escapes such as `\d` are invalid.
fn compile(
    ev: &mut Evaluator,
    pattern: &str,
    shown: &str,
    pos: Pos,
) -> EResult<Rc<regex::bytes::Regex>> {
    if let Some(r) = ev.regex_cache.get(pattern) {
        return Ok(r.clone());
    }
    let mut chars = shown.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.next().is_some_and(|n| n.is_ascii_alphanumeric()) {
            return err(format!("invalid regular expression '{}'", shown), pos);
        }
    }
    ev.reserve(REGEX_SIZE_LIMIT + REGEX_DFA_LIMIT, pos)?;
    match regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .dot_matches_new_line(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
    {
        Ok(r) => {
            let r = Rc::new(r);
            // Patterns may come from requests: the cache starts over rather than grow.
            if ev.regex_cache.len() >= REGEX_CACHE_ENTRIES {
                ev.regex_cache.clear();
            }
            ev.regex_cache.insert(pattern.to_string(), r.clone());
            Ok(r)
        }
        Err(regex::Error::CompiledTooBig(_)) => err(
            format!(
                "regular expression '{}' is too large: it would need more than {} bytes",
                shown, REGEX_SIZE_LIMIT
            ),
            pos,
        ),
        Err(_) => err(format!("invalid regular expression '{}'", shown), pos),
    }
}

/// What one compiled regular expression may take; it also bounds the time a match takes
/// per byte of input (matching cannot be interrupted).
const REGEX_SIZE_LIMIT: usize = 512 * 1024;
/// What the cache of one regular expression's lazy DFA may take.
const REGEX_DFA_LIMIT: usize = 2 * 1024 * 1024;
/// How deeply groups and repetitions may nest in a pattern.
const REGEX_NEST_LIMIT: u32 = 100;
/// Compiled patterns kept between calls (and requests).
const REGEX_CACHE_ENTRIES: usize = 32;
