//! HTTP request → the request value (`req`) that handlers receive.
//!
//! [`Request`] holds the value's fields, typed; each engine makes its Nix value from them
//! (the Nix engine through JSON text and `builtins.fromJSON`, the embedded engine directly,
//! with no text in between).
//! Anything the client got wrong (a body that is not UTF-8, invalid JSON under a JSON
//! content type, a bad path) is a [`BadRequest`], answered with 400 before any evaluation.

use http::{header, HeaderMap, Method, Uri};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The client sent something nixweb will not hand to the app; answered with a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// What nixweb knows about one request, before it becomes a Nix value.
pub struct RequestParts<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub remote_addr: Option<IpAddr>,
    /// Unique per request; also sent back in `X-Request-Id` and written to the log.
    pub id: &'a str,
    /// Unix seconds when the request arrived.
    pub time: u64,
}

/// The request attrset described in docs/app-contract.md, field by field, owned so it can
/// travel to an evaluation thread. Maps are sorted, as Nix sorts attribute names anyway.
/// Each engine turns it into its Nix value: the Nix engine through JSON text
/// ([`Request::to_json`]), the embedded engine directly.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub path: String,
    pub segments: Vec<String>,
    pub query: BTreeMap<String, String>,
    pub query_all: BTreeMap<String, Vec<String>>,
    pub headers: BTreeMap<String, String>,
    pub cookies: BTreeMap<String, String>,
    pub body: String,
    pub json: Value,
    pub form: BTreeMap<String, String>,
    pub form_all: BTreeMap<String, Vec<String>>,
    /// Always empty here: the router fills it from the route's captures.
    pub params: BTreeMap<String, String>,
    pub id: String,
    pub time: u64,
    pub remote_addr: Option<String>,
    /// [`TlsInfo`] as JSON for a request over TLS, null otherwise; the server sets it
    /// ([`Request::set_tls`]) from the connection, which the request's parts do not know.
    pub tls: Value,
    /// The signed session's data (docs/web.md), `{}` without one; the server fills it.
    pub session: Value,
    /// The token forms send back when CSRF checks are on (`_csrf`), else null.
    pub csrf_token: Option<String>,
    /// The files of a `multipart/form-data` body, `[]` without one.
    pub files: Value,
    /// For the app's own error pages: `{ status; message; allow; }`; null otherwise.
    pub error: Value,
    /// Which session `session` belongs to; not part of the value (the response cache keys
    /// a result that read `session` by it, so no other session is ever given it).
    #[serde(skip)]
    pub session_id: Option<String>,
}

/// What the TLS layer knows about a connection: `req.tls` (docs/app-contract.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsInfo {
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    /// The cipher suite, as IANA names it: "TLS13_AES_256_GCM_SHA384".
    pub cipher: String,
    /// The protocol ALPN chose ("h2", "http/1.1"); None if the client offered none.
    pub alpn: Option<String>,
    /// The host name the client asked for (SNI), if it gave one.
    pub server_name: Option<String>,
    /// The client's certificate, verified against `--tls-client-ca`; None if it sent none.
    pub client_cert: Option<ClientCert>,
}

/// A verified client certificate, as handlers see it in `req.tls.clientCert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCert {
    /// The subject's distinguished name, RFC 4514 style: "CN=alice, O=Example".
    pub subject: String,
    /// The subject's first common name (CN), the usual user or host name.
    pub common_name: Option<String>,
    pub issuer: String,
    /// The serial number in lower-case hex.
    pub serial: String,
    /// SHA-256 of the certificate's DER bytes, lower-case hex.
    pub fingerprint: String,
    /// Validity, in Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// Subject alternative names, by kind.
    pub san: SubjectAltNames,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubjectAltNames {
    pub dns: Vec<String>,
    pub email: Vec<String>,
    pub uri: Vec<String>,
    /// IP addresses, written as usual ("10.0.0.1", "::1").
    pub ip: Vec<String>,
}

impl Request {
    /// Marks the request as arrived over TLS.
    pub fn set_tls(&mut self, tls: &TlsInfo) {
        self.tls = serde_json::to_value(tls).expect("TLS facts serialise");
    }

