//! Conditional GET: answers that carry an ETag, and `If-None-Match` answered with 304.
//!
//! A GET or HEAD answer whose body is in memory (a handler's text or JSON) gets a strong
//! ETag made from its bytes, unless the app gave one itself or `--no-etag` is set; files
//! come with theirs ([`crate::static_files`]). Whichever it is, a request whose
//! `If-None-Match` matches it gets 304 with no body. The comparison is the `headers`
//! crate's (weak, as RFC 9110 §13.1.2 asks for If-None-Match).

use crate::etags::Etags;
use axum::body::{Body, HttpBody};
use headers::{ETag, HeaderMapExt, IfNoneMatch};
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use sha2::Digest;

/// Bodies larger than this are sent without an ETag of nixweb's making.
const MAX_HASHED: u64 = 8 * 1024 * 1024;

/// The headers a 304 keeps (RFC 9110 §15.4.5), besides the ones every answer gets later.
const KEPT_BY_304: [header::HeaderName; 7] = [
    header::CACHE_CONTROL,
    header::CONTENT_LOCATION,
    header::DATE,
    header::ETAG,
    header::EXPIRES,
    header::LAST_MODIFIED,
    header::VARY,
];

/// Adds an ETag to `response` (when `etags` is given and it has none) and answers a
/// matching `If-None-Match` with 304.
pub async fn apply(
    response: Response<Body>,
    method: &Method,
    request: &HeaderMap,
    etags: Option<&Etags>,
) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return response;
    }
    let response = match etags {
        Some(etags) if response.status() == StatusCode::OK => with_etag(response, etags).await,
        _ => response,
    };
    // A range of a resource the client already holds whole is answered the same way.
    let answered = matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT
    );
    let (Some(condition), Some(etag)) = (
        if_none_match(request),
        response.headers().typed_get::<ETag>(),
    ) else {
        return response;
    };
    if !answered || condition.precondition_passes(&etag) {
        return response;
    }
    not_modified(response)
}

/// The request's `If-None-Match`, if it is well-formed (one that is not is ignored, as
/// RFC 9110 §13.1.2 allows).
fn if_none_match(request: &HeaderMap) -> Option<IfNoneMatch> {
    let values = request.get_all(header::IF_NONE_MATCH);
    let well_formed = values.iter().all(|value| {
        let text = value.as_bytes();
        text == b"*"
            || text
                .split(|&b| b == b',')
                .all(|tag| is_entity_tag(tag.trim_ascii()))
    });
    if well_formed {
        request.typed_get::<IfNoneMatch>()
    } else {
        None
    }
}

/// `"…"` or `W/"…"` with only the characters RFC 9110 §8.8.3 allows inside. (The `headers`
/// crate assumes this has been checked: its parser asserts it in debug builds.)
pub fn is_entity_tag(text: &[u8]) -> bool {
    let quoted = text.strip_prefix(b"W/").unwrap_or(text);
    quoted.len() >= 2
        && quoted[0] == b'"'
        && quoted[quoted.len() - 1] == b'"'
        && quoted[1..quoted.len() - 1]
            .iter()
            .all(|&c| c == 0x21 || (0x23..=0x7e).contains(&c) || c >= 0x80)
}

/// The response with a strong ETag from its bytes, if its body is in memory.
async fn with_etag(response: Response<Body>, etags: &Etags) -> Response<Body> {
    let in_memory = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_HASHED);
    if response.headers().contains_key(header::ETAG) || !in_memory {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_HASHED as usize).await else {
        return Response::from_parts(parts, Body::empty());
    };
    parts.headers.insert(header::ETAG, etags.of(&bytes));
    parts.extensions.insert(crate::compressed::Identified);
    Response::from_parts(parts, Body::from(bytes))
}

/// `"…"`: 128 bits of the SHA-256 of the bytes, in base64url.
pub fn etag_of(bytes: &[u8]) -> HeaderValue {
    strong_etag(&sha2::Sha256::digest(bytes)[..16])
}

/// A strong ETag made of `digest`, in base64url.
pub fn strong_etag(digest: &[u8]) -> HeaderValue {
    use base64::Engine;
    // Built in place: this runs for every answer, cached ones included.
    let mut tag = Vec::with_capacity(digest.len().div_ceil(3) * 4 + 2);
    tag.push(b'"');
    tag.resize(tag.capacity() - 1, 0);
    let written = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode_slice(digest, &mut tag[1..])
        .expect("room for the base64 of the digest");
    tag.truncate(1 + written);
    tag.push(b'"');
    HeaderValue::from_maybe_shared(bytes::Bytes::from(tag)).expect("base64 is a valid header value")
}

