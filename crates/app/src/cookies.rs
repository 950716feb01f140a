//! A response's `cookies` attribute → checked `Set-Cookie` headers.
//!
//! ```nix
//! cookies = {
//!   theme = "dark";                                     # Path=/, HttpOnly, SameSite=Lax
//!   seen = { value = "1"; maxAge = 3600; httpOnly = false; };
//!   old = null;                                         # removed
//! };
//! ```
//!
//! Each cookie is checked like the rest of the response: a name that is not a token, an
//! attribute nixweb does not know, a value of the wrong type, `;` in a path or domain
//! (which would add attributes of its own) are each a 500 saying what is wrong. Values are
//! percent-encoded (the `cookie` crate's encoding), and `req.cookies` decodes them again.

use crate::outcome::{type_name, InvalidResponse};
use cookie::time::{Duration, OffsetDateTime};
use cookie::{Cookie, SameSite};
use http::{header, HeaderName, HeaderValue};
use serde_json::{Map, Value};

/// The cookie that carries nixweb's signed session (docs/web.md); apps use `session`, not
/// `cookies`, to change it, and `req.cookies` does not show it.
pub const SESSION_COOKIE: &str = "nixweb-session";

const ATTRIBUTES: [&str; 8] = [
    "value", "maxAge", "expires", "path", "domain", "secure", "httpOnly", "sameSite",
];

/// The `Set-Cookie` headers for a response's `cookies` (null: none).
pub fn set_cookie_headers(
    cookies: &Value,
) -> Result<Vec<(HeaderName, HeaderValue)>, InvalidResponse> {
    let cookies = match cookies {
        Value::Null => return Ok(vec![]),
        Value::Object(cookies) => cookies,
        other => {
            return Err(InvalidResponse(format!(
                "cookies must be an attribute set of names to values, not {}",
                type_name(other)
            )))
        }
    };
    cookies
        .iter()
        .map(|(name, spec)| {
            let cookie = build(name, spec)?;
            let text = cookie.encoded().to_string();
            let value = HeaderValue::from_str(&text).map_err(|_| {
                InvalidResponse(format!("cookie {name:?} cannot be sent: {text:?}"))
            })?;
            Ok((header::SET_COOKIE, value))
        })
        .collect()
}

fn build(name: &str, spec: &Value) -> Result<Cookie<'static>, InvalidResponse> {
    let fail = |msg: String| Err(InvalidResponse(format!("cookie {name:?}: {msg}")));
    if !is_token(name) {
        return fail("a cookie name is letters, digits and !#$%&'*+-.^_`|~".into());
    }
    if name == SESSION_COOKIE {
        return fail("this cookie is nixweb's session: set `session = { … }` instead".into());
    }
    let empty = Map::new();
    let (value, attrs) = match spec {
        // Removal: an empty value that expired long ago.
        Value::Null => {
            let mut cookie = defaults(Cookie::new(name.to_owned(), ""));
            cookie.set_max_age(Duration::ZERO);
            cookie.set_expires(OffsetDateTime::UNIX_EPOCH);
            return Ok(cookie);
        }
        Value::String(value) => (value.clone(), &empty),
        Value::Object(attrs) => match attrs.get("value") {
            Some(Value::String(value)) => (value.clone(), attrs),
            Some(other) => {
                return fail(format!("value must be a string, not {}", type_name(other)))
            }
            None => return fail("needs a value".into()),
        },
        other => {
            return fail(format!(
                "give a string, {{ value = \"…\"; … }} or null, not {}",
                type_name(other)
            ))
        }
    };
    let unknown: Vec<&str> = attrs
        .keys()
        .map(String::as_str)
        .filter(|k| !ATTRIBUTES.contains(k))
        .collect();
    if !unknown.is_empty() {
        return fail(format!(
            "unknown attribute(s) {}; a cookie may have {}",
            unknown.join(", "),
            ATTRIBUTES.join(", ")
        ));
    }
    let mut cookie = defaults(Cookie::new(name.to_owned(), value));
    for (key, v) in attrs {
        match (key.as_str(), v) {
            ("value", _) | (_, Value::Null) => {}
            ("maxAge", Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => {
                cookie.set_max_age(Duration::seconds(n.as_i64().unwrap_or(0)))
            }
            ("expires", Value::Number(n)) => match n
                .as_i64()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            {
                Some(when) => cookie.set_expires(when),
                None => return fail(format!("expires must be Unix seconds, not {n}")),
            },
            ("path" | "domain", Value::String(text)) if is_attribute_text(text) => {
                if key == "path" {
                    cookie.set_path(text.clone());
                } else {
                    cookie.set_domain(text.clone());
                }
            }
            ("path" | "domain", Value::String(text)) => {
                return fail(format!(
                    "{key} {text:?} holds a character a cookie attribute cannot (';' or a control character)"
                ))
            }
            ("secure", Value::Bool(b)) => cookie.set_secure(*b),
            ("httpOnly", Value::Bool(b)) => cookie.set_http_only(*b),
            ("sameSite", Value::String(s)) => cookie.set_same_site(match s.as_str() {
                "Strict" => SameSite::Strict,
                "Lax" => SameSite::Lax,
                "None" => SameSite::None,
                _ => return fail(format!("sameSite is \"Strict\", \"Lax\" or \"None\", not {s:?}")),
            }),
            (key, other) => {
                return fail(format!(
                    "{key} cannot be {} ({})",
                    type_name(other),
                    match key {
                        "maxAge" => "a number of seconds, 0 or more",
                        "expires" => "Unix seconds",
                        "secure" | "httpOnly" => "true or false",
                        _ => "a string",
                    }
                ))
            }
        }
    }
    if cookie.same_site() == Some(SameSite::None) && cookie.secure() != Some(true) {
        return fail("sameSite = \"None\" needs secure = true (browsers drop it otherwise)".into());
    }
    Ok(cookie)
}

