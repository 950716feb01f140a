//! Every way a request can go wrong, through a real server: the status, and what the client
//! and the log get to see.

use nixweb_testkit::{engines, Method, StatusCode, TestServer};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes an app (file name → contents) into a fresh folder.
fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const BROKEN: &str = r#"{
  throws.GET = throw "the handler gave up";
  asserts.GET = assert 1 == 2; "unreachable";
  types.GET = 1 + "one";
  missing.GET = { }.nothing;
  syntax.GET = import ./broken.nix;
  number.GET = 42;
  twobodies.GET = { body = "a"; json = 1; };
  function.GET = { json = x: x; };
}
"#;

fn broken_app() -> tempfile::TempDir {
    app(&[("default.nix", BROKEN), ("broken.nix", "{ a = ; }\n")])
}

#[test]
fn evaluation_errors_are_plain_500s_naming_the_request() {
    let dir = broken_app();
    for engine in engines() {
        let server = TestServer::start(dir.path(), &["--engine", engine]);
        for path in [
            "/throws",
            "/asserts",
            "/types",
            "/missing",
            "/syntax",
            "/number",
            "/twobodies",
            "/function",
        ] {
            let reply = server.get(path);
            assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
            let text = reply.text().unwrap();
            assert!(
                text.contains(&format!("request id: {id}")),
                "{path}: {text}"
            );
            assert!(
                !text.contains("error:") && !text.contains("gave up"),
                "{path} leaks the error: {text}"
            );
        }
    }
}

#[test]
fn dev_mode_shows_the_error_and_its_source() {
    let dir = broken_app();
    for engine in engines() {
        let server = TestServer::start(dir.path(), &["--engine", engine, "--dev"]);
        let entry = dir.path().canonicalize().unwrap().join("default.nix");
        // A throw is located by the app's first frame in its trace, on both engines.
        let throw_location = Some((&entry, 2));
        let cases = [
            ("/throws", "the handler gave up", throw_location),
            ("/asserts", "assertion", Some((&entry, 3))),
            (
                "/types",
                "cannot add a string to an integer",
                Some((&entry, 4)),
            ),
            ("/missing", "attribute &#39;nothing&#39; missing", None),
            ("/syntax", "syntax error", None),
            ("/number", "returned an integer", None),
            ("/twobodies", "`body`, `json`", None),
            ("/function", "cannot convert a function to JSON", None),
        ];
        for (path, message, location) in cases {
            let reply = server.get(path);
            assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            assert_eq!(reply.headers()["content-type"], "text/html; charset=utf-8");
            let page = reply.text().unwrap().replace("'", "&#39;");
            assert!(page.contains(message), "{path}: no {message:?} in {page}");
            if let Some((file, line)) = location {
                let at = format!("{}:{line}:", file.display());
                assert!(page.contains(&at), "{path}: no location {at} in {page}");
                let source_line = BROKEN
                    .lines()
                    .nth(line - 1)
                    .unwrap()
                    .trim()
                    .replace('"', "&quot;");
                assert!(
                    page.contains(&source_line),
                    "{path}: no source line {source_line:?} in {page}"
                );
            }
        }
    }
}

#[test]
fn an_app_that_is_not_a_route_tree_says_so() {
    let dir = app(&[("default.nix", "[ 1 2 ]")]);
    for engine in engines() {
        let server = TestServer::start(dir.path(), &["--engine", engine, "--dev"]);
        let reply = server.get("/");
        assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(reply
            .text()
            .unwrap()
            .contains("must evaluate to a route tree"));
    }
}

/// An upstream that accepts connections and never answers, so that an evaluation calling
/// it with fetchurl hangs.
fn silent_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

fn hanging_app() -> tempfile::TempDir {
    let url = silent_upstream();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    app(&[
        (
            "default.nix",
            &format!(
                r#"{{ slow.GET = builtins.readFile (builtins.fetchurl {{ url = "{url}"; name = "never"; }}); fast.GET = "fast"; }}"#
            ),
        ),
        ("nixweb.toml", &format!("allow-fetch = [\"{host}\"]\n")),
    ])
}

/// nix-instantiate processes still running on files of this app.
fn nix_processes_for(app: &Path) -> usize {
    let needle = app.canonicalize().unwrap().display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains("nix-instantiate") && cmdline.contains(&needle))
        .count()
}

#[test]
fn a_slow_evaluation_is_a_504_and_its_process_is_killed() {
    let dir = hanging_app();
    let server = TestServer::start(dir.path(), &["--engine", "nix", "--eval-timeout", "1"]);
    let started = Instant::now();
    let reply = server.get("/slow");
    assert_eq!(reply.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(reply.text().unwrap().contains("longer than 1s"));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the timeout did not cut the request short"
    );
    // The process group was killed: no nix-instantiate is left working for this app.
    let deadline = Instant::now() + Duration::from_secs(10);
    while nix_processes_for(dir.path()) > 0 {
        assert!(
            Instant::now() < deadline,
            "nix-instantiate still runs after the timeout"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.get_text("/fast"), "fast", "the server keeps serving");
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let dir = hanging_app();
    let server = std::sync::Arc::new(TestServer::start(
        dir.path(),
        &[
            "--engine",
            "nix",
            "--workers",
            "1",
            "--queue",
            "0",
            "--eval-timeout",
            "3",
        ],
    ));
    let busy = {
        let server = server.clone();
        std::thread::spawn(move || server.get("/slow").status())
    };
    // Wait until the one worker is taken by the slow request.
    let deadline = Instant::now() + Duration::from_secs(10);
    while nix_processes_for(dir.path()) == 0 {
        assert!(Instant::now() < deadline, "the slow request never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = server.get("/fast");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(busy.join().unwrap(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        server.get_text("/fast"),
        "fast",
        "once the worker is free, requests are served"
    );
}

#[test]
fn a_large_body_is_a_413_without_evaluation() {
    // Evaluating this app would fail; a 413 proves the body was refused before evaluation.
    let dir = app(&[("default.nix", r#"{ POST = throw "evaluated"; }"#)]);
    for engine in engines() {
        let server = TestServer::start(dir.path(), &["--engine", engine, "--max-body", "16"]);
        let sized = server
            .request(Method::POST, "/")
            .body(vec![b'x'; 1000])
            .send()
            .unwrap();
        assert_eq!(sized.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // Chunked, with no Content-Length to go by.
        let chunked = server
            .request(Method::POST, "/")
            .body(reqwest::blocking::Body::new(
                std::io::Cursor::new(vec![b'x'; 1000]).take(1000),
            ))
            .send()
            .unwrap();
        assert_eq!(chunked.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let small = server
            .request(Method::POST, "/")
            .body("tiny")
            .send()
            .unwrap();
        assert_eq!(
            small.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "a small body is evaluated"
        );
    }
}

#[test]
fn a_missing_nix_is_explained_at_start_up() {
    let dir = app(&[("default.nix", "{ GET = \"hi\"; }")]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nixweb"))
        .args([
            "serve",
            dir.path().to_str().unwrap(),
            "--engine",
            "nix",
            "--port",
            "0",
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apt-get install nix-bin"), "{stderr}");
}
