//! Outcomes and failures → HTTP responses.

use crate::body::BodyError;
use crate::static_files::{self, Asked};
use axum::body::Body;
use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use nixweb_app::engine::{Bound, EngineError, SourceLocation};
use nixweb_app::multipart::MultipartError;
use nixweb_app::outcome::{self, InvalidResponse, Outcome, ResponseBody, ResponseValue};
use nixweb_app::report::HandlerRoute;
use nixweb_app::request::BadRequest;
use std::path::PathBuf;

/// Everything that can stop a request short of the app's own response.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Body(BodyError),
    #[error("bad request: {0}")]
    BadRequest(BadRequest),
    #[error("all workers are busy and the queue is full")]
    QueueFull,
    #[error("{0}")]
    Engine(EngineError),
    #[error("{0}")]
    InvalidResponse(InvalidResponse),
    #[error("the state store is unavailable: {0}")]
    StateUnavailable(String),
    #[error("the request's state writes conflicted with other requests {0} times in a row")]
    Contention(u32),
    #[error("the form's CSRF token is missing or wrong: load the page again and resend it")]
    Csrf,
    #[error("{0}")]
    Multipart(nixweb_app::multipart::MultipartError),
    #[error("cannot keep the uploaded files: {0}")]
    Uploads(String),
    /// A failure of the app's code, and where in the app it happened.
    #[error("{place}: {failure}")]
    InApp { place: Place, failure: Box<Failure> },
}

/// Where in the app a failure happened.
#[derive(Debug, Clone)]
pub enum Place {
    /// In the handler of this route, or in what it returned.
    Handler(HandlerRoute),
    /// Before any handler: while evaluating the route tree of this file.
    RouteTree(PathBuf),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Handler(route) => route.fmt(f),
            Place::RouteTree(file) => write!(f, "the route tree of {}", file.display()),
        }
    }
}

impl Place {
    /// The place to show the source of when the error itself names none in the app.
    fn location(&self) -> Option<SourceLocation> {
        match self {
            Place::Handler(route) => route.definition.clone(),
            Place::RouteTree(file) => Some(SourceLocation {
                file: file.clone(),
                line: 1,
                column: 1,
            }),
        }
    }
}

impl Failure {
    /// Whether the app's code failed (rather than the request, the server or its limits on
    /// concurrency), so that the failure is worth placing in the app.
    pub fn is_the_apps(&self) -> bool {
        matches!(
            self,
            Failure::Engine(
                EngineError::Eval { .. }
                    | EngineError::Timeout(_)
                    | EngineError::Exceeded(..)
                    | EngineError::Upstream(_)
                    | EngineError::UpstreamTimeout(_)
            ) | Failure::InvalidResponse(_)
        )
    }

