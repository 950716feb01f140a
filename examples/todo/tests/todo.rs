//! examples/todo through a real server on loopback, on every engine: add, toggle, delete,
//! list, and the list surviving a restart.

use nixweb_testkit::{engines, Method, StatusCode, TestServer};
use serde_json::{json, Value};

fn start(engine: &str, db: &std::path::Path) -> TestServer {
    let db = format!("sqlite:{}", db.display());
    TestServer::start(example_todo::app_dir(), &["--engine", engine, "--db", &db])
}

fn add(server: &TestServer, title: &str) -> String {
    let reply = server
        .request(Method::POST, "/todos")
        .header("HX-Request", "true")
        .form(&[("title", title)])
        .send()
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    reply.text().unwrap()
}

fn list(server: &TestServer) -> Value {
    server.get("/todos").json().unwrap()
}

#[test]
fn add_toggle_delete_and_list() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, &dir.path().join("todo.db"));
        assert_eq!(list(&server), json!([]));
        let page = server.get_text("/");
        assert!(
            page.contains("<ul id=\"list\"></ul>") && page.contains("hx-post=\"/todos\""),
            "{page}"
        );

        let fragment = add(&server, "Buy <milk>");
        assert!(
            fragment.contains("Buy &lt;milk&gt;") && fragment.contains("1 left"),
            "{fragment}"
        );
        add(&server, "Write tests");
        assert_eq!(
            list(&server),
            json!([
                {"id": "0000000001", "title": "Buy <milk>", "done": false},
                {"id": "0000000002", "title": "Write tests", "done": false}
            ])
        );

        let toggled = server
            .request(Method::POST, "/todos/0000000001/toggle")
            .header("HX-Request", "true")
            .send()
            .unwrap();
        assert_eq!(toggled.status(), StatusCode::OK);
        assert!(toggled.text().unwrap().contains("1 left"));
        assert_eq!(list(&server)[0]["done"], true);

        let deleted = server
            .request(Method::DELETE, "/todos/0000000002")
            .header("HX-Request", "true")
            .send()
            .unwrap();
        assert_eq!(deleted.status(), StatusCode::OK);
        assert_eq!(
            list(&server),
            json!([{"id": "0000000001", "title": "Buy <milk>", "done": true}])
        );

        // Ids are never reused, even after a delete.
        add(&server, "Third");
        assert_eq!(list(&server)[1]["id"], "0000000003");
        assert_eq!(
            server
                .request(Method::DELETE, "/todos/0000000002")
                .send()
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
    }
}

#[test]
fn plain_forms_work_without_javascript() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, &dir.path().join("todo.db"));
        let reply = server
            .request(Method::POST, "/todos")
            .form(&[("title", "No JS")])
            .send()
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER);
        assert_eq!(reply.headers()["location"], "/");
        assert!(server.get_text("/").contains("No JS"));
    }
}

#[test]
fn empty_titles_are_refused_and_nothing_is_stored() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(engine, &dir.path().join("todo.db"));
        for title in ["", "   "] {
            let reply = server
                .request(Method::POST, "/todos")
                .form(&[("title", title)])
                .send()
                .unwrap();
            assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
        }
        assert_eq!(list(&server), json!([]));
    }
}

#[test]
fn the_list_survives_a_restart() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("todo.db");
        {
            let server = start(engine, &db);
            add(&server, "Persist me");
        }
        let server = start(engine, &db);
        assert_eq!(
            list(&server),
            json!([{"id": "0000000001", "title": "Persist me", "done": false}])
        );
    }
}

#[test]
fn htmx_is_served_locally() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(engines()[0], &dir.path().join("todo.db"));
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
