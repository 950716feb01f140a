//! A linear pre-scan of source text that refuses what would make parsing blow up, before
//! rnix sees it. rnix bounds its own recursion through `parse_expr` (512 levels: parens,
//! sets, `let`, lambdas…) but not into nested lists, nor along chains of prefix and
//! right-associative operators (`- - x`, `! ! x`, `a ++ b ++ …`, `//`, `->`); rowan's node
//! cache rehashes whole subtrees (token text included) each time it grows, so any deep
//! tree, left-associative chains and applications (`f a b c …`) too, costs time with the
//! square of its depth; and rnix's tokenizer looks ahead over a whole run of path
//! characters (`a.a.a…`) once per token in it. Nix's own parser gives up on deep nesting
//! too ("memory exhausted", past about 10,000 levels), though not on long left-associative
//! chains: a sum of more than 2,000 terms in one expression is refused here, not in Nix.
//!
//! The scan follows strings (with their interpolations) and comments just enough to tell
//! code from text, and counts brackets and, within each, the operators and applications
//! of the expression under way (a `;`, `,`, `then`, `else` or `in` ends it; list elements
//! are expressions of their own).

/// Deepest nesting accepted: brackets and interpolations open, plus the operators of the
/// expressions under way in each.
pub const MAX_NESTING: usize = 2_000;

/// Longest run of path characters (`a-z A-Z 0-9 _ . + - / '`) accepted outside strings.
pub const MAX_WORD: usize = 4_096;

/// Where the text goes past a bound, and which.
#[derive(Debug)]
pub struct TooDeep {
    pub offset: usize,
    pub msg: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Code,
    Str,
    IndStr,
}

struct Frame {
    /// What an interpolation returns to when it closes; `None` for brackets.
    back_to: Option<Mode>,
    /// A list, whose elements are separate expressions (operators need parentheses there).
    list: bool,
    /// Operators of the expression under way at this level.
    operators: usize,
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-' | b'/' | b'\'')
}

struct Scan {
    frames: Vec<Frame>,
    /// The last token ends an operand, so a `-` after it subtracts rather than negates.
    after_operand: bool,
    /// Operators at the top level, outside any bracket.
    top: usize,
    /// Brackets open plus the operators counted in each.
    depth: usize,
}

impl Scan {
    fn open(&mut self, back_to: Option<Mode>, list: bool) {
        self.frames.push(Frame {
            back_to,
            list,
            operators: 0,
        });
        self.depth += 1;
    }

    /// Closes the innermost bracket; what an interpolation returns to.
    fn close(&mut self) -> Option<Mode> {
        let frame = self.frames.pop()?;
        self.depth -= 1 + frame.operators;
        frame.back_to
    }

    fn operators(&mut self, n: usize) {
        match self.frames.last_mut() {
            Some(frame) if frame.list => return,
            Some(frame) => frame.operators += n,
            None => self.top += n,
        }
        self.depth += n;
    }

    /// An operand right after an operand: a function applied to it.
    fn application(&mut self) {
        if self.after_operand {
            self.operators(1);
        }
    }

    /// The expression under way at the innermost level ended.
    fn end_expression(&mut self) {
        let operators = match self.frames.last_mut() {
            Some(frame) => &mut frame.operators,
            None => &mut self.top,
        };
        self.depth -= std::mem::take(operators);
    }
}

