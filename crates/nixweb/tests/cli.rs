//! `nixweb request`, `nixweb routes` and `nixweb eval`, run as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn nixweb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nixweb"))
        .args(args)
        .output()
        .expect("nixweb runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn example(name: &str) -> String {
    examples().join(name).to_str().unwrap().to_owned()
}

#[test]
fn routes_lists_every_example() {
    let expected: &[(&str, &[&str])] = &[
        (
            "hello",
            &[
                "/  GET, POST, HEAD, OPTIONS",
                "/echo  GET, HEAD, OPTIONS",
                "/test/my/hello  GET, HEAD, OPTIONS",
            ],
        ),
        ("random", &["/  GET, HEAD, OPTIONS"]),
        (
            "params",
            &[
                "/echo  POST, OPTIONS",
                "/users/:id  GET, HEAD, OPTIONS",
                "/files/:...path  GET, HEAD, OPTIONS",
                "/style.css  GET, HEAD, OPTIONS",
            ],
        ),
    ];
    for (name, rows) in expected {
        let out = nixweb(&["routes", &example(name)]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let table: Vec<String> = stdout(&out)
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for row in *rows {
            let row = row.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(table.contains(&row), "{name}: no row {row:?} in {table:#?}");
        }
    }
}

#[test]
fn request_prints_the_response_and_exits_by_status() {
    let out = nixweb(&[
        "request",
        "GET",
        "/test/my/hello",
        &example("hello"),
        "-q",
        "name=Ada Lovelace",
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\n"), "{text}");
    assert!(
        text.contains("content-type: text/html; charset=utf-8\n"),
        "{text}"
    );
    assert!(text.ends_with("\n\nHello, Ada Lovelace!"), "{text}");

    let missing = nixweb(&["request", "GET", "/nope", &example("hello")]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stdout(&missing).starts_with("HTTP/1.1 404 Not Found"));

    let redirect = nixweb(&["request", "GET", "/old", &example("params")]);
    assert_eq!(redirect.status.code(), Some(0), "3xx counts as success");
    assert!(stdout(&redirect).contains("location: /users/me"));
}

#[test]
fn request_sends_headers_and_bodies() {
    let params = example("params");
    let out = nixweb(&[
        "request",
        "POST",
        "/echo",
        &params,
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"n": 1}"#,
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).ends_with(r#"{"received":{"n":1}}"#),
        "{}",
        stdout(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"from": "file"}"#).unwrap();
    let from_file = nixweb(&[
        "request",
        "POST",
        "/echo",
        &params,
        "-H",
        "content-type: application/json",
        "-d",
        &format!("@{}", body.display()),
    ]);
    assert!(stdout(&from_file).ends_with(r#"{"received":{"from":"file"}}"#));

    let form = nixweb(&[
        "request",
        "POST",
        "/",
        &example("hello"),
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        "name=Bob",
    ]);
    assert!(stdout(&form).contains("Hello, Bob!"));
}

#[test]
fn eval_prints_what_nix_instantiate_prints() {
    let cases: &[&[&str]] = &[
        &["-E", "{ a = 1; b = [ 1 2 ]; }"],
        &["--strict", "-E", "{ a = 1; b = [ 1 \"x\" ]; }"],
        &["--strict", "--json", "-E", "{ a = 1.5; b = null; }"],
        &["-E", "throw \"no\""],
    ];
    for args in cases {
        let ours = nixweb(&[&["eval", "--engine", "nix"], *args].concat());
        let mut theirs = Command::new("nix-instantiate");
        theirs.arg("--eval").args(*args);
        let theirs = theirs.output().unwrap();
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
}
