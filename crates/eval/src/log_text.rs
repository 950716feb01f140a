//! What Nix's logger does to a message before writing it to a stderr that is not a
//! terminal: escape sequences are left out, tabs become spaces up to the next multiple of
//! eight, and carriage returns and bells are dropped. nixweb-eval applies it to each
//! message it keeps (traces, warnings, errors), so request data cannot steer a terminal
//! or a log viewer either.

/// The message as Nix 2.8 writes it to a pipe or file (its `filterANSIEscapes`).
pub fn for_log(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    // Columns written so far: the whole message counts, newlines included, as in Nix.
    let mut width = 0usize;
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.next_if_eq(&'[').is_some() {
                    // Parameter bytes, intermediate bytes, then one final byte.
                    while chars
                        .next_if(|c| ('\u{30}'..='\u{3f}').contains(c))
                        .is_some()
                    {}
                    while chars
                        .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                        .is_some()
                    {}
                    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
                } else {
                    chars.next_if(|c| ('\u{40}'..='\u{5f}').contains(c));
                }
            }
            '\t' => {
                out.push(' ');
                width += 1;
                while !width.is_multiple_of(8) {
                    out.push(' ');
                    width += 1;
                }
            }
            '\r' | '\u{7}' => {}
            other => {
                out.push(other);
                width += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::for_log;

    #[test]
    fn escapes_go_and_tabs_become_spaces_as_nix_2_8_logs_them() {
        // Recorded from nix-instantiate 2.8 with stderr on a pipe.
        assert_eq!(for_log("trace: a\tb\rc"), "trace: a        bc");
        assert_eq!(
            for_log("trace: \u{1b}[1mbo\u{1b}]ld\u{1b}[0m\u{7}"),
            "trace: bold"
        );
        assert_eq!(
            for_log("\u{1b}[31;1merror:\u{1b}[0m x\ty"),
            "error: x        y"
        );
        assert_eq!(for_log("ab\tc"), "ab      c");
        assert_eq!(for_log("é\u{1b}"), "é");
    }
}
