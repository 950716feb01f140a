//! The app's own 404, 405, 500 and 504 pages: handlers named by the status at the root of
//! the route tree, given `req.error` (its message only with --dev); nixweb's own page, and
//! both errors in the log, when such a handler fails. On both engines.

use super::common::{app, log_with, servers};
use nixweb_testkit::process::ServerProcess;
use nixweb_testkit::{Method, StatusCode};
use std::time::Duration;

const APP: &str = r#"
let h = import <nixweb/html.nix>; in {
  GET = "home";
  boom.GET = throw "kaboom";
  bad.GET = { bdy = "typo"; };
  # Runs for minutes in little memory: only the clock stops it.
  slow.GET = let count = n: builtins.foldl' (a: _: a + 1) 0 (builtins.genList (x: x) n);
             in toString (builtins.foldl' (a: _: a + count 100000) 0 (builtins.genList (x: x) 100000));
  only.POST = "x";
  "404" = req: h.page { title = "Lost"; } (h.p "Nothing at ${req.path} (${toString req.error.status}, ${builtins.toJSON req.error.message})");
  "405" = req: { body = "no ${req.method} here; try ${builtins.concatStringsSep "," req.error.allow}"; headers."X-Page" = "405"; };
  "500" = req: { status = 503; body = "sorry: ${if req.error.message == null then "hidden" else req.error.message}"; };
  "504" = "too slow";
}
"#;

#[test]
fn the_apps_pages_answer_with_the_errors_status() {
    let dir = app(&[("default.nix", APP)]);
    for (engine, server) in servers(dir.path(), &["--eval-timeout", "1"]) {
        let lost = server.get("/nowhere/%3Cb%3E");
        assert_eq!(lost.status(), StatusCode::NOT_FOUND, "{engine}");
        assert_eq!(lost.headers()["content-type"], "text/html; charset=utf-8");
        let text = lost.text().unwrap();
        assert!(
            text.contains("<p>Nothing at /nowhere/%3Cb%3E (404, null)</p>"),
            "{engine}: {text}"
        );

        let wrong = server.request(Method::DELETE, "/only").send().unwrap();
        assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED, "{engine}");
        assert_eq!(wrong.headers()["allow"], "POST, OPTIONS");
        assert_eq!(wrong.headers()["x-page"], "405");
        assert_eq!(wrong.text().unwrap(), "no DELETE here; try POST,OPTIONS");

        // The page says its own status; without --dev it is not told the message.
        for path in ["/boom", "/bad"] {
            let failed = server.get(path);
            assert_eq!(
                failed.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{engine} {path}"
            );
            assert_eq!(failed.text().unwrap(), "sorry: hidden");
        }
        let slow = server.get("/slow");
        assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT, "{engine}");
        assert_eq!(slow.text().unwrap(), "too slow");

        // HEAD gets the page's headers only; OPTIONS and real routes are untouched.
        let head = server.request(Method::HEAD, "/nowhere").send().unwrap();
        assert_eq!(head.status(), StatusCode::NOT_FOUND);
        assert_eq!(head.text().unwrap(), "");
        assert_eq!(server.get_text("/"), "home");
        assert_eq!(
            server
                .request(Method::OPTIONS, "/only")
                .send()
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
        // A path named like a page is no route.
        assert_eq!(server.get("/404").status(), StatusCode::NOT_FOUND);
    }
    for (engine, server) in servers(dir.path(), &["--dev"]) {
        let failed = server.get("/boom");
        let text = failed.text().unwrap();
        assert!(
            text.starts_with("sorry: ") && text.contains("kaboom"),
            "{engine}: {text}"
        );
        let lost = server.get("/x").text().unwrap();
        assert!(lost.contains("no route matches /x"), "{engine}: {lost}");
    }
}

const FAILING: &str = r#"{
  ok.GET = "ok";
  boom.GET = throw "the handler fails";
  "404" = req: throw "the 404 page fails too";
  "500" = req: { bdy = "the 500 page is invalid"; };
}"#;

#[test]
fn a_failing_page_gives_way_to_nixwebs_and_the_log_has_both_errors() {
    let dir = app(&[("default.nix", FAILING)]);
    for engine in nixweb_testkit::engines() {
        let mut server = ServerProcess::start(
            env!("CARGO_BIN_EXE_nixweb"),
            dir.path(),
            &["--engine", engine],
        );
        let lost = server.get("/nowhere").unwrap();
        assert_eq!(lost.status(), StatusCode::NOT_FOUND, "{engine}");
        assert_eq!(lost.text().unwrap(), "404 Not Found\n");
        let failed = server.get("/boom").unwrap();
        assert_eq!(
            failed.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{engine}"
        );
        assert!(failed
            .text()
            .unwrap()
            .starts_with("500 Internal Server Error"));
        log_with(
            &server,
            &[
                "the app's 404 page failed",
                "the 404 page fails too",
                "no route matches /nowhere",
                "the handler fails",
                "the app's 500 page failed",
                "`bdy`",
            ],
        );
        server.assert_healthy(
            "after failing error pages",
            "/ok",
            Duration::from_secs(5),
            300,
        );
    }
}
