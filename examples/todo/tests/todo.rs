//! examples/todo through a real server on loopback, on every engine: add, toggle, delete,
//! list, each visitor's own list, the CSRF checks, and the lists surviving a restart.

use nixweb_testkit::{engines, Method, RequestBuilder, Response, StatusCode, TestServer};
use serde_json::{json, Value};
use std::path::Path;

/// The server, with its database and session secret in `dir` (so both survive a restart).
fn start(engine: &str, dir: &Path) -> TestServer {
    let db = format!("sqlite:{}", dir.join("todo.db").display());
    let secret = format!("file:{}", dir.join("session.key").display());
    TestServer::start(
        example_todo::app_dir(),
        &["--engine", engine, "--db", &db, "--session-secret", &secret],
    )
}

/// One browser: its session cookie and the CSRF token its page carries.
struct Visitor<'a> {
    server: &'a TestServer,
    cookie: String,
    token: String,
}

impl<'a> Visitor<'a> {
    /// Loads the page, as a browser's first visit does.
    fn arrive(server: &'a TestServer) -> Visitor<'a> {
        let page = server.get("/");
        assert_eq!(page.status(), StatusCode::OK);
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with("nixweb-session="))
            .expect("the first visit starts a session")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = page.text().unwrap();
        let token = html
            .split("name=\"_csrf\" type=\"hidden\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no CSRF field in {html}"))
            .to_owned();
        Visitor {
            server,
            cookie,
            token,
        }
    }

    /// A request as HTMX sends it from the page: with the cookie and the token header.
    fn htmx(&self, method: Method, path: &str) -> RequestBuilder {
        self.server
            .request(method, path)
            .header("cookie", &self.cookie)
            .header("hx-request", "true")
            .header("x-csrf-token", &self.token)
    }

    fn add(&self, title: &str) -> String {
        let reply = self
            .htmx(Method::POST, "/todos")
            .form(&[("title", title)])
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        reply.text().unwrap()
    }

    fn send(&self, method: Method, path: &str) -> Response {
        self.htmx(method, path).send().unwrap()
    }

    fn list(&self) -> Value {
        self.server
            .request(Method::GET, "/todos")
            .header("cookie", &self.cookie)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn page(&self) -> String {
        self.server
            .request(Method::GET, "/")
            .header("cookie", &self.cookie)
            .send()
            .unwrap()
            .text()
            .unwrap()
    }
}

#[test]
fn add_toggle_delete_and_list() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, dir.path());
        let me = Visitor::arrive(&server);
        assert_eq!(me.list(), json!([]));
        let page = me.page();
        assert!(
            page.contains("<ul id=\"list\"></ul>") && page.contains("hx-post=\"/todos\""),
            "{page}"
        );

        let fragment = me.add("Buy <milk>");
        assert!(
            fragment.contains("Buy &lt;milk&gt;") && fragment.contains("1 left"),
            "{fragment}"
        );
        me.add("Write tests");
        assert_eq!(
            me.list(),
            json!([
                {"id": "0000000001", "title": "Buy <milk>", "done": false},
                {"id": "0000000002", "title": "Write tests", "done": false}
            ])
        );

        let toggled = me.send(Method::POST, "/todos/0000000001/toggle");
        assert_eq!(toggled.status(), StatusCode::OK);
        assert!(toggled.text().unwrap().contains("1 left"));
        assert_eq!(me.list()[0]["done"], true);

        let deleted = me.send(Method::DELETE, "/todos/0000000002");
        assert_eq!(deleted.status(), StatusCode::OK);
        assert_eq!(
            me.list(),
            json!([{"id": "0000000001", "title": "Buy <milk>", "done": true}])
        );

        // Ids are never reused, even after a delete.
        me.add("Third");
        assert_eq!(me.list()[1]["id"], "0000000003");
        assert_eq!(
            me.send(Method::DELETE, "/todos/0000000002").status(),
            StatusCode::NOT_FOUND
        );
    }
}

#[test]
fn each_visitor_has_a_list_of_its_own() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, dir.path());
        let ada = Visitor::arrive(&server);
        let bob = Visitor::arrive(&server);
        assert_ne!(ada.cookie, bob.cookie);
        ada.add("Ada's");
        bob.add("Bob's");
        bob.add("Bob's second");
        assert_eq!(
            ada.list(),
            json!([{"id": "0000000001", "title": "Ada's", "done": false}]),
            "{engine}"
        );
        assert_eq!(bob.list()[1]["title"], "Bob's second");
        // Each numbers its own todos, and cannot touch the other's.
        assert_eq!(
            bob.send(Method::DELETE, "/todos/0000000002").status(),
            StatusCode::OK
        );
        assert_eq!(
            ada.send(Method::DELETE, "/todos/0000000002").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(ada.list().as_array().unwrap().len(), 1);
        // A visitor without a session sees nobody's list.
        let stranger: Value = server.get("/todos").json().unwrap();
        assert_eq!(stranger, json!([]));
    }
}

#[test]
fn changes_need_the_pages_csrf_token() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, dir.path());
        let me = Visitor::arrive(&server);
        let forged = server
            .request(Method::POST, "/todos")
            .header("cookie", &me.cookie)
            .form(&[("title", "From another site")])
            .send()
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{engine}");
        let other = Visitor::arrive(&server);
        let borrowed = server
            .request(Method::POST, "/todos")
            .header("cookie", &me.cookie)
            .header("x-csrf-token", &other.token)
            .form(&[("title", "With another visitor's token")])
            .send()
            .unwrap();
        assert_eq!(borrowed.status(), StatusCode::FORBIDDEN, "{engine}");
        assert_eq!(me.list(), json!([]));
    }
}

#[test]
fn plain_forms_work_without_javascript() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, dir.path());
        let me = Visitor::arrive(&server);
        let reply = server
            .request(Method::POST, "/todos")
            .header("cookie", &me.cookie)
            .form(&[("title", "No JS"), ("_csrf", &me.token)])
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER);
        assert_eq!(reply.headers()["location"], "/");
        assert!(me.page().contains("No JS"));
    }
}

#[test]
fn empty_titles_are_refused_and_nothing_is_stored() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, dir.path());
        let me = Visitor::arrive(&server);
        for title in ["", "   "] {
            let reply = me
                .htmx(Method::POST, "/todos")
                .form(&[("title", title)])
                .send()
                .unwrap();
            assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
        }
        assert_eq!(me.list(), json!([]));
    }
}

#[test]
fn the_lists_survive_a_restart() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let cookie = {
            let server = start(engine, dir.path());
            let me = Visitor::arrive(&server);
            me.add("Persist me");
            me.cookie.clone()
        };
        let server = start(engine, dir.path());
        let me = Visitor {
            server: &server,
            cookie,
            token: String::new(),
        };
        assert_eq!(
            me.list(),
            json!([{"id": "0000000001", "title": "Persist me", "done": false}]),
            "{engine}"
        );
    }
}

#[test]
fn htmx_is_served_locally() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(engines()[0], dir.path());
    let reply = server.get("/htmx.min.js");
    assert_eq!(
        reply.status(),
        StatusCode::OK,
        "run `npm ci` in examples/todo (scripts/setup does)"
    );
    assert!(reply.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert!(reply.text().unwrap().contains("htmx"));
}
