//! The request value handlers receive, made directly from [`Request`]'s fields: no JSON
//! text is written on the async side and parsed again here.
//!
//! Each field is a thunk that, when forced, makes its value and records that it was needed
//! ([`RequestSlot::forced`]): the response cache ([`crate::cache`]) keys a result by the
//! fields its evaluation used, and a field nobody forces is never built.
//!
//! The value equals what the Nix engine gets from `builtins.fromJSON (request.to_json())`;
//! the request body's JSON goes through the evaluator's own `fromJSON` parser for that
//! reason (Nix's treatment of huge integers and `\u0000` included).

use crate::cache::FieldSet;
use nixweb_app::request::Request;
use nixweb_eval::error::EResult;
use nixweb_eval::value::{Attr, Attrs, Symbol, Thunk};
use nixweb_eval::{Evaluator, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// The request's attribute names, sorted as Nix sorts them (byte order). Field `i` below
/// always means `NAMES[i]`.
const NAMES: [&str; FIELD_COUNT] = [
    "body",
    "cookies",
    "csrfToken",
    "error",
    "files",
    "form",
    "formAll",
    "headers",
    "id",
    "json",
    "method",
    "params",
    "path",
    "query",
    "queryAll",
    "remoteAddr",
    "segments",
    "session",
    "time",
    "tls",
];
pub const FIELD_COUNT: usize = 20;

/// The request under evaluation, for the field thunks, and which fields were forced.
#[derive(Default)]
pub struct RequestSlot {
    request: Option<Arc<Request>>,
    pub forced: FieldSet,
}

pub type SharedSlot = Rc<RefCell<RequestSlot>>;

impl RequestSlot {
    /// Starts a request: nothing forced yet.
    pub fn begin(&mut self, request: Arc<Request>) {
        self.request = Some(request);
        self.forced = 0;
    }

    /// Ends it; returns the fields that were forced.
    pub fn end(&mut self) -> FieldSet {
        self.request = None;
        self.forced
    }
}

/// `builtins.nixwebRequestField i`: field `i` of the request under evaluation.
pub fn register_field_builtin(ev: &mut Evaluator, slot: &SharedSlot) {
    let slot = slot.clone();
    ev.register_builtin("nixwebRequestField", 1, false, move |ev, args| {
        let Value::Int(i) = args[0] else {
            return Err("nixweb: a request field number must be an integer".into());
        };
        let i = usize::try_from(i)
            .ok()
            .filter(|&i| i < FIELD_COUNT)
            .ok_or("nixweb: no such request field")?;
        let request = {
            let mut slot = slot.borrow_mut();
            slot.forced |= 1 << i;
            slot.request.clone()
        };
        let request = request.ok_or("nixweb: the request is over")?;
        field_value(ev, &request, i).map_err(|e| e.msg)
    });
}

thread_local! {
    /// The names as symbols, and the field numbers as values, made once per evaluation
    /// thread rather than once per request.
    static FIELDS: Vec<(Symbol, Thunk)> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| (Symbol::from(*name), Thunk::value(Value::Int(i as i64))))
        .collect();
}

/// The request attrset; `field` is the value of `builtins.nixwebRequestField`.
pub fn request_value(field: &Thunk) -> Value {
    let entries = FIELDS.with(|fields| {
        fields
            .iter()
            .map(|(name, index)| entry(name.clone(), Thunk::apply(field.clone(), index.clone())))
            .collect()
    });
    Value::attrs(Attrs { entries })
}

