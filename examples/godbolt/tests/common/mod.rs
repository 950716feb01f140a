//! What the godbolt tests share: one server for the whole test binary, and helpers.

#![allow(dead_code)] // each test binary uses a different part

use nixweb_testkit::{Method, StatusCode, TestServer};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// One server for every test of a test binary (builds queue on its two workers).
pub fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| serve(&[]))
}

/// `nixweb serve examples/godbolt` with extra flags; everything else comes from the app's
/// nixweb.toml, as for someone who runs it by hand.
pub fn serve(flags: &[&str]) -> TestServer {
    TestServer::start(example_godbolt::app_dir(), flags)
}

/// `code` with a comment no other request carries, so Nix builds it instead of answering
/// from its store.
pub fn fresh(code: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{code}\n// run {nanos}-{}-{n}\n", std::process::id())
}

/// POSTs a program and returns the JSON result, asserting a 200.
pub fn compile(code: &str, language: &str, flags: &str) -> Value {
    let reply = server()
        .request(Method::POST, "/compile")
        .header("Accept", "application/json")
        .form(&[("code", code), ("language", language), ("flags", flags)])
        .send()
        .expect("the server answers");
    let status = reply.status();
    let text = reply.text().unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
