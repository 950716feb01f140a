//! Compression of the answers worth it: text-like bodies (HTML, CSS, JavaScript, JSON, XML,
//! SVG…) of at least [`MIN_BYTES`], in gzip, brotli or zstd as the client's
//! `Accept-Encoding` prefers, with `Vary: Accept-Encoding`. tower-http's CompressionLayer
//! does the work; this module only says when, makes a compressed answer's ETag weak, and
//! sends a body compressed before again when the same answer is asked for again.

use crate::compressed::{Compressed, CompressedCache, Key};
use axum::body::Body;
use bytes::Bytes;
use http::{
    header, Extensions, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version,
};
use std::convert::Infallible;
use std::future::Future;
use tower::{Layer, ServiceExt};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Smaller bodies are sent as they are: compressing them saves less than it costs (a
/// packet holds about 1400 bytes anyway).
pub const MIN_BYTES: u16 = 1024;

/// Runs `answer` on `request` and compresses what it returns, when that is worth it; a body
/// compressed before for the same answer and `Accept-Encoding` is sent again as it was
/// ([`crate::compressed`]). An answer not worth compressing (small or binary: most) goes
/// out as it came, without passing through the compression layer at all.
pub async fn around<F, Fut>(
    cache: &CompressedCache,
    request: Request<Body>,
    answer: F,
) -> Response<Body>
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let accept_encoding = request.headers().get(header::ACCEPT_ENCODING).cloned();
    // Only a GET's answer is the same for the next client who asks the same way.
    let keepable = request.method() == Method::GET;
    let response = answer(request).await;
    if !worth_compressing().should_compress(&response) {
        return response;
    }
    let key = accept_encoding
        .as_ref()
        .filter(|_| keepable)
        .and_then(|accept| Key::of(&response, accept));
    let Some(key) = key else {
        return compress(response, accept_encoding).await;
    };
    if let Some(kept) = cache.get(&key) {
        return reuse(kept, response);
    }
    let response = compress(response, accept_encoding).await;
    let Some(encoding) = response.headers().get(header::CONTENT_ENCODING).cloned() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    // A file's body is read from disk here: if reading fails, nothing is kept and the
    // client's transfer fails, as it does when the body is streamed.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            cache.insert(
                key,
                Compressed {
                    encoding,
                    body: bytes.clone(),
                },
            );
            Body::from(bytes)
        }
        Err(e) => Body::from_stream(futures_util::stream::once(async { Err::<Bytes, _>(e) })),
    };
    Response::from_parts(parts, body)
}

/// Text-like bodies of at least [`MIN_BYTES`] (or of unknown length).
fn worth_compressing() -> impl Predicate {
    SizeAbove::new(MIN_BYTES).and(text_like)
}