    /// Builds the request value, or says what the client got wrong.
    pub fn new(parts: &RequestParts) -> Result<Request, BadRequest> {
        let path = parts.uri.path();
        let segments = crate::path::segments(path)?;
        let (query, query_all) = pairs_to_attrs(parts.uri.query().unwrap_or("").as_bytes());
        let content_type = media_type(parts.headers);
        // A multipart form may hold binary files: its parts are read by crate::multipart.
        let body = if crate::multipart::is_multipart(&content_type) {
            ""
        } else {
            std::str::from_utf8(parts.body)
                .map_err(|_| BadRequest("the request body is not UTF-8 text".into()))?
        };

        let json = if is_json(&content_type) && !body.trim().is_empty() {
            serde_json::from_str(body)
                .map_err(|e| BadRequest(format!("the request body is not valid JSON: {e}")))?
        } else {
            Value::Null
        };
        let (form, form_all) = if content_type == "application/x-www-form-urlencoded" {
            pairs_to_attrs(body.as_bytes())
        } else {
            Default::default()
        };
        Ok(Request {
            method: parts.method.as_str().to_owned(),
            path: path.to_owned(),
            segments,
            query,
            query_all,
            headers: header_attrs(parts.headers),
            cookies: cookies(parts.headers),
            body: body.to_owned(),
            json,
            form,
            form_all,
            params: BTreeMap::new(),
            id: parts.id.to_owned(),
            time: parts.time,
            remote_addr: parts.remote_addr.map(|ip| ip.to_string()),
            tls: Value::Null,
            session: Value::Object(Default::default()),
            csrf_token: None,
            files: Value::Array(vec![]),
            error: Value::Null,
            session_id: None,
        })
    }

    /// Adds a form's fields (in order; the first of a name is `form`'s) to `form` and
    /// `formAll`.
    pub fn add_form_fields(&mut self, fields: Vec<(String, String)>) {
        for (key, value) in fields {
            self.form
                .entry(key.clone())
                .or_insert_with(|| value.clone());
            self.form_all.entry(key).or_default().push(value);
        }
    }

    /// The request attrset as JSON text, for `builtins.fromJSON`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("request attributes serialise")
    }
}

/// Decodes `a=1&b=2&a=3` into (first value of each key, every value of each key).
/// The first value wins, as in Flask's `request.args`; `queryAll`/`formAll` keep them all.
fn pairs_to_attrs(encoded: &[u8]) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut first = BTreeMap::new();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(encoded) {
        first
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
        all.entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    (first, all)
}

/// Header names in lower case; a header sent several times becomes one comma-joined value
/// (RFC 9110 §5.3), except `cookie`, which HTTP/2 splits and joins with "; ".
fn header_attrs(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    for name in headers.keys() {
        let separator = if name == header::COOKIE { "; " } else { ", " };
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(separator);
        attrs.insert(name.as_str().to_owned(), joined);
    }
    attrs
}

fn cookies(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut jar = BTreeMap::new();
    for value in headers.get_all(header::COOKIE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for pair in text.split(';') {
            if let Some((name, value)) = pair.split_once('=') {
                if name.trim() == crate::cookies::SESSION_COOKIE {
                    continue;
                }
                let value = value.trim().trim_matches('"');
                let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                jar.entry(name.trim().to_owned())
                    .or_insert_with(|| decoded.into_owned());
            }
        }
    }
    jar
}

