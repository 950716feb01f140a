//! An app on nixpkgs' current lib (issue 13), through a real server on the embedded
//! engine: `import <nixpkgs/lib>` found through `-I` (the snapshot at
//! ../shared/nixpkgs-lib, read from there), lib.evalModules checking a posted config and
//! lib.strings shaping the answer; a bad config gets the module system's words.

use nixweb_testkit::process::ServerProcess;
use std::path::PathBuf;

fn app() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/current-lib")
        .canonicalize()
        .unwrap()
}

fn snapshot() -> PathBuf {
    let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/nixpkgs-lib");
    snapshot
        .canonicalize()
        .unwrap_or_else(|e| panic!("nixpkgs' lib snapshot at {}: {e}", snapshot.display()))
}

fn post(server: &ServerProcess, path: &str, body: serde_json::Value) -> (u16, String) {
    let reply = server
        .client()
        .post(server.url(path))
        .json(&body)
        .send()
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.text().unwrap())
}

#[test]
fn a_config_is_checked_by_the_module_system_of_current_lib() {
    let include = format!("nixpkgs={}", snapshot().display());
    let server = ServerProcess::start(
        env!("CARGO_BIN_EXE_nixweb"),
        app(),
        &["--engine", "embedded", "--dev", "-I", &include],
    );
    // The snapshot's lib, not another one on the machine: its release and suffix.
    let release = std::fs::read_to_string(snapshot().join("lib/.version")).unwrap();
    let version = server.client().get(server.url("/version")).send().unwrap();
    assert_eq!(version.status().as_u16(), 200);
    let version: String = version.json().unwrap();
    assert_eq!(version, format!("{}pre-git", release.trim()));

    // A good config: defaults filled in by evalModules, the slug and summary by lib.strings.
    let (status, body) = post(
        &server,
        "/services",
        serde_json::json!({ "name": "Order Queue", "tags": ["internal", "eu"] }),
    );
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({
            "name": "Order Queue",
            "port": 8080,
            "slug": "order-queue",
            "summary": "Order Queue on port 8080 (internal, eu)",
            "tags": ["internal", "eu"],
        })
    );

    // A bad config: each problem named with the option's type as the module system
    // describes it.
    let (status, body) = post(
        &server,
        "/services",
        serde_json::json!({ "name": "-x", "port": 65536, "tags": "eu", "owner": "me" }),
    );
    assert_eq!(status, 422, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["errors"],
        serde_json::json!([
            "`name' must be string matching the pattern [A-Za-z][A-Za-z0-9 -]*",
            "there is no option `owner' (options: _module, name, port, tags)",
            "`port' must be 16 bit unsigned integer; between 0 and 65535 (both inclusive)",
            "`tags' must be list of string",
        ])
    );

    // Trusted unchecked, the bad value fails inside the module system: the --dev page
    // says which option and why, with lib's frames ("while evaluating the option").
    let (status, page) = post(
        &server,
        "/services/unchecked",
        serde_json::json!({ "name": "Web", "port": -1 }),
    );
    assert_eq!(status, 500, "{page}");
    let page = page.replace("&#39;", "'").replace("&quot;", "\"");
    assert!(
        page.contains("A definition for option `port' is not of type `16 bit unsigned integer"),
        "{page}"
    );
    assert!(
        page.contains("while evaluating the option `port'"),
        "{page}"
    );
}
