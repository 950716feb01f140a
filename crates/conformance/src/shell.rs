//! Bash word splitting, as far as the test scripts of other projects use it: nixpkgs'
//! `lib/tests/modules.sh` passes each check's arguments on a bash command line, and the
//! runner has to see the same words bash would.
//!
//! Supported: single quotes, double quotes (with `\"`, `\\`, `\$` and `` \` `` escapes),
//! backslash escapes outside quotes, `"$@"` (the positional parameters, one word each),
//! brace expansion of unquoted `{a,b}`, and comments. Any other expansion (`$x`, `$(…)`)
//! or control operator is an error, so that a script using more than this is reported
//! rather than misread. Globs are not expanded.

/// One character of a word and whether quoting protects it from brace expansion.
type Piece = (char, bool);

/// The words of `line`, with `"$@"` standing for `positional`.
pub fn split(line: &str, positional: &[String]) -> Result<Vec<String>, String> {
    let mut words: Vec<String> = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            None | Some('#') => break,
            Some(_) => {}
        }
        let mut word: Vec<Piece> = Vec::new();
        // Set when the word is exactly "$@" (or $@): it expands to the parameters.
        let mut all_params = false;
        // Whether the word had quotes, so that "" is kept as an empty word.
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '\'' => {
                    quoted = true;
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(c) => word.push((c, true)),
                            None => return Err("unterminated single quote".into()),
                        }
                    }
                }
                '"' => {
                    quoted = true;
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(e @ ('"' | '\\' | '$' | '`')) => word.push((e, true)),
                                Some(other) => {
                                    word.push(('\\', true));
                                    word.push((other, true));
                                }
                                None => return Err("unterminated double quote".into()),
                            },
                            Some('$') if chars.peek() == Some(&'@') => {
                                chars.next();
                                all_params = true;
                            }
                            Some('$') if chars.peek().is_some_and(|&n| expands(n)) => {
                                return Err("unsupported expansion `$` in quotes".into())
                            }
                            Some('`') => return Err("unsupported expansion `` ` ``".into()),
                            Some(c) => word.push((c, true)),
                            None => return Err("unterminated double quote".into()),
                        }
                    }
                }
                '\\' => match chars.next() {
                    Some(e) => word.push((e, true)),
                    None => return Err("backslash at the end of the line".into()),
                },
                '$' if chars.peek() == Some(&'@') => {
                    chars.next();
                    all_params = true;
                }
                '$' if chars.peek().is_some_and(|&n| expands(n)) => {
                    return Err("unsupported expansion `$`".into())
                }
                '`' | '(' | ')' | ';' | '&' | '|' | '<' | '>' => {
                    return Err(format!("unsupported shell syntax `{c}`"))
                }
                c => word.push((c, false)),
            }
        }
        if all_params {
            if !word.is_empty() {
                return Err("\"$@\" joined to other text".into());
            }
            words.extend(positional.iter().cloned());
        } else if quoted || !word.is_empty() {
            words.extend(expand_braces(&word));
        }
    }
    Ok(words)
}

/// Whether a `$` followed by `next` starts an expansion; otherwise it is a plain `$`.
fn expands(next: char) -> bool {
    next.is_ascii_alphanumeric() || "_{(*#?$!-@".contains(next)
}

/// Bash's brace expansion of the unquoted `{a,b,…}` in a word (nested and repeated).
fn expand_braces(word: &[Piece]) -> Vec<String> {
    let Some((open, close, commas)) = first_brace_group(word) else {
        return vec![word.iter().map(|(c, _)| c).collect()];
    };
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    bounds
        .windows(2)
        .flat_map(|w| {
            let mut piece = word[..open].to_vec();
            piece.extend_from_slice(&word[w[0] + 1..w[1]]);
            piece.extend_from_slice(&word[close + 1..]);
            expand_braces(&piece)
        })
        .collect()
}

/// The first unquoted `{` whose matching `}` encloses a top-level comma: its position,
/// the `}`'s and the commas'. A group without a comma (`{}`, `{x}`) is left as text.
fn first_brace_group(word: &[Piece]) -> Option<(usize, usize, Vec<usize>)> {
    for open in 0..word.len() {
        if word[open] != ('{', false) {
            continue;
        }
        let mut depth = 0;
        let mut commas = Vec::new();
        for (i, piece) in word.iter().enumerate().skip(open + 1) {
            match piece {
                ('{', false) => depth += 1,
                ('}', false) if depth > 0 => depth -= 1,
                ('}', false) => {
                    if commas.is_empty() {
                        break;
                    }
                    return Some((open, i, commas));
                }
                (',', false) if depth == 0 => commas.push(i),
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line, &["p1".into(), "p 2".into()]).unwrap()
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            words(r#"a 'b c' "d \"e\" \n" f\ g 'it'\''s' "" x"y"z"#),
            ["a", "b c", "d \"e\" \\n", "f g", "it's", "", "xyz"]
        );
        assert_eq!(
            words(r#"config.a.\"example.com\""#),
            ["config.a.\"example.com\""]
        );
    }

    #[test]
    fn positional_parameters_expand_to_words() {
        assert_eq!(words(r#"x "$@" y"#), ["x", "p1", "p 2", "y"]);
        assert_eq!(words("$@"), ["p1", "p 2"]);
        assert!(split(r#""a$@""#, &[]).is_err());
    }

    #[test]
    fn braces_expand_only_unquoted_with_a_comma() {
        assert_eq!(words("./d/{a.nix,b.nix}"), ["./d/a.nix", "./d/b.nix"]);
        assert_eq!(words("{a,b}{1,2}"), ["a1", "a2", "b1", "b2"]);
        assert_eq!(words("x{a,{b,c}}"), ["xa", "xb", "xc"]);
        assert_eq!(words("'^{}$' {} '{a,b}'"), ["^{}$", "{}", "{a,b}"]);
    }

    #[test]
    fn comments_end_the_line_and_other_syntax_is_refused() {
        assert_eq!(words("a b # c d"), ["a", "b"]);
        assert_eq!(words("a#b"), ["a#b"]);
        assert_eq!(words(r#""^42$" ^1$ a$"#), ["^42$", "^1$", "a$"]);
        for line in [
            "echo $HOME",
            "a | b",
            "x \"$(y)\"",
            "\"${x}\"",
            "a; b",
            "'open",
        ] {
            assert!(split(line, &[]).is_err(), "{line}");
        }
    }
}