/// Field `i` of a request, borrowed, by the shape of its value. One mapping from numbers
/// to fields serves both the value a handler sees and the cache key, so the two cannot
/// disagree on which field is which.
enum Field<'a> {
    Text(&'a str),
    Texts(&'a [String]),
    Attrs(&'a BTreeMap<String, String>),
    AttrLists(&'a BTreeMap<String, Vec<String>>),
    Json(&'a serde_json::Value),
    MaybeText(Option<&'a str>),
    Int(u64),
    /// The session's data, and (for the cache key only) the session it belongs to.
    Session(&'a serde_json::Value, Option<&'a str>),
}

fn field(request: &Request, i: usize) -> Field<'_> {
    match NAMES[i] {
        "body" => Field::Text(&request.body),
        "cookies" => Field::Attrs(&request.cookies),
        "csrfToken" => Field::MaybeText(request.csrf_token.as_deref()),
        "error" => Field::Json(&request.error),
        "files" => Field::Json(&request.files),
        "form" => Field::Attrs(&request.form),
        "formAll" => Field::AttrLists(&request.form_all),
        "headers" => Field::Attrs(&request.headers),
        "id" => Field::Text(&request.id),
        "json" => Field::Json(&request.json),
        "method" => Field::Text(&request.method),
        "params" => Field::Attrs(&request.params),
        "path" => Field::Text(&request.path),
        "query" => Field::Attrs(&request.query),
        "queryAll" => Field::AttrLists(&request.query_all),
        "remoteAddr" => Field::MaybeText(request.remote_addr.as_deref()),
        "segments" => Field::Texts(&request.segments),
        "session" => Field::Session(&request.session, request.session_id.as_deref()),
        "time" => Field::Int(request.time),
        "tls" => Field::Json(&request.tls),
        other => unreachable!("request field {other}"),
    }
}

fn field_value(ev: &Evaluator, request: &Request, i: usize) -> EResult<Value> {
    Ok(match field(request, i) {
        Field::Text(s) => string(s),
        Field::Texts(items) => list(items),
        Field::Attrs(map) => strings(map),
        Field::AttrLists(map) => lists(map),
        Field::Json(serde_json::Value::Null) => Value::Null,
        Field::Json(value) | Field::Session(value, _) => ev.from_json_str(&value.to_string())?,
        Field::MaybeText(text) => text.map_or(Value::Null, string),
        Field::Int(n) => Value::Int(n as i64),
    })
}

/// Writes field `i` as JSON: two requests agree on the field when these bytes agree.
pub fn write_field_key(request: &Request, i: usize, out: &mut Vec<u8>) {
    let written = match field(request, i) {
        Field::Text(s) => serde_json::to_writer(&mut *out, s),
        Field::Texts(items) => serde_json::to_writer(&mut *out, items),
        Field::Attrs(map) => serde_json::to_writer(&mut *out, map),
        Field::AttrLists(map) => serde_json::to_writer(&mut *out, map),
        Field::Json(value) => serde_json::to_writer(&mut *out, value),
        Field::MaybeText(text) => serde_json::to_writer(&mut *out, &text),
        Field::Int(n) => serde_json::to_writer(&mut *out, &n),
        // Two sessions never share a result that read the session, even with equal data.
        Field::Session(data, id) => serde_json::to_writer(&mut *out, &(id, data)),
    };
    written.expect("request fields serialise");
}

fn entry(name: Symbol, value: Thunk) -> Attr {
    Attr {
        name,
        value,
        pos: nixweb_eval::source::Pos::NONE,
    }
}

fn string(s: &str) -> Value {
    Value::str(s)
}

fn list(items: &[String]) -> Value {
    Value::list(items.iter().map(|s| Thunk::value(string(s))).collect())
}

/// A BTreeMap iterates in byte order of its keys: already the order of a Nix attrset.
fn attrs<T>(map: &BTreeMap<String, T>, value: impl Fn(&T) -> Value) -> Value {
    let entries = map
        .iter()
        .map(|(k, v)| entry(Symbol::from(k.as_str()), Thunk::value(value(v))))
        .collect();
    Value::attrs(Attrs { entries })
}

fn strings(map: &BTreeMap<String, String>) -> Value {
    attrs(map, |v| string(v))
}

fn lists(map: &BTreeMap<String, Vec<String>>) -> Value {
    attrs(map, |v| list(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nixweb_app::request::RequestParts;

    fn request(uri: &str, headers: &[(&str, &str)], body: &str) -> Request {
        let uri: http::Uri = uri.parse().unwrap();
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        Request::new(&RequestParts {
            method: &http::Method::POST,
            uri: &uri,
            headers: &map,
            body: body.as_bytes(),
            remote_addr: Some("10.0.0.1".parse().unwrap()),
            id: "req-7",
            time: 1_700_000_000,
        })
        .unwrap()
    }

    fn over_tls(mut request: Request) -> Request {
        use nixweb_app::request::{ClientCert, SubjectAltNames, TlsInfo};
        request.set_tls(&TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            alpn: Some("h2".into()),
            server_name: Some("localhost".into()),
            client_cert: Some(ClientCert {
                subject: "CN=alice, O=Example".into(),
                common_name: Some("alice".into()),
                issuer: "CN=Example CA".into(),
                serial: "1f".into(),
                fingerprint: "00ff".into(),
                not_before: 1_700_000_000,
                not_after: 1_800_000_000,
                san: SubjectAltNames {
                    dns: vec!["alice.example".into()],
                    ip: vec!["::1".into()],
                    ..SubjectAltNames::default()
                },
            }),
        });
        request
    }

    /// An evaluator with `builtins.nixwebRequestField`, its slot, and the builtin's value.
    fn evaluator_with_request_fields() -> (Evaluator, SharedSlot, Thunk) {
        let mut ev = Evaluator::new(Arc::new(nixweb_eval::StdIO));
        let slot = SharedSlot::default();
        register_field_builtin(&mut ev, &slot);
        let field = Thunk::value(
            ev.eval_expr_str("builtins.nixwebRequestField", std::path::Path::new("/"))
                .unwrap(),
        );
        (ev, slot, field)
    }

    /// The value made directly equals the one `fromJSON` makes from the request's JSON
    /// text, which is what the Nix engine's handlers get.
    #[test]
    fn equals_the_value_parsed_from_the_json_text() {
        let cases = [
            request(
                "/a/b%20c/?x=1&x=2&y=%C3%A9",
                &[("Accept", "a"), ("cookie", "k=v")],
                "",
            ),
            request(
                "/",
                &[("content-type", "application/json")],
                r#"{"big": 18446744073709551615, "z": [1, 2.5, "\u00e9"], "a": null}"#,
            ),
            request(
                "/form",
                &[("content-type", "application/x-www-form-urlencoded")],
                "name=Ada&lang=c&lang=cpp",
            ),
            over_tls(request("/tls", &[], "")),
        ];
        let (mut ev, slot, field) = evaluator_with_request_fields();
        for case in cases {
            slot.borrow_mut().begin(Arc::new(case.clone()));
            let direct = request_value(&field);
            let parsed = ev.from_json_str(&case.to_json()).unwrap();
            let mut print = |v: &Value| ev.to_json_string(v).unwrap();
            assert_eq!(print(&direct), print(&parsed), "{case:?}");
            let Value::Attrs(attrs) = &direct else {
                panic!("an attrset")
            };
            assert!(
                attrs.entries.windows(2).all(|w| w[0].name < w[1].name),
                "names in Nix's order"
            );
        }
    }

    /// Only the fields an evaluation forces are recorded; the rest are never built.
    #[test]
    fn records_which_fields_were_forced() {
        let (mut ev, slot, field) = evaluator_with_request_fields();
        let bit = |name: &str| 1 << NAMES.iter().position(|n| *n == name).unwrap();
        let cases = [
            (r#"r: r.query.x or "none""#, bit("query")),
            ("r: builtins.attrNames r", 0),
            (
                "r: { inherit (r) id; m = r.method; }",
                bit("id") | bit("method"),
            ),
            ("r: builtins.toJSON r", (1 << FIELD_COUNT) - 1),
        ];
        for (handler, expected) in cases {
            slot.borrow_mut()
                .begin(Arc::new(request("/a?x=1", &[], "")));
            let f = ev
                .eval_expr_str(handler, std::path::Path::new("/"))
                .unwrap();
            let result = ev.call_function(&f, request_value(&field)).unwrap();
            ev.force_deep(&result).unwrap();
            assert_eq!(slot.borrow_mut().end(), expected, "{handler}");
        }
    }
}
