//! Compressed bodies kept for answers served again, so that a page from the response cache
//! or a static file is not compressed anew on every request (brotli at level 4 costs about
//! 0.3 ms for 50 KB: more than the rest of a cached answer).
//!
//! Only answers whose ETag nixweb made itself are kept ([`Identified`]: from the bytes of a
//! handler's body, or from what identifies one version of a file), keyed by that ETag, the
//! content type and the request's `Accept-Encoding`. An ETag the app set is never trusted
//! for this: an app that gave every visitor's page the same tag would otherwise have one
//! visitor's page sent to the next. The cache is bounded in bytes and forgets the least
//! recently used entries first.

use crate::kept::{Kept, Weighed};
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

/// Marks an answer whose ETag nixweb made from what identifies its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Identified;

/// Compressed bytes kept, at most (what the entries' bodies take together).
const BUDGET_BYTES: usize = 16 * 1024 * 1024;
/// Answers larger than this (before compression) are compressed each time, not kept.
const MAX_KEPT_SOURCE: u64 = 4 * 1024 * 1024;

/// What decides the compressed bytes: the identified body, its type, what the client accepts.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Key {
    etag: HeaderValue,
    content_type: HeaderValue,
    accept_encoding: HeaderValue,
}

impl Key {
    /// The key of `response` to a GET that sent `accept_encoding`, if it may be kept: a
    /// 200 with an ETag of nixweb's making and a body of known, modest size.
    pub fn of<B: http_body::Body>(
        response: &Response<B>,
        accept_encoding: &HeaderValue,
    ) -> Option<Key> {
        let headers = response.headers();
        let kept = response.status() == StatusCode::OK
            && response.extensions().get::<Identified>().is_some()
            && !headers.contains_key(header::CONTENT_ENCODING)
            && !headers.contains_key(header::CONTENT_RANGE)
            && response
                .body()
                .size_hint()
                .exact()
                .is_some_and(|n| n <= MAX_KEPT_SOURCE);
        if !kept {
            return None;
        }
        Some(Key {
            etag: headers.get(header::ETAG)?.clone(),
            content_type: headers.get(header::CONTENT_TYPE)?.clone(),
            accept_encoding: accept_encoding.clone(),
        })
    }
}

/// A body as the compression layer made it, with its `Content-Encoding`.
#[derive(Clone, Debug)]
pub struct Compressed {
    pub encoding: HeaderValue,
    pub body: Bytes,
}

impl Weighed for Compressed {
    fn bytes(&self) -> usize {
        self.body.len()
    }
}

/// The compressed bodies kept (one per server).
pub struct CompressedCache {
    kept: Kept<Key, Compressed>,
}

impl Default for CompressedCache {
    fn default() -> Self {
        CompressedCache {
            kept: Kept::new(BUDGET_BYTES),
        }
    }
}

impl CompressedCache {
    /// The compressed body kept for `key`, if any (and it becomes the most recently used).
    pub fn get(&self, key: &Key) -> Option<Compressed> {
        self.kept.get(key)
    }

    /// Keeps `compressed` for `key`, forgetting the least recently used entries past the
    /// budget.
    pub fn insert(&self, key: Key, compressed: Compressed) {
        if compressed.body.len() > BUDGET_BYTES / 4 {
            return;
        }
        self.kept.insert(key, compressed);
    }

    /// Bytes of compressed bodies kept.
    pub fn bytes(&self) -> usize {
        self.kept.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: StatusCode, identified: bool, body: &'static str) -> Response<String> {
        let mut r = Response::new(body.to_owned());
        *r.status_mut() = status;
        r.headers_mut()
            .insert(header::ETAG, HeaderValue::from_static("\"t\""));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        if identified {
            r.extensions_mut().insert(Identified);
        }
        r
    }

    #[test]
    fn only_identified_whole_answers_are_kept() {
        let accept = HeaderValue::from_static("br");
        assert!(Key::of(&response(StatusCode::OK, true, "page"), &accept).is_some());
        // An ETag the app chose proves nothing about the bytes.
        assert!(Key::of(&response(StatusCode::OK, false, "page"), &accept).is_none());
        assert!(Key::of(&response(StatusCode::NOT_FOUND, true, "page"), &accept).is_none());
        let mut ranged = response(StatusCode::OK, true, "page");
        ranged.headers_mut().insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 0-1/4"),
        );
        assert!(Key::of(&ranged, &accept).is_none());
        // The same bytes asked with another Accept-Encoding are another entry.
        let a = Key::of(&response(StatusCode::OK, true, "page"), &accept);
        let b = Key::of(
            &response(StatusCode::OK, true, "page"),
            &HeaderValue::from_static("gzip"),
        );
        assert_ne!(a, b);
    }

    #[test]
    fn the_budget_forgets_the_least_recently_used() {
        let cache = CompressedCache::default();
        let key = |n: usize| Key {
            etag: HeaderValue::from_str(&format!("\"{n}\"")).unwrap(),
            content_type: HeaderValue::from_static("text/html"),
            accept_encoding: HeaderValue::from_static("br"),
        };
        let body = Bytes::from(vec![b'x'; BUDGET_BYTES / 8]);
        let entry = || Compressed {
            encoding: HeaderValue::from_static("br"),
            body: body.clone(),
        };
        for n in 0..8 {
            cache.insert(key(n), entry());
        }
        assert_eq!(cache.bytes(), BUDGET_BYTES);
        // Using the first makes the second the least recently used.
        assert!(cache.get(&key(0)).is_some());
        cache.insert(key(8), entry());
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.get(&key(0)).is_some() && cache.get(&key(8)).is_some());
        assert_eq!(cache.bytes(), BUDGET_BYTES);
        // Replacing an entry counts its bytes once.
        cache.insert(key(8), entry());
        assert_eq!(cache.bytes(), BUDGET_BYTES);
        // A body too large for the budget's share is not kept.
        let huge = Compressed {
            encoding: HeaderValue::from_static("br"),
            body: Bytes::from(vec![b'x'; BUDGET_BYTES / 2]),
        };
        cache.insert(key(9), huge);
        assert!(cache.get(&key(9)).is_none());
    }
}
