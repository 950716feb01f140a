//! The `cookies` attribute, signed sessions (`req.session`, `session = …`), what happens to
//! forged and expired session cookies, CSRF checks, and the response cache keeping each
//! session's answers to itself. On both engines.

use super::common::{app, log_with, servers};
use nixweb_testkit::process::ServerProcess;
use nixweb_testkit::{Method, Response, StatusCode, TestServer};

const APP: &str = r#"
let h = import <nixweb/html.nix>; in {
  set.GET = { body = "ok"; cookies = { theme = "dark"; seen = { value = "a b"; maxAge = 60; httpOnly = false; }; old = null; }; };
  bad.GET = { body = "x"; cookies = { "a b" = "c"; }; };
  echo.GET = req: { json = req.cookies; };
  login.POST = req: { body = "hi ${req.form.user}"; session = { user = req.form.user; }; };
  me.GET = req: { json = req.session; };
  logout.POST = { body = "bye"; session = null; };
  visits.GET = req: { json = req.session.n or 0; session = { n = (req.session.n or 0) + 1; }; };
  form.GET = req: h.form { method = "post"; action = "/change"; } [ (h.csrfField req) (h.button "go") ];
  change.POST = req: "changed by ${req.session.user or "nobody"}";
}
"#;

/// The value of cookie `name` that `reply` sets, as `name=value`.
fn set_cookie(reply: &Response, name: &str) -> Option<String> {
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

fn send(server: &TestServer, method: Method, path: &str, cookie: Option<&str>) -> Response {
    let mut request = server.request(method, path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().unwrap()
}

fn login(server: &TestServer, user: &str) -> String {
    let reply = server
        .request(Method::POST, "/login")
        .form(&[("user", user)])
        .send()
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let cookie = set_cookie(&reply, "nixweb-session").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    pair(&cookie)
}

#[test]
fn cookies_are_checked_and_set() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &["--dev"]) {
        let reply = server.get("/set");
        let all: Vec<String> = reply
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            all,
            [
                "old=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "seen=a%20b; SameSite=Lax; Path=/; Max-Age=60",
                "theme=dark; HttpOnly; SameSite=Lax; Path=/",
            ],
            "{engine}"
        );
        // What was set comes back decoded; the session cookie is not among req.cookies.
        let echoed = send(
            &server,
            Method::GET,
            "/echo",
            Some("seen=a%20b; theme=dark; nixweb-session=x"),
        );
        assert_eq!(
            echoed.json::<serde_json::Value>().unwrap(),
            serde_json::json!({"seen": "a b", "theme": "dark"})
        );
        let bad = server.get("/bad");
        assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(bad.text().unwrap().contains("a cookie name is"), "{engine}");
    }
}

