//! Sessions as signed cookies, and the CSRF tokens that go with them (docs/web.md).
//!
//! The `nixweb-session` cookie holds `PAYLOAD.MAC`: the payload is base64url JSON
//! `{ id, exp, data }` (a random session id, the Unix second it expires, the app's data),
//! the MAC its HMAC-SHA256 under the first configured secret. Any configured secret may
//! verify it, so secrets can be rotated: put the new one first and keep the old one until
//! the sessions it signed have expired. A cookie whose MAC matches no secret, that cannot
//! be read, or that has expired is ignored (the request has no session) with a log line.
//!
//! A CSRF token is the HMAC of the session's id: the same for every form of a session,
//! unguessable without a secret, and checked on POST, PUT, PATCH and DELETE when the app
//! turns the checks on. A request without a session gets a fresh id then, and its response
//! sets the cookie, so the token it was given can be checked later.

use crate::render::Failure;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{header, HeaderMap, HeaderValue, Method, Response};
use nixweb_app::cookies::SESSION_COOKIE;
use nixweb_app::outcome::{InvalidResponse, SessionChange};
use nixweb_app::request::Request;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type HmacSha256 = Hmac<sha2::Sha256>;

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Browsers keep cookies of up to 4096 bytes, name and attributes included.
const MAX_COOKIE_BYTES: usize = 4096;
/// The form field and the header a CSRF token may come in.
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How sessions are signed and checked; `nixweb serve` fills it from its flags.
#[derive(Clone, Default)]
pub struct SessionConfig {
    /// The first signs; each verifies. Empty: a random secret made at start-up.
    pub secrets: Vec<Vec<u8>>,
    /// How long a session lasts after the response that last set it.
    pub max_age: Duration,
    /// Check a CSRF token on POST, PUT, PATCH and DELETE.
    pub csrf: bool,
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field(
                "secrets",
                &format_args!("{} (not shown)", self.secrets.len()),
            )
            .field("max_age", &self.max_age)
            .field("csrf", &self.csrf)
            .finish()
    }
}

pub struct Sessions {
    secrets: Vec<Vec<u8>>,
    max_age: Duration,
    csrf: bool,
    /// No secret was configured: sessions end when the server stops.
    random_secret: bool,
    warned: AtomicBool,
}

/// The session a request came with, or was given.
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    /// None: the request has no session.
    pub id: Option<String>,
    /// Made for this request (for its CSRF token): the client does not have it yet.
    pub fresh: bool,
    /// The request came over TLS: the cookie is only ever to be sent over TLS too.
    pub secure: bool,
}

impl Sessions {
    pub fn new(config: &SessionConfig) -> Sessions {
        let random_secret = config.secrets.is_empty();
        let secrets = if random_secret {
            vec![random_bytes()]
        } else {
            config.secrets.clone()
        };
        Sessions {
            secrets,
            max_age: config.max_age,
            csrf: config.csrf,
            random_secret,
            warned: AtomicBool::new(false),
        }
    }

    /// Reads the request's session cookie into `request.session` (and, with CSRF checks
    /// on, gives it its token), ignoring a cookie that is forged, damaged or expired.
    pub fn attach(&self, request: &mut Request, headers: &HeaderMap) -> SessionState {
        let mut state = SessionState {
            secure: !request.tls.is_null(),
            ..SessionState::default()
        };
        if let Some(cookie) = session_cookie(headers) {
            match self.verify(&cookie, request.time) {
                Ok((id, data)) => {
                    request.session = data;
                    state.id = Some(id);
                }
                Err(why) => tracing::warn!(
                    target: "nixweb::session",
                    id = request.id.as_str(),
                    "session cookie ignored: {why}"
                ),
            }
        }
        if self.csrf {
            let id = state.id.get_or_insert_with(|| {
                state.fresh = true;
                new_id()
            });
            request.csrf_token = Some(self.csrf_token(&self.secrets[0], id));
        }
        request.session_id = state.id.clone();
        state
    }