/// What a cookie is unless the app says otherwise: for the whole site, out of reach of
/// scripts, not sent along with requests other sites start.
fn defaults(mut cookie: Cookie<'static>) -> Cookie<'static> {
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie
}

/// RFC 9110's token: the characters a cookie name may have.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_attribute_text(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(cookies: Value) -> Vec<String> {
        set_cookie_headers(&cookies)
            .unwrap()
            .into_iter()
            .map(|(name, value)| {
                assert_eq!(name, header::SET_COOKIE);
                value.to_str().unwrap().to_owned()
            })
            .collect()
    }

    fn error(cookies: Value) -> String {
        set_cookie_headers(&cookies).unwrap_err().0
    }

    #[test]
    fn safe_defaults_and_every_attribute() {
        assert_eq!(
            headers(json!({"theme": "dark blue; x=1"})),
            ["theme=dark%20blue%3B%20x%3D1; HttpOnly; SameSite=Lax; Path=/"]
        );
        let all = headers(json!({"a": {
            "value": "1", "maxAge": 60, "expires": 1_700_000_000, "path": "/app",
            "domain": "example.org", "secure": true, "httpOnly": false, "sameSite": "Strict"
        }}));
        assert_eq!(
            all,
            ["a=1; SameSite=Strict; Secure; Path=/app; Domain=example.org; Max-Age=60; Expires=Tue, 14 Nov 2023 22:13:20 GMT"]
        );
        let gone = headers(json!({"old": null}));
        assert_eq!(
            gone,
            ["old=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
        );
        assert!(headers(Value::Null).is_empty());
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        for (cookies, message) in [
            (json!({"a b": "x"}), "a cookie name is"),
            (json!({"nixweb-session": "x"}), "set `session"),
            (json!({"a": 1}), "not an integer"),
            (
                json!({"a": {"value": "x", "maxage": 1}}),
                "unknown attribute(s) maxage",
            ),
            (
                json!({"a": {"value": "x", "maxAge": -1}}),
                "maxAge cannot be an integer",
            ),
            (
                json!({"a": {"value": "x", "path": "/; Domain=evil"}}),
                "holds a character",
            ),
            (
                json!({"a": {"value": "x", "sameSite": "lax"}}),
                "\"Strict\", \"Lax\"",
            ),
            (
                json!({"a": {"value": "x", "sameSite": "None"}}),
                "needs secure",
            ),
            (json!({"a": {"secure": true}}), "needs a value"),
            (json!(["a"]), "must be an attribute set"),
        ] {
            let got = error(cookies.clone());
            assert!(got.contains(message), "{cookies}: {got}");
        }
    }
}