#[test]
fn sessions_are_signed_kept_and_ended() {
    let dir = app(&[("default.nix", APP)]);
    let secret = ("NIXWEB_TEST_SESSION_SECRET", "s".repeat(40));
    std::env::set_var(secret.0, &secret.1);
    let flag = format!("env:{}", secret.0);
    for (engine, server) in servers(dir.path(), &["--session-secret", &flag]) {
        assert_eq!(
            send(&server, Method::GET, "/me", None)
                .json::<serde_json::Value>()
                .unwrap(),
            serde_json::json!({}),
            "{engine}: no session"
        );
        let ada = login(&server, "ada");
        let me = send(&server, Method::GET, "/me", Some(&ada));
        assert_eq!(
            me.json::<serde_json::Value>().unwrap(),
            serde_json::json!({"user": "ada"}),
            "{engine}"
        );
        // The data is readable (base64 JSON) but cannot be changed: a forged cookie is no
        // session at all.
        let (payload, mac) = ada.split_once('.').unwrap();
        let forged = format!("{}X.{mac}", payload);
        assert_eq!(
            send(&server, Method::GET, "/me", Some(&forged))
                .json::<serde_json::Value>()
                .unwrap(),
            serde_json::json!({}),
            "{engine}"
        );
        // Ended: the cookie is removed.
        let out = send(&server, Method::POST, "/logout", Some(&ada));
        let removal = set_cookie(&out, "nixweb-session").unwrap();
        assert!(removal.contains("Max-Age=0"), "{removal}");

        // A session the app changes on every visit.
        let mut cookie: Option<String> = None;
        for expected in 0..3 {
            let reply = send(&server, Method::GET, "/visits", cookie.as_deref());
            let next = pair(&set_cookie(&reply, "nixweb-session").unwrap());
            assert_eq!(reply.json::<u64>().unwrap(), expected, "{engine}");
            cookie = Some(next);
        }
    }
    // Another secret (a restart with a new one) does not know the old sessions; a rotation
    // list that still holds the old one does.
    let old_server = TestServer::start(dir.path(), &["--session-secret", &flag]);
    let ada = login(&old_server, "ada");
    std::env::set_var("NIXWEB_TEST_SESSION_SECRET_2", "t".repeat(40));
    let fresh = TestServer::start(
        dir.path(),
        &["--session-secret", "env:NIXWEB_TEST_SESSION_SECRET_2"],
    );
    let me = |server: &TestServer| {
        send(server, Method::GET, "/me", Some(&ada))
            .json::<serde_json::Value>()
            .unwrap()
    };
    assert_eq!(me(&fresh), serde_json::json!({}));
    let rotated = TestServer::start(
        dir.path(),
        &[
            "--session-secret",
            "env:NIXWEB_TEST_SESSION_SECRET_2",
            "--session-secret",
            &flag,
        ],
    );
    assert_eq!(me(&rotated), serde_json::json!({"user": "ada"}));
}

#[test]
fn forged_and_expired_cookies_are_logged_and_ignored() {
    let dir = app(&[("default.nix", APP)]);
    let mut server = ServerProcess::start(
        env!("CARGO_BIN_EXE_nixweb"),
        dir.path(),
        &["--session-max-age", "4"],
    );
    // Long enough that a loaded machine still sends the two checks below within it (the
    // cookie lives at least 3 s: its expiry is a whole second).
    let max_age = std::time::Duration::from_secs(4);
    let login = server
        .client()
        .post(server.url("/login"))
        .form(&[("user", "ada")])
        .send()
        .unwrap();
    let logged_in = std::time::Instant::now();
    let cookie = pair(&set_cookie(&login, "nixweb-session").unwrap());
    let me = |cookie: &str| {
        server
            .client()
            .get(server.url("/me"))
            .header("cookie", cookie)
            .send()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap()
    };
    assert_eq!(me(&cookie), serde_json::json!({"user": "ada"}));
    assert_eq!(me(&format!("{cookie}A")), serde_json::json!({}));
    // Once its max age has passed (counted from the login's answer, after the server made
    // the cookie), the same cookie is refused.
    std::thread::sleep(
        (logged_in + max_age + std::time::Duration::from_millis(200))
            .saturating_duration_since(std::time::Instant::now()),
    );
    assert_eq!(me(&cookie), serde_json::json!({}));
    log_with(
        &server,
        &[
            "session cookie ignored: its signature matches none of the session secrets",
            "session cookie ignored: it expired",
        ],
    );
    server.assert_healthy(
        "after bad cookies",
        "/me",
        std::time::Duration::from_secs(5),
        200,
    );
}