/// The media type of the body, lower-cased, without parameters such as `charset`.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn build(
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Value, BadRequest> {
        let method: Method = method.parse().unwrap();
        let uri: Uri = uri.parse().unwrap();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Request::new(&RequestParts {
            method: &method,
            uri: &uri,
            headers: &map,
            body: body.as_bytes(),
            remote_addr: Some("127.0.0.1".parse().unwrap()),
            id: "req-1",
            time: 1_700_000_000,
        })
        .map(|request| serde_json::from_str(&request.to_json()).expect("the request is JSON"))
    }

    #[test]
    fn carries_every_documented_field() {
        let req = build(
            "GET",
            "/test/my/hello?name=Ada&x=1&x=2",
            &[("X-Thing", "a")],
            "",
        )
        .unwrap();
        assert_eq!(req["method"], "GET");
        assert_eq!(req["path"], "/test/my/hello");
        assert_eq!(req["segments"], serde_json::json!(["test", "my", "hello"]));
        assert_eq!(req["query"], serde_json::json!({"name": "Ada", "x": "1"}));
        assert_eq!(req["queryAll"]["x"], serde_json::json!(["1", "2"]));
        assert_eq!(req["headers"]["x-thing"], "a");
        assert_eq!(req["body"], "");
        assert_eq!(req["json"], Value::Null);
        assert_eq!(req["params"], serde_json::json!({}));
        assert_eq!(req["id"], "req-1");
        assert_eq!(req["time"], 1_700_000_000u64);
        assert_eq!(req["remoteAddr"], "127.0.0.1");
        assert_eq!(req["tls"], Value::Null, "plain HTTP");
    }

    #[test]
    fn tls_facts_are_camel_case() {
        let mut request = Request::new(&RequestParts {
            method: &Method::GET,
            uri: &"/".parse().unwrap(),
            headers: &HeaderMap::new(),
            body: b"",
            remote_addr: None,
            id: "x",
            time: 0,
        })
        .unwrap();
        request.set_tls(&TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
            alpn: Some("h2".into()),
            server_name: None,
            client_cert: Some(ClientCert {
                subject: "CN=alice".into(),
                common_name: Some("alice".into()),
                issuer: "CN=ca".into(),
                serial: "01".into(),
                fingerprint: "ab".into(),
                not_before: 1,
                not_after: 2,
                san: SubjectAltNames {
                    email: vec!["a@example.org".into()],
                    ..SubjectAltNames::default()
                },
            }),
        });
        let value: Value = serde_json::from_str(&request.to_json()).unwrap();
        let tls = &value["tls"];
        assert_eq!(tls["serverName"], Value::Null);
        assert_eq!(tls["clientCert"]["commonName"], "alice");
        assert_eq!(tls["clientCert"]["notAfter"], 2);
        assert_eq!(tls["clientCert"]["san"]["email"][0], "a@example.org");
        assert_eq!(tls["clientCert"]["san"]["dns"], serde_json::json!([]));
    }

    #[test]
    fn query_values_are_decoded() {
        let req = build("GET", "/?q=a+b%20c&empty=&flag", &[], "").unwrap();
        assert_eq!(
            req["query"],
            serde_json::json!({"q": "a b c", "empty": "", "flag": ""})
        );
    }

    #[test]
    fn repeated_headers_are_joined() {
        let req = build("GET", "/", &[("Accept", "a"), ("accept", "b")], "").unwrap();
        assert_eq!(req["headers"]["accept"], "a, b");
    }

    #[test]
    fn cookies_are_parsed() {
        let req = build("GET", "/", &[("Cookie", "a=1; b=\"two\"; c=x%20y")], "").unwrap();
        assert_eq!(
            req["cookies"],
            serde_json::json!({"a": "1", "b": "two", "c": "x y"})
        );
    }

    #[test]
    fn json_bodies_are_parsed_and_invalid_ones_refused() {
        let ct = [("Content-Type", "application/json; charset=utf-8")];
        let req = build("POST", "/", &ct, r#"{"n": [1, 2]}"#).unwrap();
        assert_eq!(req["json"], serde_json::json!({"n": [1, 2]}));
        assert!(build("POST", "/", &ct, "{nope").is_err());
        let vendor = [("Content-Type", "application/vnd.api+json")];
        assert_eq!(
            build("POST", "/", &vendor, "[1]").unwrap()["json"],
            serde_json::json!([1])
        );
        // Without a JSON content type the body stays a string and is not parsed.
        assert_eq!(
            build("POST", "/", &[], "{nope").unwrap()["json"],
            Value::Null
        );
    }

    #[test]
    fn form_bodies_are_parsed() {
        let ct = [("Content-Type", "application/x-www-form-urlencoded")];
        let req = build("POST", "/", &ct, "code=int+main%28%29&lang=c&lang=cpp").unwrap();
        assert_eq!(req["form"]["code"], "int main()");
        assert_eq!(req["form"]["lang"], "c");
        assert_eq!(req["formAll"]["lang"], serde_json::json!(["c", "cpp"]));
    }

    #[test]
    fn binary_bodies_are_refused() {
        let method = Method::POST;
        let uri: Uri = "/".parse().unwrap();
        let result = Request::new(&RequestParts {
            method: &method,
            uri: &uri,
            headers: &HeaderMap::new(),
            body: &[0xff, 0xfe],
            remote_addr: None,
            id: "x",
            time: 0,
        });
        assert!(result.is_err());
    }
}