    /// The failure itself, without the place it is wrapped in.
    pub(crate) fn inner(&self) -> &Failure {
        match self {
            Failure::InApp { failure, .. } => failure.inner(),
            other => other,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Failure::InApp { failure, .. } => failure.status(),
            Failure::Body(BodyError::TooLarge(_))
            | Failure::Multipart(MultipartError::TooManyParts(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Body(BodyError::TooSlow { .. }) => StatusCode::REQUEST_TIMEOUT,
            Failure::Body(BodyError::Malformed(_))
            | Failure::Multipart(MultipartError::Malformed(_)) => StatusCode::BAD_REQUEST,
            Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
            Failure::Csrf => StatusCode::FORBIDDEN,
            // Overload, or a part the server depends on is down: a retry may succeed.
            Failure::QueueFull
            | Failure::StateUnavailable(_)
            | Failure::Contention(_)
            | Failure::Uploads(_)
            | Failure::Engine(EngineError::Overloaded(_) | EngineError::Unavailable(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            // Time, counted or timed: the same request would run out of it again.
            Failure::Engine(
                EngineError::Timeout(_) | EngineError::Exceeded(Bound::Steps | Bound::Cpu, _),
            ) => StatusCode::GATEWAY_TIMEOUT,
            Failure::Engine(EngineError::UpstreamTimeout(_)) => StatusCode::GATEWAY_TIMEOUT,
            // The app's upstream failed: the app may be fine.
            Failure::Engine(EngineError::Upstream(_)) => StatusCode::BAD_GATEWAY,
            // The app's own errors, bounds it exceeds included: a retry fails the same way.
            // And faults of nixweb's own.
            Failure::Engine(
                EngineError::Eval { .. } | EngineError::Exceeded(..) | EngineError::Internal(_),
            )
            | Failure::InvalidResponse(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the message may be shown to any client. Evaluation errors and invalid
    /// responses can reveal the app's source, so outside `--dev` they stay in the log.
    fn is_public(&self) -> bool {
        !matches!(
            self.inner(),
            Failure::Engine(
                EngineError::Eval { .. }
                    | EngineError::Unavailable(_)
                    | EngineError::Upstream(_)
                    | EngineError::UpstreamTimeout(_)
                    | EngineError::Internal(_)
            ) | Failure::InvalidResponse(_)
                | Failure::StateUnavailable(_)
                | Failure::Uploads(_)
        )
    }

    pub fn log(&self, id: &str) {
        match self {
            Failure::Body(_)
            | Failure::BadRequest(_)
            | Failure::QueueFull
            | Failure::Csrf
            | Failure::Multipart(_) => {
                tracing::warn!(target: "nixweb::request", id, "{self}")
            }
            _ => tracing::error!(target: "nixweb::request", id, "{self}"),
        }
    }
}

pub fn failure(failure: &Failure, id: &str, dev: bool) -> Response<Body> {
    failure_with_traces(failure, id, dev, None)
}

/// [`failure`], with the request's trace output on the `--dev` page.
pub fn failure_with_traces(
    failure: &Failure,
    id: &str,
    dev: bool,
    traces: Option<&nixweb_app::trace::Traces>,
) -> Response<Body> {
    let status = failure.status();
    let mut response = if dev && !failure.is_public() {
        let traces = traces.map(trace_section).unwrap_or_default();
        html(status, dev_error_page(failure, id, &traces))
    } else {
        let reason = status.canonical_reason().unwrap_or("Error");
        // Without the place: it names the app's files, which are not the client's business.
        let detail = if failure.is_public() {
            format!("{}\n", failure.inner())
        } else {
            String::new()
        };
        plain(
            status,
            format!("{} {reason}\n{detail}request id: {id}\n", status.as_u16()),
        )
    };
    if matches!(
        failure.inner(),
        Failure::QueueFull | Failure::Engine(EngineError::Overloaded(_))
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if matches!(
        failure,
        Failure::Body(BodyError::Malformed(_) | BodyError::TooSlow { .. })
    ) {
        // Where this request's body ends is unknown: nothing after it can be trusted as the
        // next request. (HTTP/2 has no such header; hyper leaves it out there.)
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// nixweb's own answer to an outcome that is not the app's response: 404, 405 with
/// `Allow`, and 204 with `Allow` for OPTIONS.
pub fn own_outcome(outcome: &Outcome) -> Response<Body> {
    match outcome {
        Outcome::Response(_) | Outcome::NotFound | Outcome::NoErrorPage => {
            plain(StatusCode::NOT_FOUND, "404 Not Found\n".into())
        }
        Outcome::MethodNotAllowed { allow } => {
            let mut r = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "405 Method Not Allowed\n".into(),
            );
            set_allow(&mut r, allow);
            r
        }
        Outcome::Options { allow } => {
            let mut r = Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Body::empty())
                .expect("valid response");
            set_allow(&mut r, allow);
            r
        }
    }
}

pub fn set_allow(response: &mut Response<Body>, allow: &[String]) {
    if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
}

/// HEAD: the same status and headers as GET, with the length GET's body would have had.
pub fn without_body(response: Response<Body>) -> Response<Body> {
    use axum::body::HttpBody;
    let (mut parts, body) = response.into_parts();
    let bodiless = matches!(
        parts.status,
        StatusCode::NOT_MODIFIED | StatusCode::NO_CONTENT
    );
    if let Some(length) = body.size_hint().exact().filter(|_| !bodiless) {
        parts
            .headers
            .entry(header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(length));
    }
    Response::from_parts(parts, Body::empty())
}

/// The app's response as HTTP. State writes were committed (and the session is set) by the
/// pipeline; files and folders are served by [`static_files`].
pub async fn response(
    value: ResponseValue,
    asked: &Asked<'_>,
    file_roots: &[PathBuf],
) -> Response<Body> {
    let ResponseValue {
        status,
        headers,
        body,
        writes: _,
        session: _,
    } = value;
    let (default_type, body): (&str, Body) = match body {
        ResponseBody::Text(text) => ("text/html; charset=utf-8", Body::from(text)),
        ResponseBody::Json(json) => {
            let text = serde_json::to_string(&json).expect("JSON values serialise");
            ("application/json", Body::from(text))
        }
        ResponseBody::Redirect(location) => {
            let mut r = Response::builder()
                .status(status)
                .header(header::LOCATION, location);
            for (name, value) in headers {
                r = r.header(name, value);
            }
            return r
                .body(Body::empty())
                .unwrap_or_else(|e| bad_response(format!("invalid redirect: {e}")));
        }
        ResponseBody::File(path) => {
            let own_status = (status != StatusCode::OK).then_some(status);
            let served = static_files::file(&path, own_status, asked, file_roots).await;
            return with_headers(served, headers);
        }
        ResponseBody::Folder(folder) => {
            let served = static_files::folder(&folder, asked, file_roots).await;
            return with_headers(served, headers);
        }
    };
    // 204 and 304 carry no body and so no length or type of one (outcome checked that the
    // handler gave none).
    let bodiless = outcome::has_no_body(status);
    let mut response = Response::new(if bodiless { Body::empty() } else { body });
    *response.status_mut() = status;
    if !bodiless {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(default_type));
    }
    with_headers(response, headers)
}

/// The app's headers over nixweb's: one the app gives replaces nixweb's of that name
/// (several of one name are all kept). Framing headers never come from the app (outcome
/// refuses them). A file that could not be served keeps nixweb's 404 as it is.
fn with_headers(
    mut response: Response<Body>,
    headers: Vec<(HeaderName, HeaderValue)>,
) -> Response<Body> {
    if response.status() == StatusCode::NOT_FOUND && !response.headers().contains_key(header::ETAG)
    {
        return response;
    }
    let map = response.headers_mut();
    let mut replaced = std::collections::HashSet::new();
    for (name, value) in headers {
        if replaced.insert(name.clone()) {
            map.remove(&name);
        }
        map.append(name, value);
    }
    response
}

fn bad_response(why: String) -> Response<Body> {
    tracing::error!(target: "nixweb::request", "cannot build the response: {why}");
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        "500 Internal Server Error\n".into(),
    )
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .expect("valid response")
}

fn html(status: StatusCode, page: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(page))
        .expect("valid response")
}

/// The `--dev` error page: the message, where it happened, and the source around it.
fn dev_error_page(failure: &Failure, id: &str, traces: &str) -> String {
    let (place, failure) = match failure {
        Failure::InApp { place, failure } => (Some(place), failure.inner()),
        other => (None, other),
    };
    let (title, message, location) = match failure {
        Failure::Engine(EngineError::Eval { message, location }) => {
            ("Evaluation failed", message.clone(), location.clone())
        }
        Failure::InvalidResponse(e) => (
            "The handler returned an invalid response",
            e.0.clone(),
            None,
        ),
        other => ("Request failed", other.to_string(), None),
    };
    let location = location.or_else(|| place.and_then(Place::location));
    let place = place
        .map(|p| format!("<p class=at>in {}</p>", escape(&p.to_string())))
        .unwrap_or_default();
    let source = location.as_ref().map(source_excerpt).unwrap_or_default();
    let at = location
        .map(|l| {
            format!(
                "<p class=at>{}:{}:{}</p>",
                escape(&l.file.display().to_string()),
                l.line,
                l.column
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html><head><meta charset=utf-8><title>500 {title}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}\
         .hl{{background:#fdd;display:inline-block;width:100%}}.at{{font-family:monospace}}</style></head>\
         <body><h1>{title}</h1>{place}{at}<pre>{}</pre>{source}{traces}<p>request id: {id} · shown because nixweb runs with --dev</p></body></html>\n",
        escape(&message)
    )
}

/// The request's `builtins.trace` output, for its `--dev` error page ("" when none).
fn trace_section(traces: &nixweb_app::trace::Traces) -> String {
    let kept = traces.kept();
    if kept.is_empty() {
        return String::new();
    }
    let mut section = String::from("<h2>Trace output</h2><pre class=trace>");
    for message in &kept {
        section.push_str(&escape(message));
        section.push('\n');
    }
    section.push_str("</pre>");
    let dropped = traces.dropped();
    if dropped.bytes > 0 {
        section.push_str(&format!(
            "<p>{} more bytes ({} more messages) not shown: a request keeps {} bytes of trace output.</p>",
            dropped.bytes,
            dropped.messages,
            traces.limit()
        ));
    }
    section
}

/// Three lines either side of the error, the error's line marked, a caret under its column.
fn source_excerpt(location: &SourceLocation) -> String {
    let Ok(text) = std::fs::read_to_string(&location.file) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let first = location.line.saturating_sub(4);
    let last = (location.line + 3).min(lines.len());
    let mut out = String::from("<pre class=source>");
    for (index, line) in lines.iter().enumerate().take(last).skip(first) {
        let number = index + 1;
        let row = format!("{number:>5} | {}", escape(line));
        if number == location.line {
            out.push_str(&format!("<span class=hl>{row}</span>\n"));
            out.push_str(&format!(
                "      | {}^\n",
                " ".repeat(location.column.saturating_sub(1))
            ));
        } else {
            out.push_str(&row);
            out.push('\n');
        }
    }
    out.push_str("</pre>");
    out
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn text(response: Response<Body>) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn eval_errors_are_private_unless_dev() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("default.nix");
        std::fs::write(&file, "{\n  GET = throw \"boom\";\n}\n").unwrap();
        let err = Failure::Engine(EngineError::Eval {
            message: "error: boom".into(),
            location: Some(SourceLocation {
                file: file.clone(),
                line: 2,
                column: 9,
            }),
        });
        let public = failure(&err, "abc", false);
        assert_eq!(public.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = text(public).await;
        assert!(
            body.contains("request id: abc") && !body.contains("boom"),
            "{body}"
        );

        let dev = text(failure(&err, "abc", true)).await;
        assert!(dev.contains("error: boom"), "{dev}");
        assert!(dev.contains(&format!("{}:2:9", file.display())), "{dev}");
        assert!(dev.contains("GET = throw &quot;boom&quot;;"), "{dev}");
    }

    #[tokio::test]
    async fn queue_full_says_when_to_retry() {
        let r = failure(&Failure::QueueFull, "x", false);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }

    fn asked() -> Asked<'static> {
        static URI: std::sync::OnceLock<http::Uri> = std::sync::OnceLock::new();
        static HEADERS: std::sync::OnceLock<http::HeaderMap> = std::sync::OnceLock::new();
        Asked {
            method: &http::Method::GET,
            uri: URI.get_or_init(|| "/a.css".parse().unwrap()),
            headers: HEADERS.get_or_init(http::HeaderMap::new),
        }
    }

    #[tokio::test]
    async fn files_outside_the_roots_answer_like_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.css"), "b{}").unwrap();
        let roots = vec![dir.path().to_owned()];
        let ok = response(
            ResponseValue {
                status: StatusCode::OK,
                headers: vec![],
                body: ResponseBody::File(dir.path().join("a.css")),
                writes: None,
                session: Default::default(),
            },
            &asked(),
            &roots,
        )
        .await;
        assert_eq!(
            ok.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        assert_eq!(text(ok).await, "b{}");
        let outside = ResponseValue {
            status: StatusCode::OK,
            headers: vec![],
            body: ResponseBody::File("/etc/passwd".into()),
            writes: None,
            session: Default::default(),
        };
        let outside = response(outside, &asked(), &roots).await;
        assert_eq!(outside.status(), StatusCode::NOT_FOUND);
        let outside = text(outside).await;
        let missing = ResponseValue {
            status: StatusCode::OK,
            headers: vec![],
            body: ResponseBody::File(dir.path().join("nope")),
            writes: None,
            session: Default::default(),
        };
        let missing = response(missing, &asked(), &roots).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(text(missing).await, outside, "no oracle in the body either");
    }
}
