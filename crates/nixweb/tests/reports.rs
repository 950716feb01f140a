//! What a person fixing an app reads when it fails, in the log and on the `--dev` page, on
//! both engines: the route and the handler's line first, then the app's own frames, with
//! nixweb's (its router's, in a temporary folder) hidden unless `--show-trace`.

use nixweb_testkit::engines;
use nixweb_testkit::process::ServerProcess;

const APP: &str = r#"{
  GET = "home";
  users.":id".GET = req: if req.params.id == "0" then throw "there is no user 0" else { json = req.params; };
  count.GET = req: 42;
  typo.GET = { statuss = 404; body = "x"; };
  nested.deeper.POST = req: { json = { a = 1 + "x"; }; };
}
"#;

fn app(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.nix"), text).unwrap();
    dir
}

fn server(dir: &tempfile::TempDir, engine: &str, extra: &[&str]) -> ServerProcess {
    let mut flags = vec!["--engine", engine, "--dev"];
    flags.extend_from_slice(extra);
    ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), &flags)
}

/// The dev page of `method path`, unescaped enough to search, and the log's lines about it.
fn failed(server: &ServerProcess, method: &str, path: &str) -> (String, String) {
    let reply = server
        .client()
        .request(method.parse().unwrap(), server.url(path))
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 500, "{method} {path}");
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    let page = reply
        .text()
        .unwrap()
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let log = server.log_lines(&format!("ERROR nixweb::request: id={id} "));
    (page, log)
}

#[test]
fn a_handler_error_names_its_route_and_line_and_hides_nixwebs_frames() {
    let dir = app(APP);
    let file = dir.path().canonicalize().unwrap().join("default.nix");
    let file = file.display();
    for engine in engines() {
        let server = server(&dir, engine, &[]);
        let cases = [
            (
                "GET",
                "/users/0",
                format!("GET /users/:id (handler at {file}:3)"),
                "there is no user 0",
            ),
            // HEAD runs GET's handler, and says so.
            (
                "HEAD",
                "/users/0",
                format!("GET /users/:id (handler at {file}:3)"),
                "",
            ),
            (
                "GET",
                "/count",
                format!("GET /count (handler at {file}:4)"),
                "but it returned an integer",
            ),
            (
                "POST",
                "/nested/deeper",
                format!("POST /nested/deeper (handler at {file}:6)"),
                "cannot add a string to an integer",
            ),
        ];
        for (method, path, place, message) in cases {
            let (page, log) = failed(&server, method, path);
            if method != "HEAD" {
                assert!(
                    page.contains(&format!("in {place}")),
                    "{engine} {path}: no {place:?} in {page}"
                );
                assert!(
                    page.contains(message),
                    "{engine} {path}: no {message:?} in {page}"
                );
                assert!(!page.contains("router.nix"), "{engine} {path}: {page}");
            }
            let first = log.lines().next().unwrap();
            assert!(
                first.contains(&format!("{place}: ")),
                "{engine} {path}: {first}"
            );
            assert!(log.contains(message), "{engine} {path}: {log}");
            assert!(!log.contains("router.nix"), "{engine} {path}: {log}");
        }
        // The throw's own frame, in the app, comes before anything else.
        let (page, _) = failed(&server, "GET", "/users/0");
        let source = r#"users.":id".GET = req: if req.params.id == "0" then throw"#;
        assert!(page.contains(source), "{engine}: no source line in {page}");
        // An invalid response shows the handler's definition.
        let (page, _) = failed(&server, "GET", "/count");
        assert!(page.contains("count.GET = req: 42;"), "{engine}: {page}");
    }
}

#[test]
fn show_trace_shows_nixwebs_frames_too() {
    let dir = app(APP);
    for engine in engines() {
        let server = server(&dir, engine, &["--show-trace"]);
        let (page, log) = failed(&server, "GET", "/users/0");
        assert!(page.contains("router.nix"), "{engine}: {page}");
        assert!(log.contains("router.nix"), "{engine}: {log}");
        assert!(!log.contains("frames hidden"), "{engine}: {log}");
    }
}