    /// With CSRF checks on, refuses a POST, PUT, PATCH or DELETE whose token (the `_csrf`
    /// form field or the `X-CSRF-Token` header) is not its session's.
    pub fn check_csrf(
        &self,
        request: &Request,
        method: &Method,
        headers: &HeaderMap,
        state: &SessionState,
    ) -> Result<(), Failure> {
        let guarded = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
        if !self.csrf || !guarded.contains(method) {
            return Ok(());
        }
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or(request.form.get(CSRF_FIELD).map(String::as_str));
        let valid = match (sent, &state.id) {
            (Some(token), Some(id)) if !state.fresh => self.verify_csrf(token, id),
            _ => false,
        };
        if valid {
            Ok(())
        } else {
            Err(Failure::Csrf)
        }
    }

    /// Sets the session cookie on `response` as the handler asked (or for a session made
    /// for its CSRF token, on a page: `serves_file` answers do not start one); too large a
    /// session is an invalid response.
    pub fn finish(
        &self,
        response: &mut Response<axum::body::Body>,
        state: &SessionState,
        change: &SessionChange,
        serves_file: bool,
        now: u64,
    ) -> Result<(), InvalidResponse> {
        let cookie = match change {
            // Files are what shared caches keep (`Cache-Control: public` assets): one that
            // kept a new session's cookie would hand it to every visitor after. A page is
            // where the token is used, so that is where the session starts.
            SessionChange::Keep if state.fresh && !serves_file => {
                self.cookie(state, &Value::Object(Default::default()), now)?
            }
            SessionChange::Keep => return Ok(()),
            SessionChange::Set(data) => self.cookie(state, data, now)?,
            SessionChange::Clear => format!(
                "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
            ),
        };
        let cookie = if state.secure {
            cookie + "; Secure"
        } else {
            cookie
        };
        let value = HeaderValue::from_str(&cookie).expect("base64 and ASCII attributes");
        response.headers_mut().append(header::SET_COOKIE, value);
        Ok(())
    }

    fn cookie(
        &self,
        state: &SessionState,
        data: &Value,
        now: u64,
    ) -> Result<String, InvalidResponse> {
        if self.random_secret && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "nixweb::session", "no --session-secret is set: sessions are signed with a secret made at start-up, and end when the server stops");
        }
        let id = state.id.clone().unwrap_or_else(new_id);
        let expires = now + self.max_age.as_secs();
        let payload = serde_json::json!({ "id": id, "exp": expires, "data": data });
        let payload = B64.encode(payload.to_string());
        let mac = B64.encode(self.mac(&self.secrets[0], &payload));
        let cookie = format!(
            "{SESSION_COOKIE}={payload}.{mac}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
            self.max_age.as_secs()
        );
        if cookie.len() > MAX_COOKIE_BYTES {
            return Err(InvalidResponse(format!(
                "the session is {} bytes once signed, and a cookie holds at most {MAX_COOKIE_BYTES}: keep large data in req.db and only its key in the session",
                cookie.len()
            )));
        }
        Ok(cookie)
    }

    /// The session's id and data, if the cookie was signed by one of the secrets and has
    /// not expired.
    fn verify(&self, cookie: &str, now: u64) -> Result<(String, Value), String> {
        let forged = || {
            "its signature matches none of the session secrets (forged, damaged, or signed with a secret no longer configured)".to_owned()
        };
        let (payload, mac) = cookie.split_once('.').ok_or_else(forged)?;
        let mac = B64.decode(mac).map_err(|_| forged())?;
        let signed = self.secrets.iter().any(|secret| {
            let mut check = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
            check.update(b"nixweb-session\0");
            check.update(payload.as_bytes());
            check.verify_slice(&mac).is_ok()
        });
        if !signed {
            return Err(forged());
        }
        let unreadable = || "its signature is right but its contents cannot be read".to_owned();
        let json: Value = B64
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(unreadable)?;
        let (Some(id), Some(expires), Some(data @ Value::Object(_))) =
            (json["id"].as_str(), json["exp"].as_u64(), json.get("data"))
        else {
            return Err(unreadable());
        };
        if expires <= now {
            return Err(format!("it expired {} s ago", now - expires));
        }
        Ok((id.to_owned(), data.clone()))
    }

    fn mac(&self, secret: &[u8], payload: &str) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"nixweb-session\0");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    fn csrf_token(&self, secret: &[u8], session_id: &str) -> String {
        B64.encode(csrf_mac(secret, session_id).finalize().into_bytes())
    }

    fn verify_csrf(&self, token: &str, session_id: &str) -> bool {
        let Ok(token) = B64.decode(token.trim()) else {
            return false;
        };
        self.secrets
            .iter()
            .any(|secret| csrf_mac(secret, session_id).verify_slice(&token).is_ok())
    }
}

