//! examples/params through a real server on loopback, on every engine.

use nixweb_testkit::{engines, Method, StatusCode, TestServer};
use serde_json::{json, Value};

fn servers() -> Vec<TestServer> {
    engines()
        .into_iter()
        .map(|engine| TestServer::start(example_params::app_dir(), &["--engine", engine]))
        .collect()
}

fn json_of(server: &TestServer, path: &str) -> Value {
    let reply = server.get(path);
    assert_eq!(reply.status(), StatusCode::OK, "GET {path}");
    reply.json().unwrap()
}

#[test]
fn captures() {
    for s in servers() {
        assert_eq!(json_of(&s, "/users/42"), json!({"id": "42"}));
        assert_eq!(
            json_of(&s, "/users/J%C3%BCrgen"),
            json!({"id": "Jürgen"}),
            "captures are percent-decoded"
        );
        assert_eq!(
            json_of(&s, "/users/me"),
            json!({"id": "the current user"}),
            "exact names win"
        );
        assert_eq!(
            json_of(&s, "/files/a/b/c.txt"),
            json!({"path": ["a", "b", "c.txt"]})
        );
        assert_eq!(
            s.get("/files").status(),
            StatusCode::NOT_FOUND,
            "a rest capture takes at least one segment"
        );
    }
}

#[test]
fn json_body_echo_with_status_and_header() {
    for s in servers() {
        let reply = s
            .request(Method::POST, "/echo")
            .json(&json!({"n": [1, 2.5, "x", null, true]}))
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::CREATED);
        assert_eq!(reply.headers()["x-echo"], "yes");
        assert_eq!(
            reply.json::<Value>().unwrap(),
            json!({"received": {"n": [1, 2.5, "x", null, true]}})
        );

        let invalid = s
            .request(Method::POST, "/echo")
            .header("Content-Type", "application/json")
            .body("{oops")
            .send()
            .unwrap();
        assert_eq!(
            invalid.status(),
            StatusCode::BAD_REQUEST,
            "invalid JSON is refused before evaluation"
        );
    }
}

#[test]
fn request_fields() {
    for s in servers() {
        let reply = s
            .request(Method::GET, "/whoami/")
            .header("User-Agent", "tester/1.0")
            .header("Cookie", "a=1; b=2")
            .send()
            .unwrap();
        let who: Value = reply.json().unwrap();
        assert_eq!(who["method"], "GET");
        assert_eq!(who["path"], "/whoami/");
        assert_eq!(who["segments"], json!(["whoami"]));
        assert_eq!(who["cookies"], json!({"a": "1", "b": "2"}));
        assert_eq!(who["remoteAddr"], "127.0.0.1");
        assert_eq!(who["userAgent"], "tester/1.0");
    }
}

#[test]
fn statuses_redirects_and_cookies() {
    for s in servers() {
        let teapot = s.get("/teapot");
        assert_eq!(teapot.status().as_u16(), 418);
        assert_eq!(teapot.headers()["content-type"], "text/plain");
        assert_eq!(teapot.text().unwrap(), "I'm a teapot");

        let old = s.get("/old");
        assert_eq!(old.status(), StatusCode::FOUND);
        assert_eq!(old.headers()["location"], "/users/me");
        assert_eq!(s.get("/moved").status(), StatusCode::MOVED_PERMANENTLY);

        let login = s.request(Method::POST, "/login").send().unwrap();
        let cookies: Vec<_> = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            cookies,
            [
                "theme=dark; SameSite=Lax; Path=/; Max-Age=3600",
                "user=abc; HttpOnly; SameSite=Lax; Path=/"
            ]
        );
        let tags: Vec<_> = login.headers().get_all("x-tags").iter().collect();
        assert_eq!(tags, ["a", "b"]);
    }
}

#[test]
fn files() {
    for s in servers() {
        let css = s.get("/style.css");
        assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
        assert_eq!(css.text().unwrap(), "body { font-family: sans-serif; }\n");
        assert_eq!(s.get_text("/static/hello.txt"), "hello from a file\n");
        assert_eq!(s.get("/static/missing.txt").status(), StatusCode::NOT_FOUND);
        for attack in [
            "/static/..%2F..%2F..%2Fetc%2Fpasswd",
            "/static/%2e%2e",
            "/static/../../etc/passwd",
        ] {
            let status = s.get(attack).status();
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
                "{attack}: {status}"
            );
            assert_ne!(status, StatusCode::OK);
        }
    }
}
