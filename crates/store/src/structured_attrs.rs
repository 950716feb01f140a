//! The `__json` environment variable of a derivation with `__structuredAttrs = true`.
//!
//! Nix 2.8 writes one JSON object: every attribute except `args`, `__structuredAttrs`,
//! `__ignoreNulls`, `__contentAddressed` and `__impure` (and nulls when `__ignoreNulls`),
//! in lexicographic key order, each value as `builtins.toJSON` prints it, without spaces.
//! The evaluator renders the values (it owns them); this module assembles the object
//! with Nix's string escaping, which differs from common JSON writers.

/// A JSON string literal escaped exactly as Nix 2.8's `toJSON`: `"` and `\` are
/// backslashed, newline/CR/tab use their short forms, every other byte below 0x20 is
/// `\u00xx` (so backspace is `\u0008`, not `\b`), and everything else is copied.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_json_string(&mut out, text);
    out
}

/// Appends [`json_string`] of `text` to `out`.
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The `__json` value from (attribute name, value already rendered as JSON) pairs, in
/// any order: keys are sorted bytewise as Nix's lexicographic attribute order.
pub fn structured_attrs_json<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut entries: Vec<(&str, &str)> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::from("{");
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_nix_to_json() {
        // builtins.toJSON (builtins.fromJSON "\"\\b\\f\\u0001\"") in Nix 2.8
        assert_eq!(json_string("\u{8}\u{c}\u{1}"), r#""\u0008\u000c\u0001""#);
        assert_eq!(
            json_string("a\"b\\c\nd\re\tf é\u{7f}"),
            "\"a\\\"b\\\\c\\nd\\re\\tf é\u{7f}\""
        );
    }

    #[test]
    fn sorts_keys_bytewise() {
        let json = structured_attrs_json([("b", "1"), ("B", "2"), ("a", "[]")]);
        assert_eq!(json, r#"{"B":2,"a":[],"b":1}"#);
    }
}
