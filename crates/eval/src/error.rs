//! Evaluation errors: Nix's message, where it happened, and the trace of enclosing frames.
//! Formatting with source excerpts happens in `format_error`.

use crate::source::{Pos, Sources};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Ordinary evaluation errors (type errors, missing attributes, ...).
    Eval,
    /// `throw`: catchable by `tryEval`.
    Throw,
    /// A failed `assert`: catchable by `tryEval`.
    Assert,
    Abort,
    InfiniteRecursion,
    Parse,
    /// A bound of the evaluation ran out (steps, time, memory, depth): never catchable.
    /// Which one is machine-readable, so a host can name the setting that raises it.
    Limit(Limit),
}

/// The bounds an evaluation can run into (see `Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `Limits::max_steps`: expressions evaluated.
    Steps,
    /// `Limits::deadline`: wall-clock time.
    Time,
    /// `Limits::max_memory`: bytes the evaluation holds.
    Memory,
    /// `Limits::max_depth`: nested calls, forcing, and walks into nested values.
    Depth,
    /// Nix's own bound on nested calls ("stack overflow"), which no setting changes.
    CallStack,
    /// A value handed to the host (`Evaluator::to_json`) nests deeper than
    /// `MAX_RESULT_NESTING`: hosts walk such values recursively.
    ResultNesting,
    /// One `match` or `split` would do more work than `builtins::regex::MAX_REGEX_WORK`:
    /// a regex search cannot be interrupted, so its cost is bounded before it starts.
    RegexWork,
    /// A pattern that would compile past `builtins::regex`'s size limit (512 KiB) or nest
    /// groups and repetitions deeper than its nesting limit (100).
    RegexSize,
}

#[derive(Debug, Clone)]
pub struct EvalError {
    pub kind: ErrorKind,
    pub msg: String,
    pub pos: Pos,
    /// Innermost first: (position, description).
    pub trace: Vec<(Pos, String)>,
    /// "Did you mean ...?" line printed after the source excerpt.
    pub hint: Option<String>,
    /// Whether Nix would suggest `--show-trace` (it does for attribute and context
    /// frames, not for function-call frames).
    pub trace_hint: bool,
}

pub type EResult<T> = Result<T, Box<EvalError>>;

impl EvalError {
    pub fn new(kind: ErrorKind, msg: impl Into<String>, pos: Pos) -> Box<EvalError> {
        Box::new(EvalError {
            kind,
            msg: msg.into(),
            pos,
            trace: Vec::new(),
            hint: None,
            trace_hint: false,
        })
    }

    /// Adds an enclosing frame (innermost first); bounded so deep recursion stays cheap.
    pub fn add_trace(&mut self, pos: Pos, msg: String, hint: bool) {
        if matches!(self.kind, ErrorKind::Limit(_)) {
            return;
        }
        if self.trace.len() < 64 {
            self.trace.push((pos, msg));
        }
        self.trace_hint |= hint;
    }

    pub fn with_hint(mut self: Box<Self>, hint: Option<String>) -> Box<Self> {
        self.hint = hint;
        self
    }

    pub fn catchable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throw | ErrorKind::Assert)
    }
}

pub fn err<T>(msg: impl Into<String>, pos: Pos) -> EResult<T> {
    Err(EvalError::new(ErrorKind::Eval, msg, pos))
}

/// A limit ran out.
pub fn limit_err(limit: Limit, msg: impl Into<String>, pos: Pos) -> Box<EvalError> {
    EvalError::new(ErrorKind::Limit(limit), msg, pos)
}

