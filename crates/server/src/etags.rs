//! ETags of bodies answered before, so that a body sent again (a page from the response
//! cache, every hit) is compared with the one its tag was made from instead of hashed
//! again: the SHA-256 of a 50 KB page costs about 30 us, comparing it with the kept copy
//! about 2 us. A kept tag is used only for the very same bytes, so nothing depends on where
//! a body came from.

use crate::kept::{Kept, Weighed};
use bytes::Bytes;
use http::HeaderValue;
use std::hash::Hasher;

/// Smaller bodies are hashed each time: that costs less than finding and comparing a copy.
const MIN_KEPT: usize = 4 * 1024;
/// Larger bodies are hashed each time rather than crowd out the rest.
const MAX_KEPT: usize = 1024 * 1024;
/// Bytes of bodies kept, at most.
const BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// The ETags of bodies seen recently, with those bodies (one per server).
pub struct Etags {
    kept: Kept<Fingerprint, Tagged>,
}

/// A body and its tag.
#[derive(Clone)]
struct Tagged {
    body: Bytes,
    etag: HeaderValue,
}

impl Weighed for Tagged {
    fn bytes(&self) -> usize {
        self.body.len()
    }
}

/// What finds a kept body quickly: its length and a hash of a few samples of it. Two
/// bodies may share one; the bytes are compared before a tag is reused.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Fingerprint {
    len: usize,
    sample: u64,
}

impl Fingerprint {
    fn of(bytes: &[u8]) -> Self {
        const WINDOW: usize = 64;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let middle = bytes.len() / 2;
        hasher.write(&bytes[..WINDOW]);
        hasher.write(&bytes[middle - WINDOW / 2..middle + WINDOW / 2]);
        hasher.write(&bytes[bytes.len() - WINDOW..]);
        Fingerprint {
            len: bytes.len(),
            sample: hasher.finish(),
        }
    }
}

impl Default for Etags {
    fn default() -> Self {
        Etags {
            kept: Kept::new(BUDGET_BYTES),
        }
    }
}

impl Etags {
    /// The strong ETag of `body` ([`crate::conditional::etag_of`]), from the kept copy when
    /// the same bytes were tagged before.
    pub fn of(&self, body: &Bytes) -> HeaderValue {
        if !(MIN_KEPT..=MAX_KEPT).contains(&body.len()) {
            return crate::conditional::etag_of(body);
        }
        let key = Fingerprint::of(body);
        if let Some(kept) = self.kept.get(&key) {
            if kept.body == body {
                return kept.etag;
            }
        }
        let etag = crate::conditional::etag_of(body);
        self.kept.insert(
            key,
            Tagged {
                body: body.clone(),
                etag: etag.clone(),
            },
        );
        etag
    }

    /// Bytes of bodies kept.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.kept.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditional::etag_of;

    #[test]
    fn a_body_seen_before_gets_its_tag_and_another_body_its_own() {
        let etags = Etags::default();
        let page = Bytes::from("<tr><td>row</td></tr>".repeat(1000));
        assert_eq!(etags.of(&page), etag_of(&page));
        assert_eq!(etags.bytes(), page.len());
        // Again, from another allocation of the same bytes: the kept tag.
        assert_eq!(etags.of(&Bytes::from(page.to_vec())), etag_of(&page));
        // Same length, same samples, one byte changed between them: its own tag.
        let mut changed = page.to_vec();
        changed[page.len() / 4] = b'X';
        let changed = Bytes::from(changed);
        assert_eq!(Fingerprint::of(&changed), Fingerprint::of(&page));
        assert_eq!(etags.of(&changed), etag_of(&changed));
        assert_ne!(etag_of(&changed), etag_of(&page));
        // Small bodies are not kept.
        let small = Bytes::from_static(b"hello");
        assert_eq!(etags.of(&small), etag_of(&small));
        assert_eq!(etags.bytes(), changed.len());
    }

    #[test]
    fn the_kept_bodies_stay_within_the_budget() {
        let etags = Etags::default();
        for i in 0..40 {
            let body = Bytes::from(format!("{i:08}").repeat(MAX_KEPT / 8));
            assert_eq!(etags.of(&body), etag_of(&body));
            assert!(etags.bytes() <= BUDGET_BYTES);
        }
        assert!(etags.bytes() > BUDGET_BYTES / 2);
    }
}
