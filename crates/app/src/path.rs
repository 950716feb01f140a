//! URL paths to route segments.
//!
//! The rules (documented in docs/app-contract.md): the path is split on `/`, empty segments
//! are dropped (so `/a//b/` routes like `/a/b`), then each segment is percent-decoded. A
//! decoded segment that is `.` or `..`, or holds a `/` or a NUL, is refused with a 400: apps
//! often join captures onto file paths, and such segments would escape the intended folder.

use crate::request::BadRequest;
use percent_encoding::percent_decode_str;

/// Splits and decodes a URL path (without its query) into segments.
pub fn segments(path: &str) -> Result<Vec<String>, BadRequest> {
    path.split('/')
        .filter(|raw| !raw.is_empty())
        .map(decode_segment)
        .collect()
}

fn decode_segment(raw: &str) -> Result<String, BadRequest> {
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| BadRequest(format!("path segment {raw:?} is not UTF-8 once decoded")))?;
    if decoded == "." || decoded == ".." {
        return Err(BadRequest(format!("path segment {raw:?} is not allowed")));
    }
    if !is_plain_segment(&decoded) {
        return Err(BadRequest(format!(
            "path segment {raw:?} decodes to a '/' or NUL, which is not allowed"
        )));
    }
    Ok(decoded.into_owned())
}

/// Whether a decoded segment is one file name: not empty, `.` or `..`, and without `/` or
/// NUL. Every segment that reaches an app is one; static folders check the names they are
/// given against the same rule.
pub fn is_plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.contains('/')
        && !segment.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(path: &str) -> Vec<String> {
        segments(path).unwrap()
    }

    #[test]
    fn root_has_no_segments() {
        assert!(ok("/").is_empty());
        assert!(ok("").is_empty());
    }

    #[test]
    fn trailing_and_repeated_slashes_are_ignored() {
        assert_eq!(ok("/test/my/hello/"), ["test", "my", "hello"]);
        assert_eq!(ok("//test//my///hello"), ["test", "my", "hello"]);
    }

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(ok("/users/J%C3%BCrgen%20M"), ["users", "Jürgen M"]);
        assert_eq!(ok("/a+b"), ["a+b"], "+ is a plus in paths, not a space");
    }

    #[test]
    fn traversal_and_encoded_slashes_are_refused() {
        for bad in ["/a/../etc", "/.", "/a/%2e%2E/b", "/a%2Fb", "/x%00", "/%ff"] {
            assert!(segments(bad).is_err(), "{bad} should be refused");
        }
    }
}