#[test]
fn csrf_checks_refuse_forms_without_the_sessions_token() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &["--csrf"]) {
        // The form's page hands out a token, and the session it belongs to.
        let page = send(&server, Method::GET, "/form", None);
        let cookie = pair(&set_cookie(&page, "nixweb-session").expect("a session for the token"));
        let html = page.text().unwrap();
        let token = html
            .split("name=\"_csrf\" type=\"hidden\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{engine}: no token in {html}"))
            .to_owned();

        let post = |cookie: Option<&str>, field: Option<&str>, header: Option<&str>| {
            let mut request = server.request(Method::POST, "/change");
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            if let Some(header) = header {
                request = request.header("x-csrf-token", header);
            }
            let form: Vec<(&str, &str)> = field.map(|t| vec![("_csrf", t)]).unwrap_or_default();
            request.form(&form).send().unwrap()
        };
        let accepted = post(Some(&cookie), Some(&token), None);
        assert_eq!(accepted.status(), StatusCode::OK, "{engine}");
        assert_eq!(
            post(Some(&cookie), None, Some(&token)).status(),
            StatusCode::OK
        );
        for (what, reply) in [
            ("no token", post(Some(&cookie), None, None)),
            ("no session", post(None, Some(&token), None)),
            ("a wrong token", post(Some(&cookie), Some("AAAA"), None)),
        ] {
            assert_eq!(reply.status(), StatusCode::FORBIDDEN, "{engine}: {what}");
            assert!(reply.text().unwrap().contains("CSRF token"), "{what}");
        }
        // Another session's token does not do either.
        let other = pair(
            &set_cookie(&send(&server, Method::GET, "/form", None), "nixweb-session").unwrap(),
        );
        assert_eq!(
            post(Some(&other), Some(&token), None).status(),
            StatusCode::FORBIDDEN
        );
        // GET is never checked.
        assert_eq!(
            send(&server, Method::GET, "/me", None).status(),
            StatusCode::OK
        );
    }
}

#[test]
fn nixweb_toml_makes_the_secret_file_and_turns_csrf_checks_on() {
    let toml = "csrf = true\nsession-secrets = [\"file:keys/session.key\"]\n";
    let dir = app(&[
        ("default.nix", APP),
        ("nixweb.toml", toml),
        ("keys/.keep", ""),
    ]);
    let key = dir.path().join("keys/session.key");
    let mut ada: Option<String> = None;
    for (engine, server) in servers(dir.path(), &[]) {
        // Made at the first start, beside the app, readable by its owner only.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{engine}");
        let posted = send(&server, Method::POST, "/change", None);
        assert_eq!(
            posted.status(),
            StatusCode::FORBIDDEN,
            "{engine}: csrf = true"
        );
        // The second server (the other engine) reads the same file, so it knows the
        // first one's sessions.
        match &ada {
            None => ada = Some(login_with_csrf(&server, "ada")),
            Some(cookie) => assert_eq!(
                send(&server, Method::GET, "/me", Some(cookie))
                    .json::<serde_json::Value>()
                    .unwrap(),
                serde_json::json!({"user": "ada"}),
                "{engine}"
            ),
        }
    }
}

/// Logs in through the form page's token, with CSRF checks on; the session's cookie.
fn login_with_csrf(server: &TestServer, user: &str) -> String {
    let page = send(server, Method::GET, "/form", None);
    let cookie = pair(&set_cookie(&page, "nixweb-session").unwrap());
    let html = page.text().unwrap();
    let token = html
        .split("name=\"_csrf\" type=\"hidden\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let reply = server
        .request(Method::POST, "/login")
        .header("cookie", &cookie)
        .form(&[("user", user), ("_csrf", &token)])
        .send()
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    pair(&set_cookie(&reply, "nixweb-session").unwrap())
}

#[test]
fn the_response_cache_keeps_each_sessions_answers_to_itself() {
    let dir = app(&[("default.nix", APP)]);
    let server = TestServer::start(dir.path(), &["--engine", "embedded"]);
    // Two sessions with the same data.
    let a = login(&server, "ada");
    let b = login(&server, "ada");
    assert_ne!(a, b);
    let hit = |cookie: &str| {
        let reply = send(&server, Method::GET, "/me", Some(cookie));
        let hit = reply.headers().contains_key("x-nixweb-cache");
        assert_eq!(
            reply.json::<serde_json::Value>().unwrap(),
            serde_json::json!({"user": "ada"})
        );
        hit
    };
    assert!(!hit(&a));
    assert!(hit(&a), "the same session again is answered from the cache");
    assert!(
        !hit(&b),
        "another session never gets the first one's answer"
    );
    assert!(hit(&b));
}

#[test]
fn over_https_the_session_cookie_is_secure() {
    let dir = app(&[("default.nix", APP)]);
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let server = ServerProcess::start(
        env!("CARGO_BIN_EXE_nixweb"),
        dir.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/login", server.address().port());
    let reply = client.post(url).form(&[("user", "ada")]).send().unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let cookie = set_cookie(&reply, "nixweb-session").unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}
