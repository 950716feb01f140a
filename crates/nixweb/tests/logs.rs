//! The log a server writes, read from a real `nixweb serve` process's stderr: the access
//! line's fields, and one record per line in both formats, multi-line errors included.

use nixweb_testkit::process::ServerProcess;

fn app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.nix"),
        "{\n  GET = \"twelve bytes\";\n  broken.GET = req: throw \"it broke\";\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn the_access_line_names_the_client_the_size_and_the_user_agent() {
    let dir = app();
    let server = ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), &["--access-log"]);
    let reply = server
        .client()
        .get(server.url("/"))
        .header("user-agent", "probe/1.0 (test)")
        .send()
        .unwrap();
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(reply.text().unwrap(), "twelve bytes");
    server.log_lines(&format!("id={id}"));
    let log = server.stderr();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("id={id}")))
        .unwrap_or_else(|| panic!("no access line for {id} in {log}"));
    for part in [
        "nixweb::access",
        "GET / 200",
        "client=127.0.0.1",
        "bytes=12",
        "agent=\"probe/1.0 (test)\"",
    ] {
        assert!(line.contains(part), "no {part:?} in {line}");
    }
}

#[test]
fn a_multi_line_error_keeps_its_prefix_on_every_line() {
    let dir = app();
    let server = ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), &[]);
    let reply = server.get("/broken").unwrap();
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    // The last line of the error: once it is there, all of it is.
    server.log_lines("frames hidden");
    let log = server.stderr();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&id)).collect();
    assert!(lines.len() > 3, "the error should span lines: {log}");
    for line in &lines {
        assert!(
            line.contains(&format!("ERROR nixweb::request: id={id} ")),
            "a line without the prefix: {line:?} in\n{log}"
        );
    }
    assert!(lines[0].contains("it broke"), "{}", lines[0]);
    assert!(lines[1..]
        .iter()
        .all(|l| l.contains(&format!("id={id} | "))));
    // Nothing of the error is on a line of its own.
    assert!(
        log.lines().all(|l| l.starts_with("20") || l.is_empty()),
        "{log}"
    );
}

#[test]
fn the_json_format_is_one_object_per_line_errors_included() {
    let dir = app();
    let server = ServerProcess::start(
        env!("CARGO_BIN_EXE_nixweb"),
        dir.path(),
        &["--log-format", "json", "--access-log"],
    );
    let reply = server.get("/broken").unwrap();
    let id = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
    server.log_lines("GET /broken 500");
    let log = server.stderr();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect();
    let error = records
        .iter()
        .find(|r| r["level"] == "ERROR" && r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no error record in {log}"));
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("it broke") && message.contains('\n'),
        "{message}"
    );
    let access = records
        .iter()
        .find(|r| r["target"] == "nixweb::access")
        .unwrap();
    assert_eq!(access["id"], id.as_str());
    assert_eq!(access["client"], "127.0.0.1");
    assert_eq!(access["message"], "GET /broken 500");
}
