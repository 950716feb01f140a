//! What the router returned → a checked [`Outcome`].
//!
//! The router (router.nix) reduces whatever a handler returned to plain data; this module
//! decides whether that data is a valid response and, when it is not, says precisely what
//! the handler returned instead, so the app author can fix it from the 500 page or the log.

use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

/// The result of routing one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(ResponseValue),
    /// No route matches the path: 404.
    NotFound,
    /// The route exists but does not define the method: 405 with `Allow`.
    MethodNotAllowed {
        allow: Vec<String>,
    },
    /// OPTIONS on a route that does not define it: 204 with `Allow`.
    Options {
        allow: Vec<String>,
    },
    /// Asked for the app's own error page, the route tree has none for that status.
    NoErrorPage,
}

/// A valid response, before it becomes HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseValue {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: ResponseBody,
    /// The state writes the handler asked for (`db = { set = …; delete = …; }`).
    pub writes: Option<StateWrites>,
    /// What the handler did with the session (`session = { … }` or `session = null`).
    pub session: SessionChange,
}

/// A response's effect on the signed session cookie (docs/web.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SessionChange {
    /// No `session` attribute: the session stays as it is.
    #[default]
    Keep,
    /// `session = { … }`: the session's data from now on.
    Set(Value),
    /// `session = null`: the session ends.
    Clear,
}

/// Writes to the state store, applied atomically with the response (see docs/state.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateWrites {
    pub set: Vec<(String, Value)>,
    pub delete: Vec<String>,
}

impl StateWrites {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty()
    }
}

/// Longest state key, in bytes.
pub const MAX_KEY_LEN: usize = 512;

/// Checks a state key: 1 to [`MAX_KEY_LEN`] printable ASCII characters, no spaces. The
/// router checks the same rule on the Nix side, for reads.
pub fn check_state_key(key: &str) -> Result<(), InvalidResponse> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        let shown: String = key.chars().take(80).collect();
        return Err(InvalidResponse(format!(
            "state key {shown:?} is invalid: a key is 1 to {MAX_KEY_LEN} printable ASCII characters without spaces ({} bytes given)",
            key.len()
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// `body = "…"` or a bare string; `text/html; charset=utf-8` unless a header says otherwise.
    Text(String),
    /// `json = …`, serialised; `application/json` unless a header says otherwise.
    Json(Value),
    /// `file = ./x` or a bare path: the file's bytes, typed from its extension.
    File(PathBuf),
    /// `redirect = "…"`: a `Location` header and no body.
    Redirect(String),
    /// `folder = { root; path; … }` (from `<nixweb/static.nix>`): a file of a static folder.
    Folder(Folder),
}

impl ResponseBody {
    /// Whether the answer is a file's bytes (`file` or `folder`) rather than one the
    /// handler made.
    pub fn is_file(&self) -> bool {
        matches!(self, ResponseBody::File(_) | ResponseBody::Folder(_))
    }
}

/// A static folder and the path asked for below it.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    pub root: PathBuf,
    /// The URL's segments below the folder, already checked (no `.`, `..`, `/` or NUL).
    pub path: Vec<String>,
    /// Answer a folder without `index.html` with a list of its files.
    pub listing: bool,
    /// Serve names that start with a dot.
    pub hidden: bool,
}

/// The handler returned something that is not a response; answered with a 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid response: {0}")]
pub struct InvalidResponse(pub String);

/// The route table, from the router's "routes" mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub pattern: String,
    pub methods: Vec<String>,
}

/// Checks the router's output in "handle" mode.
pub fn parse_outcome(value: &Value) -> Result<Outcome, InvalidResponse> {
    match value["outcome"].as_str() {
        Some("notFound") => Ok(Outcome::NotFound),
        Some("noErrorPage") => Ok(Outcome::NoErrorPage),
        Some("methodNotAllowed") => Ok(Outcome::MethodNotAllowed {
            allow: strings(&value["allow"]),
        }),
        Some("options") => Ok(Outcome::Options {
            allow: strings(&value["allow"]),
        }),
        Some("response") => parse_response(&value["response"]).map(Outcome::Response),
        _ => Err(InvalidResponse(format!(
            "the router returned an unexpected value: {value}"
        ))),
    }
}