fn not_modified(response: Response<Body>) -> Response<Body> {
    let (parts, _) = response.into_parts();
    let mut answer = Response::new(Body::empty());
    *answer.status_mut() = StatusCode::NOT_MODIFIED;
    for name in KEPT_BY_304.iter().chain([&header::SET_COOKIE]) {
        for value in parts.headers.get_all(name) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

/// A strong ETag made weak (`W/"…"`), for an answer whose bytes were changed on the way out
/// (compressed): the same tag on different bytes may only claim weak equality.
pub fn weaken(headers: &mut HeaderMap) {
    let Some(etag) = headers.get(header::ETAG) else {
        return;
    };
    if etag.as_bytes().starts_with(b"\"") {
        let mut weak = b"W/".to_vec();
        weak.extend_from_slice(etag.as_bytes());
        if let Ok(value) = HeaderValue::from_bytes(&weak) {
            headers.insert(header::ETAG, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_is_the_base64url_of_the_first_half_of_the_sha256_quoted() {
        // As Python computes it: base64.urlsafe_b64encode(sha256(b"hello")[:16]).
        assert_eq!(etag_of(b"hello"), "\"LPJNul-wow4m6Dsqxbning\"");
        assert_eq!(strong_etag(&[0xff; 3]), "\"____\"");
        assert_eq!(strong_etag(&[]), "\"\"");
    }

    fn request(if_none_match: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(tag) = if_none_match {
            headers.insert(header::IF_NONE_MATCH, tag.parse().unwrap());
        }
        headers
    }

    /// `apply` with ETags on, to a request sending `if_none_match`, if any.
    async fn tagged(
        response: Response<Body>,
        method: &Method,
        if_none_match: Option<&str>,
    ) -> Response<Body> {
        apply(
            response,
            method,
            &request(if_none_match),
            Some(&Etags::default()),
        )
        .await
    }

    fn page(text: &'static str) -> Response<Body> {
        let mut r = Response::new(Body::from(text));
        r.headers_mut()
            .insert(header::CACHE_CONTROL, "max-age=60".parse().unwrap());
        r.headers_mut()
            .insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
        r
    }

    #[tokio::test]
    async fn a_matching_tag_gets_304_and_a_stale_one_the_page() {
        let first = tagged(page("hello"), &Method::GET, None).await;
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.len() == 24, "{etag}");

        let again = tagged(page("hello"), &Method::GET, Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], etag.as_str());
        assert_eq!(again.headers()[header::CACHE_CONTROL], "max-age=60");
        assert!(!again.headers().contains_key(header::CONTENT_TYPE));
        assert_eq!(again.body().size_hint().exact(), Some(0));

        // A weak form of the tag matches too (as a compressed answer carries it); a list
        // matches when any member does; `*` matches anything.
        for tags in [format!("W/{etag}"), format!("\"x\", {etag}"), "*".into()] {
            let r = tagged(page("hello"), &Method::HEAD, Some(&tags)).await;
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{tags}");
        }
        let changed = tagged(page("hello!"), &Method::GET, Some(&etag)).await;
        assert_eq!(changed.status(), StatusCode::OK);
        // Malformed conditions are ignored, never trusted (nor a reason to fail).
        for bad in ["\"a b\"", "nope", "\"x\", *", "W/x", "\""] {
            let r = tagged(page("hello"), &Method::GET, Some(bad)).await;
            assert_eq!(r.status(), StatusCode::OK, "{bad}");
        }
    }

    #[tokio::test]
    async fn only_gets_of_successful_answers_and_only_when_asked() {
        let post = tagged(page("x"), &Method::POST, Some("*")).await;
        assert_eq!(post.status(), StatusCode::OK);
        assert!(!post.headers().contains_key(header::ETAG));
        let off = apply(page("x"), &Method::GET, &request(Some("*")), None).await;
        assert_eq!(off.status(), StatusCode::OK, "no ETag, nothing to match");
        let mut missing = page("x");
        *missing.status_mut() = StatusCode::NOT_FOUND;
        let missing = tagged(missing, &Method::GET, None).await;
        assert!(!missing.headers().contains_key(header::ETAG));
    }

    #[tokio::test]
    async fn the_apps_own_tag_is_kept_and_answered() {
        let mut own = page("x");
        own.headers_mut()
            .insert(header::ETAG, "\"v7\"".parse().unwrap());
        let r = apply(own, &Method::GET, &request(Some("\"v7\"")), None).await;
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()[header::ETAG], "\"v7\"");
    }

    #[test]
    fn weakening() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, "\"a\"".parse().unwrap());
        weaken(&mut headers);
        assert_eq!(headers[header::ETAG], "W/\"a\"");
        weaken(&mut headers);
        assert_eq!(headers[header::ETAG], "W/\"a\"");
    }
}
