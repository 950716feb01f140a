//! The first app of issue 15 (tests/first-app), walked through as its author would: with
//! `nixweb request`, then with a real server and a browser's requests, on both engines,
//! reading what nixweb says at each step: the response, the log, the `--dev` page.

use nixweb_testkit::engines;
use nixweb_testkit::process::ServerProcess;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn first_app() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/first-app")
        .canonicalize()
        .unwrap()
}

/// A loopback upstream that answers every request with one quote, as JSON.
fn quotes() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/quote.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let body = r#"{"text": "Simplicity is prerequisite for reliability."}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// `nixweb request METHOD PATH first-app ARGS…` with the upstream's address in the
/// environment.
fn request(engine: &str, upstream: &str, method: &str, path: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nixweb"))
        .args(["request", method, path])
        .arg(first_app())
        .args(["--engine", engine])
        .args(args)
        .env("QUOTES_URL", upstream)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What the author reads about a handler that failed: where, what, and nothing of nixweb's.
fn assert_reads_like_the_apps_error(engine: &str, said: &str, place: &str, message: &str) {
    assert!(said.contains(place), "{engine}: no {place:?} in\n{said}");
    assert!(
        said.contains(message),
        "{engine}: no {message:?} in\n{said}"
    );
    assert!(
        !said.contains("router.nix"),
        "{engine}: nixweb's frames in\n{said}"
    );
}

#[test]
fn with_nixweb_request() {
    let upstream = quotes();
    let file = first_app().join("default.nix");
    let file = file.display();
    for engine in engines() {
        let run = |method: &str, path: &str, args: &[&str]| {
            request(engine, &upstream, method, path, args)
        };

        // The page, with its form.
        let page = run("GET", "/", &[]);
        assert!(page.status.success(), "{engine}: {}", text(&page.stderr));
        assert!(
            text(&page.stdout).contains("<form id=\"greet\">"),
            "{engine}"
        );

        // A form post, as curl -d sends it, and the JSON the page's script posts.
        let form = run("POST", "/", &["-d", "name=Ada"]);
        assert!(
            text(&form.stdout).ends_with("<p>Hello, Ada!</p>"),
            "{engine}: {}",
            text(&form.stdout)
        );
        let json = run("POST", "/greet", &["--json", r#"{"name": "Ada"}"#]);
        assert!(
            text(&json.stdout).ends_with(r#"{"greeting":"Hello, Ada!"}"#),
            "{engine}: {}",
            text(&json.stdout)
        );

        // A capture.
        let user = run("GET", "/users/7", &[]);
        assert!(text(&user.stdout).ends_with(r#"{"id":"7"}"#), "{engine}");

        // A handler that throws: the response says 500 on stdout, the log on stderr says
        // where and why, the app's frames only.
        let thrown = run("DELETE", "/users/7", &[]);
        assert_eq!(thrown.status.code(), Some(1), "{engine}");
        assert!(text(&thrown.stdout).starts_with("HTTP/1.1 500"), "{engine}");
        assert!(
            !text(&thrown.stdout).contains("cannot be deleted"),
            "{engine}: the client sees no details"
        );
        assert_reads_like_the_apps_error(
            engine,
            &text(&thrown.stderr),
            &format!("DELETE /users/:id (handler at {file}:34): error: user 7 cannot be deleted"),
            "users.\":id\".DELETE = req: throw",
        );

        // A syntax error, in the file the handler imports.
        let broken = run("GET", "/notes", &[]);
        assert_eq!(broken.status.code(), Some(1), "{engine}");
        assert_reads_like_the_apps_error(
            engine,
            &text(&broken.stderr),
            &format!("GET /notes (handler at {file}:36)"),
            "syntax error",
        );
        assert!(
            text(&broken.stderr).contains("first-app/notes.nix:"),
            "{engine}: {}",
            text(&broken.stderr)
        );

        // A fetch, allowed by the app's nixweb.toml.
        let quote = run("GET", "/quote", &[]);
        assert!(
            text(&quote.stdout)
                .ends_with(r#"{"text":"Simplicity is prerequisite for reliability."}"#),
            "{engine}: {}{}",
            text(&quote.stdout),
            text(&quote.stderr)
        );

        // A header read.
        let who = run("GET", "/whoami", &["-H", "User-Agent: first-app-test/1.0"]);
        assert!(
            text(&who.stdout).ends_with("You came with first-app-test/1.0"),
            "{engine}: {}",
            text(&who.stdout)
        );
    }
}

fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A copy of the app to edit while it is served.
fn copy_of_the_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["default.nix", "notes.nix", "nixweb.toml"] {
        std::fs::copy(first_app().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

#[test]
fn with_a_real_server() {
    let upstream = quotes();
    for engine in engines() {
        let dir = copy_of_the_app();
        let app = dir.path().canonicalize().unwrap();
        let file = app.join("default.nix");
        let server = ServerProcess::start_with_env(
            env!("CARGO_BIN_EXE_nixweb"),
            &app,
            &["--engine", engine, "--dev"],
            &[("QUOTES_URL", upstream.as_str())],
        );
        server.log_lines("the app has 6 routes");
        let client = server.client();

        let page = client.get(server.url("/")).send().unwrap();
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        assert!(
            page.text().unwrap().contains("fetch(\"/greet\""),
            "{engine}"
        );
        let greeting = client
            .post(server.url("/greet"))
            .json(&serde_json::json!({"name": "Grace"}))
            .send()
            .unwrap();
        assert_eq!(
            greeting.text().unwrap(),
            r#"{"greeting":"Hello, Grace!"}"#,
            "{engine}"
        );
        let user = client.get(server.url("/users/42")).send().unwrap();
        assert_eq!(user.text().unwrap(), r#"{"id":"42"}"#, "{engine}");

        // The throw: the --dev page and the log say where, with the app's source.
        let thrown = client.delete(server.url("/users/42")).send().unwrap();
        assert_eq!(thrown.status().as_u16(), 500);
        let id = thrown.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = unescape(&thrown.text().unwrap());
        let place = format!("DELETE /users/:id (handler at {}:34)", file.display());
        assert_reads_like_the_apps_error(
            engine,
            &page,
            &format!("in {place}"),
            "user 42 cannot be deleted",
        );
        assert!(
            page.contains(r#"users.":id".DELETE = req: throw"#),
            "{engine}: the source: {page}"
        );
        let log = server.log_lines(&format!("id={id} "));
        assert_reads_like_the_apps_error(engine, &log, &place, "user 42 cannot be deleted");
        // The access line says who asked, what for, and what went back.
        let access = server.log_lines(&format!("id={id} DELETE /users/42 500"));
        assert!(access.contains("client=127.0.0.1"), "{access}");

        // The syntax error, on the page, with where it is.
        let broken = client.get(server.url("/notes")).send().unwrap();
        assert_eq!(broken.status().as_u16(), 500);
        let page = unescape(&broken.text().unwrap());
        assert_reads_like_the_apps_error(engine, &page, "GET /notes (handler at ", "syntax error");
        assert!(
            page.contains(&format!("{}:", app.join("notes.nix").display())),
            "{engine}: {page}"
        );

        // The fetch and the header.
        let quote = client.get(server.url("/quote")).send().unwrap();
        assert_eq!(
            quote.text().unwrap(),
            r#"{"text":"Simplicity is prerequisite for reliability."}"#,
            "{engine}"
        );
        let who = client
            .get(server.url("/whoami"))
            .header("user-agent", "a-browser")
            .send()
            .unwrap();
        assert_eq!(who.text().unwrap(), "You came with a-browser", "{engine}");

        // The author fixes the syntax error while the server runs: served at once.
        std::fs::write(
            app.join("notes.nix"),
            "req: { body = \"notes for ${req.path}\"; }\n",
        )
        .unwrap();
        assert_eventually_served(&server, "/notes", "notes for /notes", engine);

        // …and breaks the app itself: the next start says so, with its source.
        drop(server);
        let mut text = std::fs::read_to_string(&file).unwrap();
        text = text.replace("users.\":id\".GET = req: {", "users.\":id\".GET = req: {{");
        std::fs::write(&file, &text).unwrap();
        let server = ServerProcess::start_with_env(
            env!("CARGO_BIN_EXE_nixweb"),
            &app,
            &["--engine", engine],
            &[("QUOTES_URL", upstream.as_str())],
        );
        // The source comes after the message: once it is there, the whole error is.
        server.log_lines("users.\":id\".GET = req: {{");
        let startup = server.stderr();
        assert!(
            startup.contains(&format!("{}:", file.display())),
            "{engine}: {startup}"
        );
        assert!(
            startup.contains("users.\":id\".GET = req: {{"),
            "{engine}: the source: {startup}"
        );
    }
}

fn assert_eventually_served(server: &ServerProcess, path: &str, body: &str, engine: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = server.get(path).unwrap();
        if reply.status().as_u16() == 200 {
            assert_eq!(reply.text().unwrap(), body, "{engine}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{engine}: {path} is not served once fixed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
