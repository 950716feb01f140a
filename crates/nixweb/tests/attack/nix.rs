//! Attack cases against the Nix engine: confinement by Nix's restrict-eval, the memory and
//! CPU limits of each `nix-instantiate`, its output held by the server, upstream failures,
//! trace output, and what a killed server leaves behind. See attack.rs.

use super::common::*;
use std::time::{Duration, Instant};

/// Resident memory the server (not its children) may have after any case here, in MiB.
const RSS_MIB: u64 = 200;

fn serve_nix(dir: &tempfile::TempDir, flags: &[&str]) -> ServerProcess {
    let flags: Vec<&str> = ["--engine", "nix"].iter().chain(flags).copied().collect();
    serve(dir, &flags)
}

fn get(server: &ServerProcess, path: &str) -> (u16, String) {
    let response = server
        .get(path)
        .unwrap_or_else(|| panic!("GET {path}: no answer"));
    let status = response.status().as_u16();
    (status, response.text().unwrap_or_default())
}

#[test]
fn an_app_reads_only_its_folder_and_sees_no_environment() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "the secret").unwrap();
    let secret = outside.path().join("secret").display().to_string();
    let dir = app(&[
        (
            "default.nix",
            &routes(&format!(
                r#"
  passwd.GET = req: builtins.readFile /etc/passwd;
  secret.GET = req: builtins.readFile {secret};
  beside.GET = req: builtins.toJSON (builtins.attrNames (builtins.readDir ./..));
  home.GET = req: "home=${{builtins.getEnv "HOME"}} path=${{builtins.getEnv "PATH"}}";
  own.GET = req: builtins.readFile ./data.txt;
  fetch.GET = req: builtins.readFile (builtins.fetchurl "http://127.0.0.1:1/x");
"#
            )),
        ),
        ("data.txt", "its own"),
    ]);
    let mut server = serve_nix(&dir, &[]);
    for (path, leak) in [
        ("/passwd", "root:"),
        ("/secret", "the secret"),
        ("/beside", "nixweb-attack"),
    ] {
        let (status, body) = get(&server, path);
        assert_eq!(status, 500, "{path}: {body}");
        assert!(!body.contains(leak), "{path}: {body}");
        server.assert_healthy(path, "/health", RECOVERY, RSS_MIB);
    }
    assert!(logged(&server, "forbidden in restricted mode"));
    let (status, body) = get(&server, "/home");
    assert_eq!(
        (status, body.as_str()),
        (200, "home= path="),
        "getEnv sees nothing"
    );
    assert_eq!(get(&server, "/own"), (200, "its own".into()));
    let (status, _) = get(&server, "/fetch");
    assert_eq!(status, 500, "a host not allowed is the app's error");
    assert!(logged(
        &server,
        "access to URI 'http://127.0.0.1:1/x' is forbidden"
    ));
    server.assert_healthy("confinement", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn without_restrict_eval_the_child_still_sees_only_the_named_variables() {
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  env.GET = req: "home=${builtins.getEnv "HOME"} named=${builtins.getEnv "NIXWEB_ATTACK_NAMED"}";
"#,
        ),
    )]);
    let flags = [
        "--engine",
        "nix",
        "--nix-option",
        "restrict-eval",
        "false",
        "--env",
        "NIXWEB_ATTACK_NAMED",
    ];
    let mut server = serve_with_env(
        &dir,
        &flags,
        &[("NIXWEB_ATTACK_NAMED", "given"), ("HOME", "/root")],
    );
    assert_eq!(get(&server, "/env"), (200, "home= named=given".into()));
    server.assert_healthy("a cleared environment", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn each_child_is_bounded_in_memory_and_cpu() {
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  hog.GET = req:
    let rows = builtins.genList (i: builtins.genList (j: "a string of a hog ${toString j}") 1000) 100000;
    in builtins.deepSeq rows "survived";
  spin.GET = req:
    let sum = builtins.foldl' (a: b: a + b);
    in toString (sum 0 (builtins.genList (i: sum i (builtins.genList (x: x) 100000)) 100000));
"#,
        ),
    )]);
    let mut server = serve_nix(
        &dir,
        &[
            "--nix-max-memory",
            "256M",
            "--nix-max-cpu",
            "2",
            "--eval-timeout",
            "60",
        ],
    );
    let started = Instant::now();
    let (status, _) = get(&server, "/hog");
    assert_eq!(status, LIMIT_STATUS);
    assert!(logged(&server, "--nix-max-memory"), "{}", server.stderr());
    server.assert_healthy("a child's memory", "/health", RECOVERY, RSS_MIB);
    let (status, _) = get(&server, "/spin");
    assert_eq!(status, 504);
    assert!(logged(&server, "--nix-max-cpu"), "{}", server.stderr());
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the CPU limit did not stop it early"
    );
    server.assert_healthy("a child's CPU", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn a_trace_flood_stays_in_the_child_and_the_log_is_capped() {
    // Some 200 MB of trace output on the child's stderr.
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  flood.GET = req:
    let line = builtins.concatStringsSep "" (builtins.genList (_: "y") 10000);
    in builtins.foldl' (acc: i: builtins.trace "flood ${toString i} ${line}" acc) "done" (builtins.genList (i: i) 20000);
  failing.GET = req: builtins.trace "about to fail" (throw "failed on purpose");
"#,
        ),
    )]);
    let mut server = serve_nix(&dir, &["--eval-timeout", "120", "--dev"]);
    let response = server.get("/flood").expect("an answer");
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.text().unwrap(), "done");
    assert!(logged(&server, "more messages) dropped"));
    let logged_lines = server
        .stderr()
        .lines()
        .filter(|l| l.contains(&format!("id={id} trace: flood")))
        .count();
    assert!(
        (4..=8).contains(&logged_lines),
        "{logged_lines} trace lines logged"
    );
    assert!(
        server.peak_rss_kib() / 1024 < RSS_MIB,
        "the server held the child's output: peak {} MiB",
        server.peak_rss_kib() / 1024
    );
    let (status, page) = get(&server, "/failing");
    assert_eq!(status, 500);
    assert!(
        page.contains("Trace output") && page.contains("about to fail"),
        "{page}"
    );
    server.assert_healthy("a trace flood", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn upstream_failures_are_502_and_504_with_their_cause() {
    let (dir, [refused, host, garbage]) = failing_upstreams_app();
    let flags = [
        "--eval-timeout",
        "3",
        "--dev",
        "--allow-fetch",
        &refused,
        "--allow-fetch",
        &host,
        "--allow-fetch",
        &garbage,
    ];
    let mut server = serve_nix(&dir, &flags);
    let cases = [
        ("/refused", 502, "Couldn't connect to server"),
        ("/tls", 502, "SSL"),
        ("/status", 502, "HTTP error 404"),
        ("/hang", 504, "longer than 3s"),
    ];
    assert_failures(&mut server, &cases, RSS_MIB);
}

#[test]
fn a_killed_servers_folder_is_swept_at_the_next_start() {
    let dir = app(&[("default.nix", &routes(""))]);
    let mut killed = serve_nix(&dir, &[]);
    let left = workdir_of(killed.pid()).expect("its working folder");
    assert!(left
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("nixweb-nix-"));
    killed.signal(nixweb_testkit::process::libc_signal::SIGKILL);
    assert!(eventually(Duration::from_secs(10), || !killed.alive()));
    let mut next = serve_nix(&dir, &[]);
    assert!(!left.exists(), "the next start sweeps it");
    next.assert_healthy("sweeping", "/health", RECOVERY, RSS_MIB);
}