/// `response` compressed by tower-http's layer for a client that sent `accept_encoding`
/// (the layer still leaves alone what it must: a body already encoded, a range, a client
/// that accepts no encoding, to which it only says `Vary`), with its ETag made weak when
/// its bytes changed.
async fn compress(
    response: Response<Body>,
    accept_encoding: Option<HeaderValue>,
) -> Response<Body> {
    // Level 4 of each: brotli's and zstd's defaults (11, 3) are for files compressed once,
    // not for answers made per request (brotli 11 takes ~50 ms for 50 KB).
    let layer = CompressionLayer::new()
        .no_deflate()
        .quality(CompressionLevel::Precise(4))
        .compress_when(worth_compressing());
    let mut response = Some(response);
    let service = tower::service_fn(move |_: Request<()>| {
        let response = response.take().expect("a oneshot service is called once");
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let mut request = Request::new(());
    if let Some(accept_encoding) = accept_encoding {
        request
            .headers_mut()
            .insert(header::ACCEPT_ENCODING, accept_encoding);
    }
    let Ok(response) = layer.layer(service).oneshot(request).await;
    let (mut parts, body) = response.into_parts();
    if parts.headers.contains_key(header::CONTENT_ENCODING) {
        crate::conditional::weaken(&mut parts.headers);
    }
    Response::from_parts(parts, Body::new(body))
}

/// The answer with the body kept for it (already compressed), in place of its own.
fn reuse(kept: Compressed, response: Response<Body>) -> Response<Body> {
    let (mut parts, _) = response.into_parts();
    let headers = &mut parts.headers;
    headers.insert(header::CONTENT_ENCODING, kept.encoding);
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    let varies = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !varies {
        headers.append(header::VARY, header::ACCEPT_ENCODING.into());
    }
    crate::conditional::weaken(headers);
    Response::from_parts(parts, Body::from(kept.body))
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
        compressed_with(
            &CompressedCache::default(),
            accept,
            body,
            content_type,
            false,
        )
        .await
    }

    /// The answer `body` (with an ETag nixweb made, when `identified`) to a GET sending
    /// `accept`, through `cache`.
    async fn compressed_with(
        cache: &CompressedCache,
        accept: &str,
        body: String,
        content_type: &str,
        identified: bool,
    ) -> (Response<Body>, Vec<u8>) {
        let request = Request::builder()
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let content_type = content_type.to_owned();
        let response = around(cache, request, |_| async move {
            let mut r = page_of(body, &content_type);
            r.headers_mut()
                .insert(header::ETAG, "\"abc\"".parse().unwrap());
            if identified {
                r.extensions_mut().insert(crate::compressed::Identified);
            }
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

    /// The answer `body` (text/html) to a request of `method` sending `accept`, if any.
    async fn answered(method: Method, accept: Option<&str>, body: String) -> Response<Body> {
        let mut request = Request::builder().method(method);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let request = request.body(Body::empty()).unwrap();
        around(&CompressedCache::default(), request, |_| async move {
            page_of(body, "text/html")
        })
        .await
    }

    /// An answer of `body` as `content_type`.
    fn page_of(body: String, content_type: &str) -> Response<Body> {
        let mut r = Response::new(Body::from(body));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        r
    }

    #[tokio::test]
    async fn every_method_is_compressed_and_a_client_without_accept_encoding_learns_vary() {
        let page = "<li>an item</li>".repeat(200);
        let r = answered(Method::POST, Some("gzip"), page.clone()).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        // Not compressed for this client, but a shared cache must know the next one may get
        // another encoding.
        let r = answered(Method::GET, None, page.clone()).await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        // Too small to compress: left alone, no Vary.
        let r = answered(Method::GET, Some("gzip"), "<p>hi</p>".into()).await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        assert!(!r.headers().contains_key(header::VARY));
    }

    #[tokio::test]
    async fn small_or_binary_bodies_are_left_alone() {
        let (r, _) = compressed("gzip", "<p>hi</p>".into(), "text/html").await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        let (r, _) = compressed("gzip", "x".repeat(5000), "image/png").await;
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        assert!(!r.headers().contains_key(header::VARY));
    }

    #[tokio::test]
    async fn a_body_compressed_once_is_sent_again_as_it_was() {
        let cache = CompressedCache::default();
        let page = "<tr><td>row</td></tr>".repeat(500);
        let (first, first_bytes) =
            compressed_with(&cache, "br, gzip", page.clone(), "text/html", true).await;
        assert_eq!(first.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(cache.bytes(), first_bytes.len());
        // The kept bytes come back with the same headers a fresh compression gets.
        let (again, again_bytes) =
            compressed_with(&cache, "br, gzip", page.clone(), "text/html", true).await;
        assert_eq!(again_bytes, first_bytes);
        for name in [header::CONTENT_ENCODING, header::VARY, header::ETAG] {
            assert_eq!(
                again.headers().get(&name),
                first.headers().get(&name),
                "{name}"
            );
        }
        assert!(!again.headers().contains_key(header::CONTENT_LENGTH));
        // What is sent is the kept body, not a new compression: under the same identified
        // tag, a body changed behind its back (never so in the server) still gets the
        // first bytes.
        let (_, reused) =
            compressed_with(&cache, "br, gzip", "changed".repeat(300), "text/html", true).await;
        assert_eq!(reused, first_bytes);
        // Another Accept-Encoding is another entry, compressed for it.
        let (gzip, _) = compressed_with(&cache, "gzip", page.clone(), "text/html", true).await;
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(cache.bytes() > first_bytes.len());
        // Another body under the app's own tag is compressed from its own bytes.
        let kept = cache.bytes();
        let other = "<p>another visitor</p>".repeat(100);
        let (r, bytes) =
            compressed_with(&cache, "br, gzip", other.clone(), "text/html", false).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(cache.bytes(), kept);
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut brotli_decompressor::Decompressor::new(&bytes[..], 4096),
            &mut plain,
        )
        .unwrap();
        assert_eq!(plain, other.as_bytes());
    }

    /// A body of a known length that fails when read, as a file can.
    struct FailingFile;

    impl http_body::Body for FailingFile {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(Some(Err(std::io::Error::other("the disk failed"))))
        }

        fn size_hint(&self) -> http_body::SizeHint {
            http_body::SizeHint::with_exact(5000)
        }
    }

    #[tokio::test]
    async fn a_body_that_fails_while_kept_fails_the_transfer_and_is_not_kept() {
        let cache = CompressedCache::default();
        let request = Request::builder()
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        let response = around(&cache, request, |_| async {
            let mut r = Response::new(Body::new(FailingFile));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, "text/css".parse().unwrap());
            r.headers_mut()
                .insert(header::ETAG, "\"file\"".parse().unwrap());
            r.extensions_mut().insert(crate::compressed::Identified);
            r
        })
        .await;
        assert!(axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .is_err());
        assert_eq!(cache.bytes(), 0);
    }
}
