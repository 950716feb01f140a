//! examples/random against an upstream on loopback whose answer changes on every call.

use nixweb_testkit::{engines, StatusCode, TestServer};
use std::io::{Read, Write};
use std::net::TcpListener;

/// A tiny JSON API answering [1], [2], [3]… and counting its calls.
fn start_upstream() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/random?min=1&max=100",
        listener.local_addr().unwrap()
    );
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = calls.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let body = format!("[{n}]");
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    (url, calls)
}

#[test]
fn every_request_fetches_a_fresh_number() {
    let (url, calls) = start_upstream();
    // The app reads RANDOM_API; engines see this process's environment.
    std::env::set_var("RANDOM_API", &url);
    for engine in engines() {
        let server = TestServer::start(example_random::app_dir(), &["--engine", engine]);
        let mut numbers = Vec::new();
        for _ in 0..2 {
            let reply = server.get("/");
            assert_eq!(reply.status(), StatusCode::OK, "{engine}");
            let json: serde_json::Value = reply.json().unwrap();
            numbers.push(json["number"].as_u64().expect("a number"));
        }
        assert_ne!(
            numbers[0], numbers[1],
            "{engine}: two requests saw the same number {numbers:?}"
        );
    }
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}
