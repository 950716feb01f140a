//! The request value handlers receive, made directly from [`Request`]'s fields: no JSON
//! text is written on the async side and parsed again here.
//!
//! It must equal what the Nix engine gets from `builtins.fromJSON (request.to_json())`;
//! the request body's JSON goes through the evaluator's own `fromJSON` parser for that
//! reason (Nix's treatment of huge integers and `\u0000` included).

use nixweb_app::request::Request;
use nixweb_eval::error::EResult;
use nixweb_eval::value::{Attr, Attrs, Symbol, Thunk};
use nixweb_eval::{Evaluator, Value};
use std::collections::BTreeMap;

/// The request's attribute names, sorted as Nix sorts them (byte order).
const NAMES: [&str; 15] = [
    "body",
    "cookies",
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
    "time",
];

thread_local! {
    /// The names as symbols, made once per evaluation thread rather than once per request.
    static SYMBOLS: [Symbol; 15] = NAMES.map(Symbol::from);
}

pub fn request_value(ev: &Evaluator, request: &Request) -> EResult<Value> {
    let json = match &request.json {
        serde_json::Value::Null => Value::Null,
        body => ev.from_json_str(&body.to_string())?,
    };
    let values = [
        string(&request.body),
        strings(&request.cookies),
        strings(&request.form),
        lists(&request.form_all),
        strings(&request.headers),
        string(&request.id),
        json,
        string(&request.method),
        strings(&request.params),
        string(&request.path),
        strings(&request.query),
        lists(&request.query_all),
        request.remote_addr.as_deref().map_or(Value::Null, string),
        list(&request.segments),
        Value::Int(request.time as i64),
    ];
    let entries = SYMBOLS.with(|symbols| {
        symbols
            .iter()
            .zip(values)
            .map(|(name, value)| entry(name.clone(), value))
            .collect()
    });
    Ok(Value::attrs(Attrs { entries }))
}

fn entry(name: Symbol, value: Value) -> Attr {
    Attr {
        name,
        value: Thunk::value(value),
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
        .map(|(k, v)| entry(Symbol::from(k.as_str()), value(v)))
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
    use std::sync::Arc;

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
        ];
        let mut ev = Evaluator::new(Arc::new(nixweb_eval::StdIO));
        for case in cases {
            let direct = request_value(&ev, &case).unwrap();
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
}
