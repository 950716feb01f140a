//! Attack cases for the embedded engine: see attack.rs.

use super::common::{app, routes, serve, ServerProcess, RECOVERY};

/// GET `path`; its status (0: no answer).
fn status(server: &ServerProcess, path: &str) -> u16 {
    server.get(path).map_or(0, |r| r.status().as_u16())
}

/// Requests that hold much memory for a moment, on the heap (a 48 MiB string, grown by
/// doubling) or on the stack (a walk 15,000 levels deep), leave nothing of it resident once
/// answered: an idle worker would otherwise keep what its biggest request needed.
#[test]
fn workers_give_back_what_a_big_request_held() {
    let bindings = r#"
  big.GET = req:
    let
      piece = builtins.concatStringsSep "" (builtins.genList (x: "0123456789abcdef") 4096);
      whole = builtins.concatStringsSep "" (builtins.genList (x: piece) 768);
    in toString (builtins.stringLength whole);
  deep.GET = req:
    let nested = builtins.foldl' (acc: _: [ acc ]) 0 (builtins.genList (x: x) 15000);
    in toString (builtins.stringLength (builtins.toJSON nested));
"#;
    let dir = app(&[("default.nix", &routes(bindings))]);
    let mut server = serve(
        &dir,
        &[
            "--workers",
            "2",
            "--eval-memory",
            "300000000",
            "--no-response-cache",
        ],
    );
    server.assert_healthy("start", "/health", RECOVERY, 200);
    let before = server.rss_kib() / 1024;
    for round in 0..3 {
        for path in ["/big", "/deep"] {
            assert_eq!(status(&server, path), 200, "{path}");
            server.assert_healthy(path, "/health", RECOVERY, 200);
            let grown = (server.rss_kib() / 1024).saturating_sub(before);
            assert!(
                grown < 24,
                "round {round}, {path}: resident memory grew by {grown} MiB and stayed"
            );
        }
    }
}