fn excerpt(out: &mut String, sources: &Sources, pos: Pos) {
    if pos.is_none() {
        return;
    }
    let Some((line, col)) = sources.line_col(pos) else {
        return;
    };
    out.push_str(&format!(
        "\n       at {}:{}:{}:\n",
        sources.origin(pos),
        line,
        col
    ));
    out.push('\n');
    let has_next = sources.line_text(pos.file, line + 1).is_some()
        && sources.line_terminated(pos.file, line + 1);
    // Line numbers end in one column, whatever their length (up to five digits), as 2.8's.
    let numbered = |out: &mut String, n: usize, text: &str| {
        if text.is_empty() {
            out.push_str(&format!("        {:>5}|\n", n));
        } else {
            out.push_str(&format!("        {:>5}| {}\n", n, text));
        }
    };
    if line > 1 {
        if let Some(prev) = sources.line_text(pos.file, line - 1) {
            numbered(out, line - 1, prev);
        }
    }
    if let Some(text) = sources.line_text(pos.file, line) {
        numbered(out, line, text);
        out.push_str(&format!(
            "             | {}^\n",
            " ".repeat(col.saturating_sub(1))
        ));
    }
    if has_next {
        if let Some(next) = sources.line_text(pos.file, line + 1) {
            numbered(out, line + 1, next);
        }
    }
}

/// Renders an error as Nix 2.8 does on stderr (`error: ...` plus source excerpt).
/// With `show_trace`, the enclosing frames follow, innermost first, as `--show-trace` prints.
pub fn format_error(e: &EvalError, sources: &Sources, show_trace: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!("error: {}\n", message_lines(&e.msg)));
    excerpt(&mut out, sources, e.pos);
    if let Some(h) = &e.hint {
        out.push_str(&format!("       {}\n", h));
    }
    if show_trace {
        for (pos, msg) in &e.trace {
            out.push_str(&format!("\n       … {}\n", msg));
            excerpt(&mut out, sources, *pos);
        }
    }
    if out.ends_with("\n\n") {
        out.pop();
    }
    if !show_trace && e.trace_hint {
        out.push_str("(use '--show-trace' to show detailed location information)\n");
    }
    out
}

/// A message's lines as 2.8 lays them out after `error: `: the lines after the first
/// indented under it (empty ones left empty), and no line ending in spaces.
fn message_lines(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for (i, line) in msg.trim_end().split('\n').enumerate() {
        let line = line.trim_end();
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str("       ");
            }
        }
        out.push_str(line);
    }
    out
}

/// Renders a warning (a lint's, say) as `warning: ...` with the source excerpt errors get.
pub fn format_warning(msg: &str, sources: &Sources, pos: Pos) -> String {
    let mut out = format!("warning: {}\n", msg);
    excerpt(&mut out, sources, pos);
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Nix's suggestions: the closest names (edit distance at most 2, at most 5 of them).
pub fn did_you_mean<'a>(query: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|c| (levenshtein(query, c), c))
        .filter(|(d, _)| *d <= 2)
        .collect();
    scored.sort();
    scored.dedup();
    scored.truncate(5);
    match scored.as_slice() {
        [] => None,
        [(_, one)] => Some(format!("Did you mean {}?", one)),
        [init @ .., (_, last)] => {
            let names: Vec<&str> = init.iter().map(|(_, n)| *n).collect();
            Some(format!(
                "Did you mean one of {} or {}?",
                names.join(", "),
                last
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_sit_under_the_first_as_in_2_8() {
        // As nix-instantiate 2.8 prints `throw "a   \n\n  b  \n c\t \n"`.
        assert_eq!(
            message_lines("a   \n\n  b  \n c\t \n"),
            "a\n\n         b\n        c"
        );
        assert_eq!(message_lines("one line"), "one line");
    }

    #[test]
    fn suggestions_like_nix() {
        assert_eq!(
            did_you_mean("b", ["a"].into_iter()).as_deref(),
            Some("Did you mean a?")
        );
        assert_eq!(
            did_you_mean("y", ["x", "z"].into_iter()).as_deref(),
            Some("Did you mean one of x or z?")
        );
        assert_eq!(did_you_mean("hello", ["x"].into_iter()), None);
    }
}
