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

#[test]
fn data_is_sent_as_a_form_as_curl_sends_it() {
    let hello = example("hello");
    let form = nixweb(&["request", "POST", "/", &hello, "-d", "name=Ada"]);
    assert!(form.status.success(), "{}", stdout(&form));
    assert!(stdout(&form).contains("Hello, Ada!"), "{}", stdout(&form));
    let params = example("params");
    let json = nixweb(&[
        "request",
        "POST",
        "/echo",
        &params,
        "--json",
        r#"{"n": [1, 2]}"#,
    ]);
    assert!(
        stdout(&json).ends_with(r#"{"received":{"n":[1,2]}}"#),
        "{}",
        stdout(&json)
    );
}

#[test]
fn the_response_goes_to_stdout_and_the_log_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.nix"),
        "{ GET = \"fine\"; broken.GET = throw \"a handler error\"; }",
    )
    .unwrap();
    let app = dir.path().to_str().unwrap();
    let out = nixweb(&["request", "GET", "/broken", app]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stdout(&out).contains("a handler error"),
        "{}",
        stdout(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a handler error"), "{stderr}");
    assert!(!stderr.contains("HTTP/1.1"), "{stderr}");

    // Piped, the body is exactly the response's; on a terminal a newline ends it.
    let piped = nixweb(&["request", "GET", "/", app]);
    assert!(stdout(&piped).ends_with("\n\nfine"), "{}", stdout(&piped));
    let command = format!(
        "{} request GET / {app} 2>/dev/null",
        env!("CARGO_BIN_EXE_nixweb")
    );
    let terminal = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script runs");
    let shown = stdout(&terminal).replace("\r\n", "\n");
    assert!(shown.ends_with("\n\nfine\n"), "{shown:?}");
}

#[test]
fn each_subcommand_lists_only_its_own_flags() {
    let help = |command: &str| stdout(&nixweb(&[command, "--help"]));
    let server_only = [
        "--queue",
        "--workers",
        "--access-log",
        "--max-body",
        "--port",
    ];
    for command in ["request", "routes"] {
        let text = help(command);
        for flag in server_only {
            assert!(
                !text.contains(flag),
                "{command} --help lists {flag}:\n{text}"
            );
        }
        assert!(text.contains("nixweb.toml"), "{command} --help:\n{text}");
    }
    let serve = help("serve");
    for flag in server_only {
        assert!(serve.contains(flag), "serve --help lacks {flag}");
    }
    let workers = serve.split("--workers").nth(1).unwrap();
    assert!(
        workers.contains("embedded engine") && workers.contains("nix engine"),
        "{workers}"
    );
    assert!(stdout(&nixweb(&["--help"])).contains("nixweb.toml"));
}

/// An app that imports `<lib/greet.nix>`, and the folder to find `lib` in.
fn app_with_a_search_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("shared");
    std::fs::create_dir(&lib).unwrap();
    std::fs::write(lib.join("greet.nix"), "name: \"Hi, ${name}\"").unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("default.nix"),
        "{ GET = (import <lib/greet.nix>) \"path\"; }",
    )
    .unwrap();
    (dir, lib)
}

#[test]
fn nix_path_is_honoured_by_every_command() {
    let (dir, lib) = app_with_a_search_path();
    let app = dir.path().join("app");
    let app = app.to_str().unwrap();
    let nix_path = format!("other=/nonexistent:lib={}", lib.display());
    for engine in ["embedded", "nix"] {
        let run = |args: &[&str], nix_path: Option<&str>| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_nixweb"));
            command.args(args).args(["--engine", engine]);
            match nix_path {
                Some(value) => command.env("NIX_PATH", value),
                None => command.env_remove("NIX_PATH"),
            };
            command.output().unwrap()
        };
        let found = run(&["request", "GET", "/", app], Some(&nix_path));
        assert!(
            stdout(&found).ends_with("Hi, path"),
            "{engine}: {}{}",
            stdout(&found),
            String::from_utf8_lossy(&found.stderr)
        );
        let missing = run(&["request", "GET", "/", app], None);
        assert_eq!(missing.status.code(), Some(1), "{engine}");
        let stderr = String::from_utf8_lossy(&missing.stderr);
        assert!(stderr.contains("$NIX_PATH or -I"), "{engine}: {stderr}");
        let include = format!("lib={}", lib.display());
        let flagged = run(&["request", "GET", "/", app, "-I", &include], None);
        assert!(stdout(&flagged).ends_with("Hi, path"), "{engine}");
        let routes = run(&["routes", app], Some(&nix_path));
        assert!(routes.status.success(), "{engine}");
        assert!(
            stdout(&routes).starts_with("/ "),
            "{engine}: {}",
            stdout(&routes)
        );
        let expr = "import <lib/greet.nix> \"eval\"";
        let eval = run(&["eval", "-E", expr], Some(&nix_path));
        assert_eq!(stdout(&eval), "\"Hi, eval\"\n", "{engine}");
    }
}

#[test]
fn eval_sees_nixwebs_library_and_may_fetch() {
    for engine in ["embedded", "nix"] {
        let out = nixweb(&[
            "eval",
            "--engine",
            engine,
            "-E",
            "builtins.isAttrs (import <nixweb/html.nix>)",
        ]);
        assert_eq!(
            stdout(&out),
            "true\n",
            "{engine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/answer", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n42");
        }
    });
    let expr = format!("builtins.readFile (builtins.fetchurl \"{url}\")");
    let refused = nixweb(&["eval", "-E", &expr]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--allow-fetch 127.0.0.1"), "{stderr}");
    let allowed = nixweb(&["eval", "--allow-fetch", "127.0.0.1", "-E", &expr]);
    assert_eq!(
        stdout(&allowed),
        "\"42\"\n",
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
}

#[test]
fn routes_lists_what_evaluates_and_marks_what_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.nix"),
        r#"{
  GET = "home";
  reports = throw "reports are not written yet";
  shop.items.":id".GET = "item";
  shop.cart = { GET = "cart"; broken = 1 + "x"; };
  version = "1.0";
}"#,
    )
    .unwrap();
    let app = dir.path().to_str().unwrap();
    for engine in ["embedded", "nix"] {
        let out = nixweb(&["routes", app, "--engine", engine]);
        assert_eq!(out.status.code(), Some(1), "{engine}: a subtree failed");
        let table: Vec<String> = stdout(&out)
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            table,
            [
                "/ GET, HEAD, OPTIONS",
                "/reports failed: error: reports are not written yet",
                "/shop/cart GET, HEAD, OPTIONS",
                "/shop/cart/broken failed: error: cannot add a string to an integer",
                "/shop/items/:id GET, HEAD, OPTIONS",
            ]
            .map(str::to_owned),
            "{engine}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("the subtree /shop/cart/broken does not evaluate"),
            "{engine}: {stderr}"
        );
        assert!(
            stderr.contains("broken = 1 + \"x\";"),
            "{engine}: the source: {stderr}"
        );
    }
}
