//! `nixweb request`: an HTTP request described with curl's flags, and the response printed
//! as `curl -i` prints it.

use anyhow::{Context, Result};
use axum::body::Body;
use http::header::{HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

/// What the command line says about the request.
pub struct RequestArgs<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [String],
    pub headers: &'a [String],
    /// `-d`: form data, as `curl -d` sends it.
    pub data: &'a [String],
    /// `--json`: a JSON body, as `curl --json` sends it.
    pub json: &'a [String],
}

pub fn build(args: &RequestArgs) -> Result<http::Request<Body>> {
    let method: http::Method = args
        .method
        .to_ascii_uppercase()
        .parse()
        .context("invalid method")?;
    let uri = uri(args.path, args.query);
    let mut request = http::Request::builder()
        .method(method)
        .uri(&uri)
        .body(Body::empty())
        .with_context(|| format!("invalid request for {uri}"))?;
    let headers = request.headers_mut();
    for header in args.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("header {header:?} is not 'Name: value'"))?;
        let name: http::HeaderName = name
            .trim()
            .parse()
            .with_context(|| format!("invalid header name in {header:?}"))?;
        let value = HeaderValue::from_str(value.trim())
            .with_context(|| format!("invalid header value in {header:?}"))?;
        headers.append(name, value);
    }
    let body = if !args.json.is_empty() {
        // curl --json: the pieces concatenated, as they are.
        let mut body = Vec::new();
        for piece in args.json {
            body.extend(read_piece(piece, false)?);
        }
        default_header(headers, CONTENT_TYPE, "application/json");
        default_header(headers, ACCEPT, "application/json");
        body
    } else if !args.data.is_empty() {
        // curl -d: the pieces joined with &, newlines dropped from files, sent as a form.
        let mut pieces = Vec::new();
        for piece in args.data {
            pieces.push(read_piece(piece, true)?);
        }
        default_header(headers, CONTENT_TYPE, "application/x-www-form-urlencoded");
        pieces.join(&b'&')
    } else {
        Vec::new()
    };
    if !body.is_empty() {
        headers.insert(CONTENT_LENGTH, body.len().into());
    }
    *request.body_mut() = Body::from(body);
    Ok(request)
}

/// The path with a leading slash, and each `-q key=value` appended, percent-encoded.
fn uri(path: &str, query: &[String]) -> String {
    let mut uri = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    for pair in query {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let separator = if uri.contains('?') { '&' } else { '?' };
        uri.push_str(&format!("{separator}{}={}", encode(key), encode(value)));
    }
    uri
}

fn default_header(headers: &mut http::HeaderMap, name: http::HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A body piece: the text itself, `@-` for stdin or `@FILE` for a file's contents, from
/// which `curl -d` drops carriage returns and newlines.
fn read_piece(piece: &str, drop_newlines: bool) -> Result<Vec<u8>> {
    let mut bytes = match piece.strip_prefix('@') {
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read the body from stdin")?;
            bytes
        }
        Some(file) => std::fs::read(file).with_context(|| format!("cannot read {file}"))?,
        None => return Ok(piece.as_bytes().to_vec()),
    };
    if drop_newlines {
        bytes.retain(|&b| b != b'\n' && b != b'\r');
    }
    Ok(bytes)
}

/// Prints the status line, the headers and the body to stdout, and ends with a newline on a
/// terminal so the prompt does not follow the body. Exit code 0 for 2xx and 3xx.
pub async fn print(response: http::Response<Body>) -> Result<ExitCode> {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "HTTP/1.1 {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )?;
    for (name, value) in &parts.headers {
        writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
    }
    writeln!(out)?;
    out.write_all(&body)?;
    if std::io::stdout().is_terminal() && !body.is_empty() && !body.ends_with(b"\n") {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if status.is_success() || status.is_redirection() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args<'a>(headers: &'a [String], data: &'a [String], json: &'a [String]) -> RequestArgs<'a> {
        RequestArgs {
            method: "post",
            path: "echo",
            query: &[],
            headers,
            data,
            json,
        }
    }

    async fn body(request: http::Request<Body>) -> String {
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn data_is_a_form_unless_a_header_says_otherwise() {
        let data = ["a=1".to_owned(), "b=2".to_owned()];
        let request = build(&args(&[], &data, &[])).unwrap();
        assert_eq!(request.uri(), "/echo");
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(
            request.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(request.headers()[CONTENT_LENGTH], "7");
        assert_eq!(body(request).await, "a=1&b=2");

        let typed = ["Content-Type: text/plain".to_owned()];
        let request = build(&args(&typed, &data[..1], &[])).unwrap();
        assert_eq!(request.headers()[CONTENT_TYPE], "text/plain");
        assert_eq!(request.headers().get_all(CONTENT_TYPE).iter().count(), 1);
    }

    #[tokio::test]
    async fn files_lose_their_newlines_for_data_but_not_for_json() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("body");
        std::fs::write(&file, "{\n  \"n\": 1\r\n}\n").unwrap();
        let at = [format!("@{}", file.display())];
        assert_eq!(
            body(build(&args(&[], &at, &[])).unwrap()).await,
            "{  \"n\": 1}"
        );
        let request = build(&args(&[], &[], &at)).unwrap();
        assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(request.headers()[ACCEPT], "application/json");
        assert_eq!(body(request).await, "{\n  \"n\": 1\r\n}\n");
        let missing = [format!("@{}", dir.path().join("nope").display())];
        assert!(build(&args(&[], &missing, &[])).is_err());
    }

    #[test]
    fn queries_are_encoded_and_appended() {
        let query = ["name=Ada Lovelace".to_owned(), "x".to_owned()];
        assert_eq!(uri("/a?b=1", &query), "/a?b=1&name=Ada%20Lovelace&x=");
        assert_eq!(uri("a", &query[..1]), "/a?name=Ada%20Lovelace");
    }
}
