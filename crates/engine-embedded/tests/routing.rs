//! Route resolution of the shared router (crates/app/nix/router.nix), through the embedded
//! engine: which handler answers each path, with which captures, and what is not found.
//! The router takes the path of exact names when it ends at a node with methods and
//! searches (with backtracking) otherwise; these cases are where the two could part.

use nixweb_app::engine::{Engine, RouterCall, RouterMode};
use nixweb_app::request::{Request, RequestParts};
use nixweb_engine_embedded::{EmbeddedConfig, EmbeddedEngine};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const APP: &str = r#"
{
  GET = "root";
  # An exact path that ends at a node without methods: /a/x is the capture's.
  a.x.deeper.GET = "a.x.deeper";
  ":p".x.GET = req: "p.x ${req.params.p}";
  # A method's name as a segment never enters the method, even one holding a "GET":
  # /verbs/GET is the capture's.
  verbs.GET = { body = "verbs"; GET = "a response's attribute, not a route"; };
  verbs.":m".GET = req: "m ${req.params.m}";
  # An exact name that is not a node: /leaf/b goes on through the capture.
  leaf = "a string";
  ":q".b.GET = req: "q.b ${req.params.q}";
  # Exact names win over captures, one captures over rest captures.
  users.me.GET = "me";
  users.":id".GET = req: "user ${req.params.id}";
  files.":...path".GET = req: { json = req.params; };
  only.POST = "posted";
}
"#;

fn call(
    engine: &EmbeddedEngine,
    runtime: &tokio::runtime::Runtime,
    method: &str,
    path: &str,
    mode: RouterMode,
) -> Value {
    let uri: http::Uri = path.parse().expect("a path");
    let request = Request::new(&RequestParts {
        method: &method.parse().expect("a method"),
        uri: &uri,
        headers: &http::HeaderMap::new(),
        body: b"",
        remote_addr: None,
        id: "routing",
        time: 0,
    })
    .expect("a valid request");
    let call = RouterCall {
        mode,
        request: Arc::new(request),
        timeout: Duration::from_secs(20),
        state: None,
        traces: Arc::new(nixweb_app::trace::Traces::new(
            "routing",
            nixweb_app::trace::DEFAULT_LIMIT,
        )),
    };
    runtime
        .block_on(engine.run_router(call))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

#[test]
fn each_path_goes_to_the_handler_the_search_finds() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("default.nix");
    std::fs::write(&app, APP).unwrap();
    let config = EmbeddedConfig {
        workers: 1,
        response_cache: false,
        ..EmbeddedConfig::default()
    };
    let engine = EmbeddedEngine::new(&app.canonicalize().unwrap(), config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle =
        |method: &str, path: &str| call(&engine, &runtime, method, path, RouterMode::Handle);
    let body = |path: &str| {
        let result = handle("GET", path);
        assert_eq!(result["outcome"], "response", "GET {path}: {result}");
        result["response"]["body"].clone()
    };

    assert_eq!(body("/"), "root");
    assert_eq!(body("/a/x/deeper"), "a.x.deeper");
    assert_eq!(
        body("/a/x"),
        "p.x a",
        "backtracks from an exact node without methods"
    );
    assert_eq!(
        body("/verbs/GET"),
        "m GET",
        "a method's name is not a child"
    );
    assert_eq!(body("/leaf/b"), "q.b leaf", "an exact name that is no node");
    assert_eq!(body("/users/me"), "me");
    assert_eq!(body("/users/42"), "user 42");
    let files = handle("GET", "/files/a/b");
    assert_eq!(files["response"]["json"], json!({ "path": ["a", "b"] }));

    assert_eq!(handle("GET", "/a")["outcome"], "notFound");
    assert_eq!(handle("GET", "/files")["outcome"], "notFound");
    assert_eq!(handle("GET", "/users/me/more")["outcome"], "notFound");
    let only = handle("GET", "/only");
    assert_eq!(only["outcome"], "methodNotAllowed");
    assert_eq!(only["allow"], json!(["POST", "OPTIONS"]));
    let head = handle("HEAD", "/users/me");
    assert_eq!(head["response"]["body"], "me", "HEAD is answered by GET");

    // Where each handler is defined, found the same way (for error messages).
    let route =
        |path: &str| call(&engine, &runtime, "GET", path, RouterMode::Route)["route"].clone();
    assert_eq!(route("/users/me")["pattern"], "/users/me");
    assert_eq!(route("/a/x")["pattern"], "/:p/x");
    assert_eq!(route("/users/7")["pattern"], "/users/:id");
    let line = APP
        .lines()
        .position(|l| l.contains("a.x.deeper.GET"))
        .unwrap()
        + 1;
    assert_eq!(route("/a/x/deeper")["line"], line);
    assert_eq!(route("/nowhere"), Value::Null);
}
