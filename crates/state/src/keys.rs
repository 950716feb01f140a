//! Key rules and the translation of a `list` prefix into an exact key range, so that no
//! backend needs LIKE (whose `%` and `_` would otherwise be wildcards).

use crate::StateError;

/// Rejects keys that a backend could not store faithfully. PostgreSQL text cannot hold NUL,
/// and SQLite would silently truncate at it in some functions, so both refuse it.
pub(crate) fn check_key(key: &str) -> Result<(), StateError> {
    if key.contains('\0') {
        return Err(StateError::Backend(format!(
            "state key {key:?} contains a NUL character"
        )));
    }
    Ok(())
}

/// The smallest string greater than every string that starts with `prefix`, in UTF-8 byte
/// order, or None when there is none (empty prefix, or only U+10FFFF characters).
///
/// The bound is exact: a key is >= `prefix` and < the bound iff it starts with `prefix`.
/// Trailing U+10FFFF characters are dropped and the last other character is replaced by its
/// successor; a key between the two must repeat the kept part, then the same character, then
/// as many U+10FFFF as the prefix has, so it starts with the prefix. The result is always
/// valid UTF-8, which PostgreSQL requires of text parameters.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value after `c`, skipping the surrogate gap.
fn next_char(c: char) -> Option<char> {
    let mut code = c as u32 + 1;
    if (0xD800..=0xDFFF).contains(&code) {
        code = 0xE000;
    }
    char::from_u32(code)
}

/// The half-open key range `[lower, upper)` with an exclusive start `after`, that a `list`
/// reads: the parameters as the SQL of both backends binds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    /// Inclusive lower bound: the prefix.
    pub lower: String,
    /// Exclusive upper bound, None for "to the end".
    pub upper: Option<String>,
    /// Exclusive start for paging.
    pub after: Option<String>,
    /// Maximum number of rows, already clamped to what SQL's LIMIT takes.
    pub limit: i64,
}

impl KeyRange {
    pub(crate) fn new(prefix: &str, after: Option<&str>, limit: usize) -> Result<Self, StateError> {
        check_key(prefix)?;
        if let Some(after) = after {
            check_key(after)?;
        }
        Ok(KeyRange {
            lower: prefix.to_owned(),
            upper: prefix_upper_bound(prefix),
            after: after.map(str::to_owned),
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
        })
    }

    /// The WHERE clause for a table with a `key` column, with numbered placeholders starting
    /// at `$1` (both SQLite and PostgreSQL accept `$N`), and the order of the parameters it
    /// expects: lower, then upper and after when present. LIMIT is the next placeholder.
    pub(crate) fn sql_where(&self) -> String {
        let mut clause = String::from("key >= $1");
        let mut next = 2;
        if self.upper.is_some() {
            clause.push_str(&format!(" AND key < ${next}"));
            next += 1;
        }
        if self.after.is_some() {
            clause.push_str(&format!(" AND key > ${next}"));
        }
        clause
    }

    /// The parameters for [`KeyRange::sql_where`], in order.
    pub(crate) fn params(&self) -> Vec<&str> {
        let mut params = vec![self.lower.as_str()];
        params.extend(self.upper.as_deref());
        params.extend(self.after.as_deref());
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_range(key: &str, prefix: &str) -> bool {
        key >= prefix
            && prefix_upper_bound(prefix)
                .as_deref()
                .is_none_or(|upper| key < upper)
    }

    #[test]
    fn bounds() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("todos/").as_deref(), Some("todos0"));
        assert_eq!(prefix_upper_bound("a%").as_deref(), Some("a&"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound("\u{7F}").as_deref(), Some("\u{80}"));
    }

    #[test]
    fn range_matches_starts_with_exactly() {
        let samples = [
            "",
            "a",
            "a\u{10FFFF}",
            "a\u{10FFFF}\u{10FFFF}",
            "a\u{10FFFF}b",
            "ab",
            "b",
            "\u{7F}",
            "\u{7F}x",
            "\u{80}",
            "é",
            "éa",
            "\u{D7FF}",
            "\u{D7FF}z",
            "\u{E000}",
            "\u{10FFFF}",
            "\u{10FFFF}a",
            "%",
            "_",
            "a_b",
        ];
        for prefix in samples {
            for key in samples {
                assert_eq!(
                    in_range(key, prefix),
                    key.starts_with(prefix),
                    "key {key:?} prefix {prefix:?}"
                );
            }
        }
    }

    #[test]
    fn nul_is_refused() {
        assert!(check_key("a\0b").is_err());
        assert!(check_key("a/b").is_ok());
        assert!(KeyRange::new("x", Some("\0"), 3).is_err());
    }

    #[test]
    fn where_clause_numbers_parameters() {
        let range = KeyRange::new("p", Some("p1"), usize::MAX).unwrap();
        assert_eq!(range.sql_where(), "key >= $1 AND key < $2 AND key > $3");
        assert_eq!(range.params(), vec!["p", "q", "p1"]);
        assert_eq!(range.limit, i64::MAX);
        let range = KeyRange::new("", None, 5).unwrap();
        assert_eq!(range.sql_where(), "key >= $1");
        assert_eq!(range.params(), vec![""]);
    }
}