/// Checks `text` against [`MAX_NESTING`] and [`MAX_WORD`].
pub fn check(text: &str) -> Result<(), TooDeep> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut scan = Scan {
        frames: Vec::new(),
        after_operand: false,
        top: 0,
        depth: 0,
    };
    let mut mode = Mode::Code;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match mode {
            Mode::Str => match c {
                b'\\' => i += 2,
                b'$' if at(i + 1) == b'$' => i += 2,
                b'$' if at(i + 1) == b'{' => {
                    scan.open(Some(Mode::Str), false);
                    mode = Mode::Code;
                    i += 2;
                }
                b'"' => {
                    mode = Mode::Code;
                    scan.after_operand = true;
                    i += 1;
                }
                _ => i += 1,
            },
            Mode::IndStr => match c {
                b'\'' if at(i + 1) == b'\'' => match at(i + 2) {
                    // Escapes: two quotes before a dollar, a third quote or a backslash.
                    b'$' | b'\'' => i += 3,
                    b'\\' => i += 4,
                    _ => {
                        mode = Mode::Code;
                        scan.after_operand = true;
                        i += 2;
                    }
                },
                b'$' if at(i + 1) == b'$' => i += 2,
                b'$' if at(i + 1) == b'{' => {
                    scan.open(Some(Mode::IndStr), false);
                    mode = Mode::Code;
                    i += 2;
                }
                _ => i += 1,
            },
            Mode::Code => match c {
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if at(i + 1) == b'*' => {
                    i += 2;
                    while i < b.len() && !(b[i] == b'*' && at(i + 1) == b'/') {
                        i += 1;
                    }
                    i += 2;
                }
                b'"' => {
                    scan.application();
                    mode = Mode::Str;
                    i += 1;
                }
                b'\'' if at(i + 1) == b'\'' => {
                    scan.application();
                    mode = Mode::IndStr;
                    i += 2;
                }
                b'$' if at(i + 1) == b'{' => {
                    scan.open(Some(Mode::Code), false);
                    i += 2;
                }
                b'(' | b'[' | b'{' => {
                    scan.application();
                    scan.open(None, c == b'[');
                    scan.after_operand = false;
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    if let Some(back) = scan.close() {
                        mode = back;
                    }
                    scan.after_operand = mode == Mode::Code;
                    i += 1;
                }
                b';' | b',' => {
                    scan.end_expression();
                    scan.after_operand = false;
                    i += 1;
                }
                b'!' if at(i + 1) != b'=' => {
                    scan.operators(1);
                    scan.after_operand = false;
                    i += 1;
                }
                c if is_word_char(c) => {
                    while i < b.len() && is_word_char(b[i]) {
                        i += 1;
                    }
                    let word = &b[start..i];
                    if word.len() > MAX_WORD {
                        return Err(TooDeep {
                            offset: start,
                            msg: format!(
                                "a name, number or path longer than {MAX_WORD} characters"
                            ),
                        });
                    }
                    let keyword = matches!(
                        word,
                        b"then" | b"else" | b"in" | b"if" | b"let" | b"with" | b"assert" | b"or"
                    );
                    // Every `+` and `/`, a `-` after a digit (`1-1`; in `a-b` it is part of
                    // the name), leading minus signs; and an operand after an operand is an
                    // application.
                    let signs = word.iter().take_while(|&&c| c == b'-').count();
                    let inner = word
                        .windows(2)
                        .filter(|w| w[0].is_ascii_digit() && w[1] == b'-');
                    let plain = word.iter().filter(|&&c| matches!(c, b'+' | b'/')).count();
                    scan.operators(signs + inner.count() + plain);
                    if !keyword && signs == 0 && !matches!(word[0], b'+' | b'/') {
                        scan.application();
                    }
                    if matches!(word, b"then" | b"else" | b"in") {
                        scan.end_expression();
                    }
                    let trailing_operator = matches!(word.last(), Some(b'-' | b'+' | b'/'));
                    scan.after_operand = !keyword && !trailing_operator && signs < word.len();
                }
                b'*' | b'&' | b'|' | b'=' | b'<' | b'>' | b'?' => {
                    scan.operators(1);
                    scan.after_operand = false;
                    i += 1;
                }
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                _ => {
                    scan.after_operand = false;
                    i += 1;
                }
            },
        }
        if scan.depth > MAX_NESTING {
            return Err(TooDeep {
                offset: start,
                msg: format!("expression nested more than {MAX_NESTING} levels deep"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_programs_pass() {
        let ok = [
            "{ a = 1; b = [ 1 2 (3 + 4) ]; c = \"x${toString 1}y\"; d = ''a ''${b} ${c}''; }",
            "let f = x: y: x + y; in f 1 2",
            "# ((((\n/* [[[[ */ \"(((\" + ''[[[['' + \"\\\"\"",
        ];
        for text in ok {
            assert!(check(text).is_ok(), "{text}");
        }
        // Many bindings with operators each: they end at every `;`.
        let wide = "{ ".to_string() + &"a-b = 1 + 2 - 3 ++ [] // {}; ".repeat(5_000) + "}";
        assert!(check(&wide).is_ok());
        assert!(check(&("1 + ".repeat(1_500) + "1 - 2")).is_ok());
        assert!(check(&("f ".to_string() + &"x.a.b ".repeat(1_500))).is_ok());
        // Long lists of negative numbers: each element is an expression of its own.
        assert!(check(&("[ ".to_string() + &"-1 ".repeat(5_000) + "]")).is_ok());
    }

    #[test]
    fn deep_brackets_chains_and_long_runs_are_refused_where_they_go_too_deep() {
        let n = MAX_NESTING + 1;
        for text in [
            "[".repeat(n),
            "- ".repeat(n) + "1",
            "[ (".to_string() + &"- ".repeat(n) + "1) ]",
            "[] ++ ".repeat(n) + "[]",
            "{}//".repeat(n) + "{}",
            "x -> ".repeat(n) + "x",
            "-".repeat(n) + "1",
            "1 + ".repeat(n) + "1",
            "1+".repeat(n) + "1",
            "f".to_string() + &" x".repeat(n),
            "f".to_string() + &" (x)".repeat(n),
            "\"${".repeat(n),
            "''${".repeat(n),
        ] {
            let e = check(&text).expect_err(&text[..20]);
            assert!(e.msg.contains("nested"), "{}", e.msg);
            assert!(e.offset < text.len(), "{}", e.offset);
        }
        assert!(check(&"a.".repeat(MAX_WORD)).is_err());
    }
}