fn csrf_mac(secret: &[u8], session_id: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(b"nixweb-csrf\0");
    mac.update(session_id.as_bytes());
    mac
}

/// The session cookie's value, if the request has one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

/// 128 random bits, as 32 hex digits.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn random_bytes() -> Vec<u8> {
    [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn sessions(secrets: &[&str], csrf: bool) -> Sessions {
        Sessions::new(&SessionConfig {
            secrets: secrets.iter().map(|s| s.as_bytes().to_vec()).collect(),
            max_age: Duration::from_secs(100),
            csrf,
        })
    }

    fn request(cookie: Option<&str>, time: u64) -> (Request, HeaderMap) {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = cookie {
            headers.insert(header::COOKIE, cookie.parse().unwrap());
        }
        let uri: http::Uri = "/".parse().unwrap();
        let request = Request::new(&nixweb_app::request::RequestParts {
            method: &Method::GET,
            uri: &uri,
            headers: &headers,
            body: b"",
            remote_addr: None,
            id: "r",
            time,
        })
        .unwrap();
        (request, headers)
    }

    /// The cookie `finish` sets for `data`, as a browser would send it back.
    fn signed(s: &Sessions, data: Value, now: u64) -> String {
        let mut response = Response::new(axum::body::Body::empty());
        s.finish(
            &mut response,
            &SessionState::default(),
            &SessionChange::Set(data),
            false,
            now,
        )
        .unwrap();
        let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(set.contains("HttpOnly; SameSite=Lax; Max-Age=100"), "{set}");
        set.split(';').next().unwrap().to_owned()
    }

    const OLD: &str = "an old secret of at least thirty-two bytes";
    const NEW: &str = "a new secret, also thirty-two bytes or more";

    #[test]
    fn a_signed_session_comes_back_and_a_changed_one_does_not() {
        let s = sessions(&[NEW], false);
        let cookie = signed(&s, serde_json::json!({"user": "ada"}), 1000);
        let (mut req, headers) = request(Some(&cookie), 1050);
        let state = s.attach(&mut req, &headers);
        assert_eq!(req.session, serde_json::json!({"user": "ada"}));
        assert!(state.id.is_some() && req.session_id == state.id);

        // Any change to the payload or the MAC, and the cookie is ignored.
        let (payload, mac) = cookie.split_once('.').unwrap();
        let flipped = |s: &str| {
            let mut bytes = s.as_bytes().to_vec();
            let i = bytes.len() / 2;
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).unwrap()
        };
        for tampered in [
            format!("{}.{mac}", flipped(payload)),
            format!("{payload}.{}", flipped(mac)),
            format!("{payload}."),
            payload.to_owned(),
        ] {
            let (mut req, headers) = request(Some(&tampered), 1050);
            assert!(s.attach(&mut req, &headers).id.is_none(), "{tampered}");
            assert_eq!(req.session, serde_json::json!({}));
        }
        // Expired: ignored, though its signature is right.
        let (mut req, headers) = request(Some(&cookie), 1100);
        assert!(s.attach(&mut req, &headers).id.is_none());
        // Signed with a secret nobody configured.
        let other = sessions(&[OLD], false);
        let (mut req, headers) = request(Some(&cookie), 1050);
        assert!(other.attach(&mut req, &headers).id.is_none());
    }

    #[test]
    fn rotation_signs_with_the_first_and_verifies_with_any() {
        let before = sessions(&[OLD], false);
        let cookie = signed(&before, serde_json::json!({"n": 1}), 0);
        let after = sessions(&[NEW, OLD], false);
        let (mut req, headers) = request(Some(&cookie), 10);
        assert!(after.attach(&mut req, &headers).id.is_some());
        let renewed = signed(&after, serde_json::json!({"n": 2}), 0);
        let (mut req, headers) = request(Some(&renewed), 10);
        assert!(
            before.attach(&mut req, &headers).id.is_none(),
            "signed with the new one"
        );
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let s = sessions(&[NEW], true);
        let cookie = signed(&s, serde_json::json!({}), 0);
        let (mut req, mut headers) = request(Some(&cookie), 10);
        let state = s.attach(&mut req, &headers);
        let token = req.csrf_token.clone().unwrap();
        assert!(s.check_csrf(&req, &Method::GET, &headers, &state).is_ok());
        assert!(s.check_csrf(&req, &Method::POST, &headers, &state).is_err());
        req.form.insert(CSRF_FIELD.into(), token.clone());
        assert!(s.check_csrf(&req, &Method::POST, &headers, &state).is_ok());
        req.form.clear();
        headers.insert(CSRF_HEADER, token.parse().unwrap());
        assert!(s
            .check_csrf(&req, &Method::DELETE, &headers, &state)
            .is_ok());

        // Another session's token is refused, and so is any token without a session.
        let other = signed(&s, serde_json::json!({}), 0);
        let (mut req2, mut headers2) = request(Some(&other), 10);
        let state2 = s.attach(&mut req2, &headers2);
        assert_ne!(state2.id, state.id);
        headers2.insert(CSRF_HEADER, token.parse().unwrap());
        assert!(s
            .check_csrf(&req2, &Method::POST, &headers2, &state2)
            .is_err());
        let (mut fresh, mut headers3) = request(None, 10);
        let state3 = s.attach(&mut fresh, &headers3);
        assert!(state3.fresh && fresh.csrf_token.is_some());
        headers3.insert(
            CSRF_HEADER,
            fresh.csrf_token.clone().unwrap().parse().unwrap(),
        );
        assert!(
            s.check_csrf(&fresh, &Method::POST, &headers3, &state3)
                .is_err(),
            "a session the client does not have yet proves nothing"
        );
    }

    #[test]
    fn a_session_made_for_its_token_starts_on_pages_not_files() {
        let s = sessions(&[NEW], true);
        let (mut req, headers) = request(None, 0);
        let fresh = s.attach(&mut req, &headers);
        assert!(fresh.fresh);
        for serves_file in [false, true] {
            let mut response = Response::new(axum::body::Body::empty());
            s.finish(&mut response, &fresh, &SessionChange::Keep, serves_file, 0)
                .unwrap();
            assert_eq!(
                response.headers().contains_key(header::SET_COOKIE),
                !serves_file
            );
        }
        // A session the handler sets is set whatever the answer is.
        let mut response = Response::new(axum::body::Body::empty());
        let set = SessionChange::Set(serde_json::json!({"a": 1}));
        s.finish(&mut response, &fresh, &set, true, 0).unwrap();
        assert!(response.headers().contains_key(header::SET_COOKIE));
    }

    #[test]
    fn over_tls_the_cookie_is_secure() {
        let s = sessions(&[NEW], false);
        for secure in [false, true] {
            let mut response = Response::new(axum::body::Body::empty());
            let state = SessionState {
                secure,
                ..SessionState::default()
            };
            for change in [
                SessionChange::Set(serde_json::json!({})),
                SessionChange::Clear,
            ] {
                s.finish(&mut response, &state, &change, false, 0).unwrap();
            }
            for cookie in response.headers().get_all(header::SET_COOKIE) {
                let cookie = cookie.to_str().unwrap();
                assert_eq!(cookie.ends_with("; Secure"), secure, "{cookie}");
            }
        }
    }

    #[test]
    fn a_session_too_large_for_a_cookie_is_refused() {
        let s = sessions(&[NEW], false);
        let mut response = Response::new(axum::body::Body::empty());
        let big = serde_json::json!({"x": "y".repeat(4000)});
        let err = s
            .finish(
                &mut response,
                &SessionState::default(),
                &SessionChange::Set(big),
                false,
                0,
            )
            .unwrap_err();
        assert!(err.0.contains("a cookie holds at most 4096"), "{}", err.0);
    }
}