/// Checks the router's output in "routes" mode.
pub fn parse_routes(value: &Value) -> Result<Vec<Route>, InvalidResponse> {
    let rows = value["routes"]
        .as_array()
        .ok_or_else(|| InvalidResponse(format!("the router returned no route table: {value}")))?;
    Ok(rows
        .iter()
        .map(|row| Route {
            pattern: row["pattern"].as_str().unwrap_or_default().to_owned(),
            methods: strings(&row["methods"]),
        })
        .collect())
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_response(described: &Value) -> Result<ResponseValue, InvalidResponse> {
    let fail = |msg: String| Err(InvalidResponse(msg));
    match described["kind"].as_str() {
        Some("string") => Ok(ResponseValue {
            status: StatusCode::OK,
            headers: vec![],
            body: ResponseBody::Text(described["body"].as_str().unwrap_or_default().to_owned()),
            writes: None,
            session: SessionChange::Keep,
        }),
        Some("path") => Ok(ResponseValue {
            status: StatusCode::OK,
            headers: vec![],
            body: ResponseBody::File(PathBuf::from(
                described["file"].as_str().unwrap_or_default(),
            )),
            writes: None,
            session: SessionChange::Keep,
        }),
        Some("attrs") => parse_attrs_response(described),
        Some("invalid") => fail(format!(
            "a handler must return a string, a path or an attribute set, but it returned {}",
            nix_type_phrase(described["type"].as_str().unwrap_or("?"))
        )),
        _ => fail(format!(
            "the router described the response oddly: {described}"
        )),
    }
}

fn parse_attrs_response(d: &Value) -> Result<ResponseValue, InvalidResponse> {
    let fail = |msg: String| Err(InvalidResponse(msg));
    let unknown = strings(&d["unknown"]);
    if !unknown.is_empty() {
        let named: Vec<String> = unknown
            .iter()
            .map(|name| match did_you_mean(name, RESPONSE_ATTRIBUTES) {
                Some(known) => format!("`{name}` (did you mean `{known}`?)"),
                None => format!("`{name}`"),
            })
            .collect();
        return fail(format!(
            "the response has unknown attribute(s) {}; a response may have status, headers, cookies, session, db and one of body, json, file, redirect, folder",
            named.join(", ")
        ));
    }
    let status = match &d["status"] {
        Value::Null => None,
        Value::Number(n) => match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
            Some(code) if (200..=999).contains(&code) => {
                Some(StatusCode::from_u16(code).expect("checked range"))
            }
            Some(code) if (100..200).contains(&code) => {
                return fail(format!(
                    "status {code} is informational (1xx), which only HTTP itself sends before a response; a handler's status is from 200 to 999"
                ))
            }
            _ => {
                return fail(format!(
                    "status must be an integer from 200 to 999, not {n}"
                ))
            }
        },
        other => {
            return fail(format!(
                "status must be an integer, not {}",
                type_name(other)
            ))
        }
    };
    let present = strings(&d["present"]);
    let mut headers = parse_headers(&d["headers"])?;
    headers.extend(crate::cookies::set_cookie_headers(&d["cookies"])?);
    let session = parse_session(&d["session"])?;
    // 204 and 304 have no body; such a response may leave them all out.
    let bodiless = status.is_some_and(has_no_body);
    if bodiless && present.is_empty() {
        return Ok(ResponseValue {
            status: status.expect("bodiless has a status"),
            headers,
            body: ResponseBody::Text(String::new()),
            writes: parse_writes(&d["db"])?,
            session,
        });
    }
    if present.len() != 1 {
        return fail(if present.is_empty() {
            "the response has none of body, json, file, redirect, folder; it needs exactly one"
                .into()
        } else {
            format!(
                "the response has {}; it needs exactly one of them",
                quote_list(&present)
            )
        });
    }
    let (body, default_status) = match present[0].as_str() {
        "body" => match &d["body"] {
            Value::String(s) => (ResponseBody::Text(s.clone()), StatusCode::OK),
            other => return fail(format!("body must be a string, not {}", type_name(other))),
        },
        "json" => (ResponseBody::Json(d["json"].clone()), StatusCode::OK),
        "file" => match &d["file"] {
            Value::String(s) if s.starts_with('/') => {
                (ResponseBody::File(PathBuf::from(s)), StatusCode::OK)
            }
            Value::String(s) => {
                return fail(format!(
                    "file must be a path or an absolute path string, not {s:?}"
                ))
            }
            other => return fail(format!("file must be a path, not {}", type_name(other))),
        },
        "redirect" => match &d["redirect"] {
            Value::String(s) => (ResponseBody::Redirect(s.clone()), StatusCode::FOUND),
            other => {
                return fail(format!(
                    "redirect must be a string, not {}",
                    type_name(other)
                ))
            }
        },
        "folder" => (
            ResponseBody::Folder(parse_folder(&d["folder"])?),
            StatusCode::OK,
        ),
        other => return fail(format!("unexpected response attribute {other}")),
    };
    let status = status.unwrap_or(default_status);
    if has_no_body(status) {
        check_no_body(status, &present[0], &body)?;
    }
    let writes = parse_writes(&d["db"])?;
    Ok(ResponseValue {
        status,
        headers,
        body,
        writes,
        session,
    })
}

