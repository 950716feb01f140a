//! Compression of the answers worth it: text-like bodies (HTML, CSS, JavaScript, JSON, XML,
//! SVG…) of at least [`MIN_BYTES`], in gzip, brotli or zstd as the client's
//! `Accept-Encoding` prefers, with `Vary: Accept-Encoding`. tower-http's CompressionLayer
//! does the work; this module only says when, and makes a compressed answer's ETag weak.

use axum::body::Body;
use http::{header, Extensions, HeaderMap, Request, Response, StatusCode, Version};
use std::convert::Infallible;
use std::future::Future;
use tower::{Layer, ServiceExt};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Smaller bodies are sent as they are: compressing them saves less than it costs (a
/// packet holds about 1400 bytes anyway).
pub const MIN_BYTES: u16 = 1024;

/// Runs `answer` on `request` and compresses what it returns, when that is worth it.
pub async fn around<F, Fut>(request: Request<Body>, answer: F) -> Response<Body>
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    // Level 4 of each: brotli's and zstd's defaults (11, 3) are for files compressed once,
    // not for answers made per request (brotli 11 takes ~50 ms for 50 KB).
    let layer = CompressionLayer::new()
        .no_deflate()
        .quality(CompressionLevel::Precise(4))
        .compress_when(SizeAbove::new(MIN_BYTES).and(text_like));
    let mut answer = Some(answer);
    let service = tower::service_fn(move |request| {
        let answer = answer.take().expect("a oneshot service is called once");
        async move { Ok::<_, Infallible>(answer(request).await) }
    });
    let Ok(response) = layer.layer(service).oneshot(request).await;
    let (mut parts, body) = response.into_parts();
    if parts.headers.contains_key(header::CONTENT_ENCODING) {
        crate::conditional::weaken(&mut parts.headers);
    }
    Response::from_parts(parts, Body::new(body))
}

/// Whether the content type is text of some kind (and not a stream of events, which must
/// reach the client as it is written).
fn text_like(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    (kind == "text" && subtype != "event-stream")
        || subtype.ends_with("+json")
        || subtype.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "application/manifest+json"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(content_type: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        text_like(
            StatusCode::OK,
            Version::HTTP_11,
            &headers,
            &Extensions::new(),
        )
    }

    #[test]
    fn text_like_types() {
        for yes in [
            "text/html; charset=utf-8",
            "text/css",
            "application/json",
            "application/javascript; charset=utf-8",
            "image/svg+xml",
            "application/vnd.api+json",
            "TEXT/PLAIN",
        ] {
            assert!(typed(yes), "{yes}");
        }
        for no in [
            "image/png",
            "application/octet-stream",
            "text/event-stream",
            "video/mp4",
            "nonsense",
        ] {
            assert!(!typed(no), "{no}");
        }
        assert!(!text_like(
            StatusCode::OK,
            Version::HTTP_11,
            &HeaderMap::new(),
            &Extensions::new()
        ));
    }

    async fn compressed(
        accept: &str,
        body: String,
        content_type: &str,
    ) -> (Response<Body>, Vec<u8>) {
        let request = Request::builder()
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let content_type = content_type.to_owned();
        let response = around(request, |_| async move {
            let mut r = Response::new(Body::from(body));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            r.headers_mut()
                .insert(header::ETAG, "\"abc\"".parse().unwrap());
            r
        })
        .await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (Response::from_parts(parts, Body::empty()), bytes.to_vec())
    }

    #[tokio::test]
    async fn each_encoding_by_accept_encoding_and_the_etag_turns_weak() {
        let page = "<p>hello</p>".repeat(200);
        for (accept, encoding) in [("gzip", "gzip"), ("br", "br"), ("zstd", "zstd")] {
            let (r, bytes) = compressed(accept, page.clone(), "text/html").await;
            assert_eq!(r.headers()[header::CONTENT_ENCODING], encoding);
            assert_eq!(r.headers()[header::VARY], "accept-encoding");
            assert_eq!(r.headers()[header::ETAG], "W/\"abc\"");
            assert!(bytes.len() < page.len() / 10, "{encoding}: {}", bytes.len());
        }
        let (r, bytes) = compressed("identity", page.clone(), "text/html").await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(r.headers()[header::ETAG], "\"abc\"");
        assert_eq!(bytes, page.as_bytes());
    }

    #[tokio::test]
    async fn small_or_binary_bodies_are_left_alone() {
        let (r, _) = compressed("gzip", "<p>hi</p>".into(), "text/html").await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        let (r, _) = compressed("gzip", "x".repeat(5000), "image/png").await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        assert!(!r.headers().contains_key(header::VARY));
    }
}
