//! Regular-expression builtins (`match`, `split`): POSIX extended patterns, compiled with
//! bounded size and cached per evaluator.
//!
//! A regex search cannot be interrupted, so the work one search may do is bounded before
//! it starts: its worst case (the PikeVM's) grows with the compiled NFA's states, the
//! capture slots each state copies and the bytes searched; a call whose bound exceeds
//! [`MAX_REGEX_WORK`] is refused with `Limit::RegexWork`. `split` runs one search per
//! piece and checks the deadline between them, so no call outlives the evaluation's
//! deadline by more than one bounded search.

use std::rc::Rc;

use regex_automata::nfa::thompson;
use regex_automata::util::syntax;

use super::Registry;
use crate::error::{err, limit_err, EResult, Limit};
use crate::eval::Evaluator;
use crate::source::Pos;
use crate::value::*;

/// A compiled pattern and what searching it costs per byte of subject.
pub struct Compiled {
    regex: regex::bytes::Regex,
    work_per_byte: u64,
}

pub fn register(reg: &mut Registry) {
    reg.add("match", 2, |ev, a, pos| {
        let re = ev.force_string(&a[0], pos)?;
        let s = ev.force_string(&a[1], pos)?;
        let compiled = compile(ev, &format!("^(?:{})$", re.as_str()), re.as_str(), pos)?;
        let bytes = s.as_str().as_bytes();
        check_work(&compiled, re.as_str(), bytes.len(), pos)?;
        match compiled.regex.captures(bytes) {
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
        let compiled = compile(ev, re.as_str(), re.as_str(), pos)?;
        let bytes = s.as_str().as_bytes();
        // Each later search covers less of the subject than the first.
        check_work(&compiled, re.as_str(), bytes.len(), pos)?;
        let mut out = Vec::new();
        let mut last = 0;
        let lossy = |b: &[u8]| Value::str(String::from_utf8_lossy(b));
        // The matches Nix's `std::sregex_iterator` visits, which differ from the regex
        // crate's own iterator in one rule: an empty match right where a non-empty one
        // ended is a match (`split "x*" "axxb"` has one between the x's and the b).
        let mut from = 0;
        while from <= bytes.len() {
            ev.check_time(pos)?;
            let Some(caps) = compiled.regex.captures_at(bytes, from) else {
                break;
            };
            if out.len() % PIECES_PER_MEMORY_CHECK == 0 {
                ev.reserve_items(PIECES_PER_MEMORY_CHECK * 2, pos)?;
            }
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
            // After an empty match the next one starts further on; after a non-empty one
            // it may start (empty) where this one ended.
            from = if m.is_empty() { m.end() + 1 } else { m.end() };
        }
        out.push(Thunk::value(lossy(&bytes[last..])));
        Ok(Value::list(out))
    });
}

/// Refuses a search of `subject_len` bytes whose worst case exceeds [`MAX_REGEX_WORK`].
fn check_work(compiled: &Compiled, shown: &str, subject_len: usize, pos: Pos) -> EResult<()> {
    let work = compiled
        .work_per_byte
        .saturating_mul(subject_len as u64 + 1);
    if work > MAX_REGEX_WORK {
        return Err(limit_err(
            Limit::RegexWork,
            format!(
                "regular expression '{}' against a string of {} bytes would need up to {} \
                 units of matching work, more than the limit of {}",
                shown, subject_len, work, MAX_REGEX_WORK
            ),
            pos,
        ));
    }
    Ok(())
}

fn too_large(shown: &str, pos: Pos) -> Box<crate::error::EvalError> {
    limit_err(
        Limit::RegexSize,
        format!(
            "regular expression '{}' is too large: it would need more than {} bytes",
            shown, REGEX_SIZE_LIMIT
        ),
        pos,
    )
}

/// Whether the regex crate refused `pattern` for its nesting (its error says only "syntax").
fn nests_too_deep(pattern: &str) -> bool {
    let parsed = regex_syntax::ast::parse::ParserBuilder::new()
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .parse(pattern);
    matches!(parsed, Err(e) if matches!(e.kind(), regex_syntax::ast::ErrorKind::NestLimitExceeded(_)))
}

/// The syntax Nix's patterns are read with (as std::regex::extended): matching is on
/// bytes and `.` matches newlines.
fn syntax_config() -> syntax::Config {
    syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .nest_limit(REGEX_NEST_LIMIT)
}

/// The worst-case cost of one byte searched: measured on nested repetitions and patterns
/// with hundreds of groups, a PikeVM step costs about the same per NFA state whatever the
/// pattern, plus the copying of capture slots (a thirty-second of a state's cost each).
fn work_per_byte(pattern: &str) -> Option<u64> {
    let nfa = thompson::Compiler::new()
        .syntax(syntax_config())
        .configure(thompson::Config::new().nfa_size_limit(Some(REGEX_SIZE_LIMIT)))
        .build(pattern)
        .ok()?;
    let states = nfa.states().len() as u64;
    let slots = nfa.group_info().slot_len() as u64;
    Some(states.saturating_mul(32 + slots) / 32)
}

/// Compiles a POSIX extended regular expression (as Nix's std::regex::extended): matching is
/// on bytes, `.` matches newlines, and Perl-style escapes such as `\d` are invalid.
fn compile(ev: &mut Evaluator, pattern: &str, shown: &str, pos: Pos) -> EResult<Rc<Compiled>> {
    if let Some(r) = ev.regex_cache.get(pattern) {
        return Ok(r.clone());
    }
    let mut chars = shown.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.next().is_some_and(|n| n.is_ascii_alphanumeric()) {
            return err(format!("invalid regular expression '{}'", shown), pos);
        }
    }
    ev.reserve(2 * REGEX_SIZE_LIMIT + REGEX_DFA_LIMIT, pos)?;
    let regex = match regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .dot_matches_new_line(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
    {
        Ok(r) => r,
        Err(regex::Error::CompiledTooBig(_)) => return Err(too_large(shown, pos)),
        Err(_) if nests_too_deep(pattern) => {
            return Err(limit_err(
                Limit::RegexSize,
                format!(
                    "regular expression '{}' nests groups and repetitions deeper than {} levels",
                    shown, REGEX_NEST_LIMIT
                ),
                pos,
            ))
        }
        Err(_) => return err(format!("invalid regular expression '{}'", shown), pos),
    };
    // The regex crate accepted the pattern within the same size limit, so its NFA builds.
    let Some(work_per_byte) = work_per_byte(pattern) else {
        return Err(too_large(shown, pos));
    };
    let compiled = Rc::new(Compiled {
        regex,
        work_per_byte,
    });
    // Patterns may come from requests: the cache starts over rather than grow.
    if ev.regex_cache.len() >= REGEX_CACHE_ENTRIES {
        ev.regex_cache.clear();
    }
    ev.regex_cache.insert(pattern.to_string(), compiled.clone());
    Ok(compiled)
}

/// The most work one search may do, in NFA states (plus slot copies) times bytes: at the
/// ~15 ns a unit costs a PikeVM, about two seconds at worst; a small pattern (a few
/// states) may still search strings of tens of megabytes.
pub const MAX_REGEX_WORK: u64 = 1 << 27;
/// What one compiled regular expression may take.
const REGEX_SIZE_LIMIT: usize = 512 * 1024;
/// What the cache of one regular expression's lazy DFA may take.
const REGEX_DFA_LIMIT: usize = 2 * 1024 * 1024;
/// How deeply groups and repetitions may nest in a pattern.
const REGEX_NEST_LIMIT: u32 = 100;
/// Compiled patterns kept between calls (and requests).
const REGEX_CACHE_ENTRIES: usize = 32;
/// `split` checks the memory budget each time it has made this many pieces.
const PIECES_PER_MEMORY_CHECK: usize = 1024;