/// `session = …` as the router describes it: null when absent, `{ value; }` when given.
fn parse_session(value: &Value) -> Result<SessionChange, InvalidResponse> {
    match value {
        Value::Null => Ok(SessionChange::Keep),
        Value::Object(change) => match change.get("value") {
            None | Some(Value::Null) => Ok(SessionChange::Clear),
            Some(data @ Value::Object(_)) => Ok(SessionChange::Set(data.clone())),
            Some(other) => Err(InvalidResponse(format!(
                "session must be an attribute set (or null to end it), not {}",
                type_name(other)
            ))),
        },
        other => Err(InvalidResponse(format!(
            "the router described the session oddly: {other}"
        ))),
    }
}

/// `folder = { root = ./public; path = [ … ]; listing; hidden; }`, as the router describes it.
fn parse_folder(value: &Value) -> Result<Folder, InvalidResponse> {
    let fail = |msg: String| Err(InvalidResponse(msg));
    let Value::Object(folder) = value else {
        return fail(format!(
            "folder must be {{ root = ./folder; path = [ … ]; }}, not {}",
            type_name(value)
        ));
    };
    let root = match folder.get("root") {
        Some(Value::String(s)) if s.starts_with('/') => PathBuf::from(s),
        Some(other) => {
            return fail(format!(
                "folder.root must be a path or an absolute path string, not {other}"
            ))
        }
        None => return fail("folder needs a root".into()),
    };
    let path = match folder.get("path") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) if crate::path::is_plain_segment(s) => Ok(s.clone()),
                other => Err(InvalidResponse(format!(
                    "folder.path must list plain file names (no \"..\", \"/\" or NUL), not {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return fail(format!(
                "folder.path must be a list of names, not {}",
                type_name(other)
            ))
        }
    };
    let flag = |name: &str| match folder.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(InvalidResponse(format!(
            "folder.{name} must be true or false, not {}",
            type_name(other)
        ))),
    };
    Ok(Folder {
        root,
        path,
        listing: flag("listing")?,
        hidden: flag("hidden")?,
    })
}

/// 204 No Content and 304 Not Modified never carry a body (RFC 9110 §15.3.5, §15.4.5).
pub fn has_no_body(status: StatusCode) -> bool {
    status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}