/// The frames `nixweb eval --show-trace` prints for an app's error (its addErrorContext
/// texts and Nix's "while evaluating" frames, each with its source line) are on the
/// `--dev` page of a server started with `--show-trace`, in the same order.
#[test]
fn show_trace_puts_the_frames_of_nixweb_eval_on_the_dev_page() {
    let check = r#"let
    checked = order: builtins.addErrorContext "while checking order ${order.id}" (
      if order.qty > 0 then order else throw "order ${order.id} has no items"
    );
  in checked { id = "a7"; qty = 0; }"#;
    let dir = app(&format!(
        "{{\n  orders.GET = req: {{\n    json = {check};\n  }};\n}}\n"
    ));
    std::fs::write(dir.path().join("check.nix"), check).unwrap();
    let eval = std::process::Command::new(env!("CARGO_BIN_EXE_nixweb"))
        .args(["eval", "--show-trace", "--strict", "check.nix"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(eval.stderr).unwrap();
    assert!(!eval.status.success(), "{stderr}");
    // The frame lines, without their line numbers (the files differ).
    let frames: Vec<String> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with('…') || l.contains("| "))
        .map(|l| {
            l.split_once('|')
                .map_or(l, |(_, code)| code)
                .trim()
                .to_owned()
        })
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^'))
        .collect();
    assert!(
        frames
            .iter()
            .any(|f| f.contains("… while checking order a7")),
        "{stderr}"
    );
    let server = server(&dir, "embedded", &["--show-trace"]);
    let (page, log) = failed(&server, "GET", "/orders");
    let mut from = 0;
    for frame in &frames {
        let at = page[from..]
            .find(frame.as_str())
            .unwrap_or_else(|| panic!("no {frame:?} after byte {from} of {page}"));
        from += at + frame.len();
    }
    assert!(log.contains("while checking order a7"), "{log}");
    assert!(page.contains("order a7 has no items"), "{page}");
}

#[test]
fn a_misspelt_response_attribute_gets_a_suggestion() {
    let dir = app(APP);
    for engine in engines() {
        let server = server(&dir, engine, &[]);
        let (page, log) = failed(&server, "GET", "/typo");
        for text in [&page, &log] {
            assert!(
                text.contains("`statuss` (did you mean `status`?)"),
                "{engine}: {text}"
            );
        }
    }
}

#[test]
fn an_app_that_is_no_route_tree_points_at_its_own_file() {
    let dir = app("{ query, ... }: [ 1 2 ]\n");
    let file = dir.path().canonicalize().unwrap().join("default.nix");
    for engine in engines() {
        let server = server(&dir, engine, &[]);
        let (page, log) = failed(&server, "GET", "/");
        assert!(
            page.contains("must evaluate to a route tree"),
            "{engine}: {page}"
        );
        assert!(
            page.contains(&format!("in the route tree of {}", file.display())),
            "{engine}: {page}"
        );
        assert!(
            page.contains(&format!("{}:1:1", file.display())),
            "{engine}: {page}"
        );
        assert!(
            page.contains("{ query, ... }: [ 1 2 ]"),
            "{engine}: the app's source: {page}"
        );
        assert!(
            !page.contains("router.nix") && !log.contains("router.nix"),
            "{engine}: {log}"
        );
    }
}

#[test]
fn a_bound_exceeded_names_the_handler_too() {
    let dir = app("{\n  GET = \"home\";\n  spin.GET = req: let f = n: f (n + 1); in f 0;\n}\n");
    let file = dir.path().canonicalize().unwrap().join("default.nix");
    let server = ServerProcess::start(
        env!("CARGO_BIN_EXE_nixweb"),
        dir.path(),
        &["--engine", "embedded", "--max-steps", "100000"],
    );
    let reply = server.get("/spin").unwrap();
    assert_eq!(reply.status().as_u16(), 504);
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = reply.text().unwrap();
    assert!(body.contains("--max-steps"), "{body}");
    assert!(
        !body.contains(&file.display().to_string()),
        "the client sees no paths: {body}"
    );
    let needle = format!("id={id} GET /spin (handler at {}:3): ", file.display());
    server.log_lines(&needle);
}
