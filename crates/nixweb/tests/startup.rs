//! `nixweb serve` at start-up and while it runs, read from a real process's log: a broken
//! app is reported before the first request, with its source, and served once fixed; a
//! changed nixweb.toml is reported with what a restart would change.

use nixweb_testkit::engines;
use nixweb_testkit::process::ServerProcess;
use std::time::{Duration, Instant};

#[test]
fn a_broken_app_says_so_at_start_up_and_is_served_once_fixed() {
    for engine in engines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("default.nix");
        std::fs::write(&file, "{\n  GET = \"fine\";\n  broken.GET = 1 + ;\n}\n").unwrap();
        let server = ServerProcess::start(
            env!("CARGO_BIN_EXE_nixweb"),
            dir.path(),
            &["--engine", engine],
        );
        // The source comes last: once it is there, the whole error is.
        server.log_lines("broken.GET = 1 + ;");
        let log = server.stderr();
        assert!(
            log.contains("every request will fail until it is fixed"),
            "{engine}: {log}"
        );
        assert!(log.contains("syntax error"), "{engine}: {log}");
        assert!(
            log.contains(&format!("{}", file.canonicalize().unwrap().display())),
            "{engine}: {log}"
        );
        assert!(
            log.contains("broken.GET = 1 + ;")
                && log.contains(&format!("{}:3:20", file.canonicalize().unwrap().display())),
            "{engine}: no source in {log}"
        );
        assert_eq!(server.get("/").unwrap().status().as_u16(), 500, "{engine}");
        std::fs::write(&file, "{\n  GET = \"fine\";\n  broken.GET = 1 + 1;\n}\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let reply = server.get("/").unwrap();
            if reply.status().as_u16() == 200 {
                assert_eq!(reply.text().unwrap(), "fine");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{engine}: the fixed app is not served"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_working_app_reports_its_routes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.nix"),
        "{ GET = \"a\"; b.GET = \"b\"; }",
    )
    .unwrap();
    let server = ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), &[]);
    server.log_lines("the app has 2 routes");
    let log = server.stderr();
    assert!(!log.contains("ERROR"), "{log}");
}

#[test]
fn a_changed_settings_file_says_what_a_restart_would_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.nix"), "{ GET = \"a\"; }").unwrap();
    let settings = dir.path().join("nixweb.toml");
    std::fs::write(&settings, "eval-timeout = 5\nqueue = 10\n").unwrap();
    let server = ServerProcess::start(env!("CARGO_BIN_EXE_nixweb"), dir.path(), &["--queue", "12"]);
    server.log_lines("the app has 1 routes");
    std::fs::write(&settings, "eval-timeout = 7\nqueue = 11\nmax-body = 100\n").unwrap();
    server.log_lines("restart nixweb serve to apply it");
    let log = server.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("restart nixweb serve"))
        .unwrap();
    assert!(
        line.contains("nixweb.toml changed eval-timeout, max-body;"),
        "{line}"
    );
    assert!(
        !line.contains("queue"),
        "the flag wins over the file: {line}"
    );
    std::fs::write(&settings, "eval-timeout = \"soon\"\n").unwrap();
    server.log_lines("keeps the settings it started with");
    let log = server.stderr();
    assert!(
        log.contains("nixweb.toml changed and no longer reads"),
        "{log}"
    );
    assert_eq!(
        server.get("/").unwrap().text().unwrap(),
        "a",
        "it serves on"
    );
}