/// A handler that gives a 204 or 304 a body made a mistake: sending the body would break
/// the framing, dropping it silently would hide the mistake.
fn check_no_body(
    status: StatusCode,
    given: &str,
    body: &ResponseBody,
) -> Result<(), InvalidResponse> {
    let size = match body {
        ResponseBody::Text(text) if text.is_empty() => return Ok(()),
        ResponseBody::Redirect(_) => return Ok(()),
        ResponseBody::Text(text) if text.len() == 1 => " (1 byte)".to_owned(),
        ResponseBody::Text(text) => format!(" ({} bytes)", text.len()),
        ResponseBody::Json(_) | ResponseBody::File(_) | ResponseBody::Folder(_) => String::new(),
    };
    Err(InvalidResponse(format!(
        "a {} response has no body, but the handler gave it `{given}`{size}; leave `{given}` out or use another status",
        status.as_u16()
    )))
}

fn parse_writes(value: &Value) -> Result<Option<StateWrites>, InvalidResponse> {
    if value.is_null() {
        return Ok(None);
    }
    let mut writes = StateWrites::default();
    if let Some(set) = value["set"].as_object() {
        for (key, value) in set {
            check_state_key(key)?;
            writes.set.push((key.clone(), value.clone()));
        }
    }
    for key in value["delete"].as_array().into_iter().flatten() {
        let key = key
            .as_str()
            .ok_or_else(|| InvalidResponse("db.delete must list strings".into()))?;
        check_state_key(key)?;
        writes.delete.push(key.to_owned());
    }
    Ok(Some(writes))
}

fn parse_headers(value: &Value) -> Result<Vec<(HeaderName, HeaderValue)>, InvalidResponse> {
    let Value::Object(map) = value else {
        return Err(InvalidResponse(format!(
            "headers must be an attribute set, not {}",
            type_name(value)
        )));
    };
    let mut headers = Vec::new();
    for (name, value) in map {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| InvalidResponse(format!("{name:?} is not a valid header name")))?;
        if is_for_http_itself(&header_name) {
            return Err(InvalidResponse(format!(
                "header {name:?} is set by nixweb, not by handlers: it frames the response or concerns one connection only \
                 (Content-Length, Transfer-Encoding, Trailer, TE, Connection, Keep-Alive, Upgrade, Proxy-*)"
            )));
        }
        // A list gives the header several times (Set-Cookie needs that).
        let values: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        for v in values {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(InvalidResponse(format!(
                        "header {name:?} must be a string or a list of strings, not {}",
                        type_name(other)
                    )))
                }
            };
            let header_value = HeaderValue::from_str(&text).map_err(|_| {
                InvalidResponse(format!("header {name:?} has an invalid value {text:?}"))
            })?;
            headers.push((header_name.clone(), header_value));
        }
    }
    Ok(headers)
}

/// The attributes a response may have (router.nix's `responseKeys`), for suggestions.
const RESPONSE_ATTRIBUTES: &[&str] = &[
    "status", "headers", "body", "json", "file", "redirect", "folder", "db", "cookies", "session",
];

