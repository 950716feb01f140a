//! examples/hello through a real server on loopback, on every engine.

use nixweb_testkit::{engines, Method, StatusCode, TestServer};

fn servers() -> Vec<TestServer> {
    engines()
        .into_iter()
        .map(|engine| TestServer::start(example_hello::app_dir(), &["--engine", engine]))
        .collect()
}

#[test]
fn the_page_and_its_form() {
    for server in servers() {
        let page = server.get("/");
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        let text = page.text().unwrap();
        assert!(
            text.contains("<h1>Hello from Nix</h1>") && text.contains("<form method=\"post\">"),
            "{text}"
        );

        let posted = server
            .request(Method::POST, "/")
            .form(&[("name", "<b>Ada</b>")])
            .send()
            .unwrap();
        assert_eq!(posted.status(), StatusCode::OK);
        let text = posted.text().unwrap();
        assert!(
            text.contains("Hello, &lt;b&gt;Ada&lt;/b&gt;!"),
            "the name is escaped: {text}"
        );
    }
}

#[test]
fn nested_route_with_and_without_query() {
    for server in servers() {
        assert_eq!(server.get_text("/test/my/hello"), "Hello, world!");
        assert_eq!(server.get_text("/test/my/hello?name=Ada"), "Hello, Ada!");
        assert_eq!(
            server.get_text("/test/my/hello/"),
            "Hello, world!",
            "a trailing slash routes the same"
        );
    }
}

#[test]
fn query_echo() {
    for server in servers() {
        let reply = server.get("/echo?a=1&b=two%20words&a=3");
        assert_eq!(reply.headers()["content-type"], "application/json");
        assert_eq!(reply.text().unwrap(), r#"{"a":"1","b":"two words"}"#);
    }
}

#[test]
fn unknown_routes_and_methods() {
    for server in servers() {
        assert_eq!(
            server.get("/test/my").status(),
            StatusCode::NOT_FOUND,
            "a node without methods is not a route"
        );
        assert_eq!(server.get("/nope").status(), StatusCode::NOT_FOUND);
        let wrong = server
            .request(Method::DELETE, "/test/my/hello")
            .send()
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(wrong.headers()["allow"], "GET, HEAD, OPTIONS");
    }
}

#[test]
fn head_and_options_are_answered_for_the_app() {
    for server in servers() {
        let head = server
            .request(Method::HEAD, "/test/my/hello")
            .send()
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(
            head.headers()["content-length"],
            "13",
            "HEAD tells GET's length"
        );
        assert_eq!(head.text().unwrap(), "");
        let options = server.request(Method::OPTIONS, "/").send().unwrap();
        assert_eq!(options.status(), StatusCode::NO_CONTENT);
        assert_eq!(options.headers()["allow"], "GET, POST, HEAD, OPTIONS");
    }
}