/// The known name closest to a misspelt one, if it is close enough to be what was meant:
/// at most a third of its letters changed (`statuss`, `hedaers`, `Status`).
fn did_you_mean<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    known
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(&lower, candidate), *candidate))
        .filter(|(distance, candidate)| distance * 3 <= candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Headers that frame a message or concern one hop: HTTP writes them from the response
/// nixweb builds, and one from a handler could contradict it (a `Transfer-Encoding` from
/// the app once made clients read an empty reply while the log said 200).
fn is_for_http_itself(name: &HeaderName) -> bool {
    let name = name.as_str();
    matches!(
        name,
        "content-length"
            | "transfer-encoding"
            | "trailer"
            | "te"
            | "connection"
            | "keep-alive"
            | "upgrade"
    ) || name.starts_with("proxy-")
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `builtins.typeOf` names as a phrase for messages.
fn nix_type_phrase(type_of: &str) -> String {
    match type_of {
        "int" => "an integer".into(),
        "bool" => "a Boolean".into(),
        "lambda" => "a function".into(),
        "null" => "null".into(),
        other => format!("a {other}"),
    }
}

/// Nix's names for the JSON shapes a value can take.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a Boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a set",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(present: &[&str], extra: Value) -> Value {
        let mut d = json!({
            "outcome": "response",
            "response": {"kind": "attrs", "unknown": [], "status": null, "headers": {},
                          "present": present, "body": null, "json": null, "file": null, "redirect": null,
                          "folder": null, "cookies": null, "session": null}
        });
        if let (Value::Object(resp), Value::Object(extra)) = (&mut d["response"], extra) {
            resp.extend(extra);
        }
        d
    }

    fn response(value: Value) -> ResponseValue {
        match parse_outcome(&value).unwrap() {
            Outcome::Response(r) => r,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    fn error(value: Value) -> String {
        parse_outcome(&value).unwrap_err().0
    }

    #[test]
    fn a_string_is_a_200_html_page() {
        let r =
            response(json!({"outcome": "response", "response": {"kind": "string", "body": "hi"}}));
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, ResponseBody::Text("hi".into()));
    }

    #[test]
    fn status_headers_and_each_body_kind() {
        let r = response(attrs(
            &["json"],
            json!({"json": {"a": 1}, "status": 201, "headers": {"X-A": "b", "Set-Cookie": ["a=1", "b=2"]}}),
        ));
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body, ResponseBody::Json(json!({"a": 1})));
        assert_eq!(r.headers.len(), 3);
        let r = response(attrs(&["redirect"], json!({"redirect": "/x"})));
        assert_eq!(
            (r.status, r.body),
            (StatusCode::FOUND, ResponseBody::Redirect("/x".into()))
        );
        let r = response(attrs(
            &["redirect"],
            json!({"redirect": "/x", "status": 301}),
        ));
        assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
        let r = response(attrs(&["file"], json!({"file": "/srv/a.css"})));
        assert_eq!(r.body, ResponseBody::File("/srv/a.css".into()));
    }

    #[test]
    fn state_writes_are_parsed_and_keys_checked() {
        let r = response(attrs(
            &["body"],
            json!({"body": "x", "db": {"set": {"todos/1": {"t": "a"}}, "delete": ["todos/2"]}}),
        ));
        let writes = r.writes.unwrap();
        assert_eq!(writes.set, [("todos/1".to_owned(), json!({"t": "a"}))]);
        assert_eq!(writes.delete, ["todos/2"]);
        let long = "k".repeat(MAX_KEY_LEN + 1);
        assert!(error(attrs(
            &["body"],
            json!({"body": "x", "db": {"set": {long: 1}}})
        ))
        .contains("513 bytes"));
        assert!(error(attrs(
            &["body"],
            json!({"body": "x", "db": {"set": {"a b": 1}}})
        ))
        .contains("\"a b\""));
        assert!(error(attrs(
            &["body"],
            json!({"body": "x", "db": {"delete": [""]}})
        ))
        .contains("invalid"));
    }

    #[test]
    fn informational_statuses_are_refused() {
        for code in [100, 101, 103, 199] {
            let why = error(attrs(&["body"], json!({"body": "x", "status": code})));
            assert!(why.contains("informational"), "{code}: {why}");
        }
        assert_eq!(
            response(attrs(&["body"], json!({"body": "x", "status": 200}))).status,
            StatusCode::OK
        );
    }

    #[test]
    fn framing_and_hop_by_hop_headers_are_refused() {
        for name in [
            "Transfer-Encoding",
            "content-length",
            "Connection",
            "Keep-Alive",
            "Upgrade",
            "TE",
            "Trailer",
            "Proxy-Authenticate",
            "proxy-connection",
        ] {
            let why = error(attrs(
                &["body"],
                json!({"body": "x", "headers": {name: "1"}}),
            ));
            assert!(why.contains("set by nixweb"), "{name}: {why}");
            assert!(why.contains(name), "{name}: {why}");
        }
        // Names that merely look alike are the app's to set.
        let r = response(attrs(
            &["body"],
            json!({"body": "x", "headers": {"X-Connection": "a", "Content-Type": "text/plain", "Tex": "b"}}),
        ));
        assert_eq!(r.headers.len(), 3);
    }

    #[test]
    fn no_content_and_not_modified_have_no_body() {
        for code in [204, 304] {
            let r = response(attrs(
                &[],
                json!({"status": code, "headers": {"ETag": "\"x\""}}),
            ));
            assert_eq!(r.status.as_u16(), code);
            assert_eq!(r.body, ResponseBody::Text(String::new()));
            assert_eq!(r.headers.len(), 1);
            let r = response(attrs(&["body"], json!({"status": code, "body": ""})));
            assert_eq!(r.body, ResponseBody::Text(String::new()));
            let why = error(attrs(&["body"], json!({"status": code, "body": "abc"})));
            assert!(
                why.contains(&format!("a {code} response has no body")),
                "{why}"
            );
            assert!(why.contains("`body` (3 bytes)"), "{why}");
            let why = error(attrs(&["json"], json!({"status": code, "json": null})));
            assert!(why.contains("`json`"), "{why}");
            let why = error(attrs(&["file"], json!({"status": code, "file": "/srv/x"})));
            assert!(why.contains("`file`"), "{why}");
        }
        // Other statuses still need exactly one body attribute.
        assert!(error(attrs(&[], json!({"status": 200}))).contains("none of body"));
    }

    #[test]
    fn routing_outcomes() {
        assert_eq!(
            parse_outcome(&json!({"outcome": "notFound"})).unwrap(),
            Outcome::NotFound
        );
        assert_eq!(
            parse_outcome(&json!({"outcome": "methodNotAllowed", "allow": ["GET", "HEAD"]}))
                .unwrap(),
            Outcome::MethodNotAllowed {
                allow: vec!["GET".into(), "HEAD".into()]
            }
        );
    }

    #[test]
    fn invalid_responses_say_what_was_returned() {
        assert!(error(
            json!({"outcome": "response", "response": {"kind": "invalid", "type": "int"}})
        )
        .contains("returned an integer"));
        assert!(error(attrs(&[], json!({}))).contains("none of body"));
        assert!(error(attrs(&["body", "json"], json!({"body": "x"}))).contains("`body`, `json`"));
        assert!(error(attrs(&["body"], json!({"unknown": ["bdy"]}))).contains("`bdy`"));
        let typos = error(attrs(
            &["body"],
            json!({"unknown": ["statuss", "hedaers", "Json", "colour"]}),
        ));
        for hint in [
            "`statuss` (did you mean `status`?)",
            "`hedaers` (did you mean `headers`?)",
            "`Json` (did you mean `json`?)",
        ] {
            assert!(typos.contains(hint), "no {hint:?} in {typos}");
        }
        assert!(
            typos.contains("`colour`, ") || typos.contains("`colour`;"),
            "{typos}"
        );
        assert!(!typos.contains("`colour` (did you mean"), "{typos}");
        assert!(error(attrs(&["body"], json!({"body": 3})))
            .contains("body must be a string, not an integer"));
        assert!(error(attrs(&["body"], json!({"body": "x", "status": 42}))).contains("200 to 999"));
        assert!(
            error(attrs(&["body"], json!({"body": "x", "status": "200"}))).contains("not a string")
        );
        assert!(error(attrs(
            &["body"],
            json!({"body": "x", "headers": {"X": {"a": 1}}})
        ))
        .contains("not a set"));
        assert!(error(attrs(
            &["body"],
            json!({"body": "x", "headers": {"X": "a\nb"}})
        ))
        .contains("invalid value"));
        assert!(error(attrs(&["file"], json!({"file": "rel/a"}))).contains("absolute"));
    }
}
