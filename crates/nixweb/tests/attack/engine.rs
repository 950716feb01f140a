//! Attack cases against the embedded engine: its threads (panics, dead threads), the
//! memory ceiling, confinement (links, absent paths, nixweb's own folder), fetching and
//! unpacking (hostile tarballs, budgets, other requests' downloads), upstream failures,
//! trace output, and what a killed server leaves behind. See attack.rs.

use super::common::*;
use std::time::{Duration, Instant};

/// Resident memory a server may have after any case here, in MiB.
const RSS_MIB: u64 = 256;

fn get(server: &ServerProcess, path: &str) -> (u16, String) {
    let response = server
        .get(path)
        .unwrap_or_else(|| panic!("GET {path}: no answer"));
    let status = response.status().as_u16();
    (status, response.text().unwrap_or_default())
}

#[test]
fn panics_and_dead_threads_leave_the_pool_at_full_strength() {
    let workers = 3;
    let barrier = upstream(vec![("/b", Reply::Barrier(workers))]);
    let dir = app(&[(
        "default.nix",
        &routes(&format!(
            r#"
  panic.GET = req: builtins.nixwebTestHook "panic";
  kill.GET = req: builtins.nixwebTestHook "kill-thread";
  barrier.GET = req: builtins.readFile (builtins.fetchurl "http://{barrier}/b/${{req.id}}");
"#
        )),
    )]);
    let mut server = serve_with_env(
        &dir,
        &[
            "--workers",
            "3",
            "--allow-fetch",
            "127.0.0.1",
            "--eval-timeout",
            "40",
        ],
        &[("NIXWEB_TEST_HOOKS", "1")],
    );
    // More failures than threads, so a pool that lost one per failure would be empty.
    for round in 0..(2 * workers) {
        let (status, body) = get(&server, "/panic");
        assert_eq!(status, 500, "a panic is a 500: {body}");
        server.assert_healthy(&format!("panic {round}"), "/health", RECOVERY, RSS_MIB);
        let (status, _) = get(&server, "/kill");
        assert_eq!(status, 500, "a request whose thread died is a 500");
        server.assert_healthy(
            &format!("dead thread {round}"),
            "/health",
            RECOVERY,
            RSS_MIB,
        );
    }
    assert!(
        logged(&server, "the evaluation panicked"),
        "{}",
        server.stderr()
    );
    assert!(
        logged(&server, "died; starting another"),
        "{}",
        server.stderr()
    );
    // As many evaluations at once as there are threads: the upstream answers only when
    // all are waiting on it together, which needs every thread alive.
    let answers: Vec<_> = (0..workers)
        .map(|_| {
            let url = server.url("/barrier");
            let client = server.client().clone();
            std::thread::spawn(move || client.get(url).send().map(|r| r.status().as_u16()))
        })
        .collect();
    for answer in answers {
        assert_eq!(
            answer.join().unwrap().ok(),
            Some(200),
            "{}",
            server.stderr()
        );
    }
    server.assert_healthy("full strength", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn past_the_memory_ceiling_evaluations_stop_and_the_server_recovers() {
    // A million strings of 100 KB, forced: far more than the ceiling, well within the
    // per-request value budget given here, so only the ceiling can stop it.
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  hog.GET = req:
    let
      chunk = builtins.concatStringsSep "" (builtins.genList (i: "0123456789") 1000);
      rows = builtins.genList (i: builtins.replaceStrings [ "x" ] [ chunk ] "xxxxxxxxxx${toString i}") 1000000;
    in builtins.deepSeq rows "survived";
"#,
        ),
    )]);
    let mut server = serve(
        &dir,
        &[
            "--max-memory",
            "300M",
            "--eval-memory",
            "4000000000",
            "--max-steps",
            "4000000000",
            "--eval-timeout",
            "60",
        ],
    );
    server.assert_healthy("start", "/health", RECOVERY, RSS_MIB);
    for round in 0..2 {
        let started = Instant::now();
        let (status, body) = get(&server, "/hog");
        assert_eq!(status, 503, "round {round}: {body}");
        assert!(body.contains("memory ceiling"), "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(50),
            "the hog was not stopped"
        );
        // Under the ceiling again once the stopped evaluation's memory is returned.
        server.assert_healthy(&format!("memory hog {round}"), "/health", RECOVERY, 300);
    }
    assert!(logged(&server, "back under the ceiling"));
}

#[test]
fn a_tarballs_links_cannot_lead_outside() {
    // The issue's exploit, with other targets: probe the download path, fetch a tarball
    // whose member links outside, read the member.
    let targets = [
        "/etc/passwd",
        "/proc/self/environ",
        "../../../../../../../etc/hostname",
        "../..",
    ];
    let mut replies: Vec<(String, Reply)> = targets
        .iter()
        .enumerate()
        .map(|(n, target)| {
            let tarball = tarball(&[Entry::Folder("src/"), Entry::Symlink("src/link", target)]);
            (format!("/evil-{n}.tar.gz"), Reply::Bytes(tarball))
        })
        .collect();
    let hard = tarball(&[
        Entry::Folder("src/"),
        Entry::HardLink("src/link", "/etc/passwd"),
    ]);
    replies.push(("/hard.tar.gz".into(), Reply::Bytes(hard)));
    let dotdot = tarball(&[
        Entry::File("src/../../escaped", b"x"),
        Entry::File("src/ok", b"y"),
    ]);
    replies.push(("/dotdot.tar.gz".into(), Reply::Bytes(dotdot)));
    let good = tarball(&[
        Entry::Folder("src/"),
        Entry::File("src/real", b"inside"),
        Entry::Symlink("src/link", "real"),
    ]);
    replies.push(("/good.tar.gz".into(), Reply::Bytes(good)));
    let host = upstream(
        replies
            .iter()
            .map(|(p, r)| (p.as_str(), r.clone()))
            .collect(),
    );
    let dir = app(&[(
        "default.nix",
        &routes(&format!(
            r#"
  read.":name".GET = req:
    let
      probe = builtins.pathExists "/tmp/nixweb-probe-${{req.params.name}}";
      tree = builtins.fetchTarball "http://{host}/${{req.params.name}}.tar.gz";
    in builtins.seq probe (builtins.readFile "${{tree}}/link");
"#
        )),
    )]);
    let mut server = serve(&dir, &["--allow-fetch", "127.0.0.1"]);
    let hostile: Vec<String> = (0..targets.len())
        .map(|n| format!("evil-{n}"))
        .chain(["hard".to_owned(), "dotdot".to_owned()])
        .collect();
    for name in &hostile {
        let (status, body) = get(&server, &format!("/read/{name}"));
        assert_eq!(
            status, 502,
            "{name}: a hostile tarball is the upstream's fault: {body}"
        );
        assert!(!body.contains("root:"), "{name}: {body}");
        server.assert_healthy(name, "/health", RECOVERY, RSS_MIB);
    }
    assert!(logged(&server, "outside the folder"), "{}", server.stderr());
    assert_eq!(
        get(&server, "/read/good"),
        (200, "inside".to_owned()),
        "a link inside is followed"
    );
}

#[test]
fn a_path_judged_absent_is_judged_again_when_read() {
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  exists.GET = req: if builtins.pathExists ./later then "yes" else "no";
  read.GET = req: builtins.readFile ./later;
"#,
        ),
    )]);
    let mut server = serve(&dir, &[]);
    assert_eq!(get(&server, "/exists"), (200, "no".into()));
    // What an attacker able to write a link where the app looks would do.
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("later")).unwrap();
    let (status, body) = get(&server, "/read");
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("root:"));
    assert!(logged(&server, "forbidden"));
    assert_eq!(
        get(&server, "/exists"),
        (200, "no".into()),
        "outside looks absent"
    );
    server.assert_healthy("a link swapped in", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn nixwebs_own_folder_shows_only_the_library() {
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  lib.GET = req: { json = builtins.attrNames (builtins.readDir <nixweb>); };
  up.GET = req: { json = builtins.attrNames (builtins.readDir (<nixweb> + "/..")); };
"#,
        ),
    )]);
    let mut server = serve(&dir, &[]);
    let (status, body) = get(&server, "/lib");
    assert_eq!(status, 200);
    let names: Vec<String> = serde_json::from_str(&body).unwrap();
    assert!(
        names.iter().all(|n| n.ends_with(".nix")) && names.contains(&"html.nix".to_owned()),
        "{names:?}"
    );
    let (status, body) = get(&server, "/up");
    assert_eq!(status, 500, "the working folder is not readable: {body}");
    server.assert_healthy("readDir of nixweb's folder", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn unpacking_is_bounded_in_bytes_entries_and_time() {
    let bomb = gzip_bomb(512 << 20);
    assert!(bomb.len() < 4 << 20, "a bomb of {} bytes", bomb.len());
    let names: Vec<String> = (0..3_000).map(|n| format!("many/f{n}")).collect();
    let many = tarball(
        &names
            .iter()
            .map(|n| Entry::File(n, b""))
            .collect::<Vec<_>>(),
    );
    let host = upstream(vec![
        ("/bomb", Reply::Bytes(bomb)),
        ("/many", Reply::Bytes(many)),
    ]);
    let dir = app(&[(
        "default.nix",
        &routes(&format!(
            r#"
  unpack.":name".GET = req: builtins.toString (builtins.length (builtins.attrNames (builtins.readDir (builtins.fetchTarball "http://{host}/${{req.params.name}}"))));
"#
        )),
    )]);
    // The default byte budget (64 MiB), fewer entries than the default's 10,000.
    let mut server = serve(
        &dir,
        &[
            "--allow-fetch",
            "127.0.0.1",
            "--fetch-max-files",
            "2000",
            "--eval-timeout",
            "60",
        ],
    );
    let workdir = workdir_of(server.pid()).expect("the server's working folder");
    for (name, flag) in [
        ("bomb", "--fetch-max-unpacked"),
        ("many", "--fetch-max-files"),
    ] {
        let (status, body) = get(&server, &format!("/unpack/{name}"));
        assert_eq!(status, LIMIT_STATUS, "{name}: {body}");
        assert!(logged(&server, flag), "{name}: the log names {flag}");
        assert!(
            eventually(Duration::from_secs(5), || disk_usage(
                &workdir.join("downloads")
            )
            .0 == 0),
            "{name}: what was unpacked stays on disk: {:?}",
            disk_usage(&workdir)
        );
        server.assert_healthy(name, "/health", RECOVERY, RSS_MIB);
    }
    drop(server);

    // With budgets that do not stop it, the deadline does, and nothing goes on after it.
    let mut server = serve(
        &dir,
        &[
            "--allow-fetch",
            "127.0.0.1",
            "--eval-timeout",
            "1",
            "--fetch-max-unpacked",
            "100G",
        ],
    );
    let workdir = workdir_of(server.pid()).expect("the server's working folder");
    let (status, _) = get(&server, "/unpack/bomb");
    assert_eq!(status, 504);
    assert!(
        eventually(Duration::from_secs(5), || disk_usage(
            &workdir.join("downloads")
        ) == (0, 0)),
        "unpacking went on after the 504: {:?}",
        disk_usage(&workdir.join("downloads"))
    );
    server.assert_healthy("a bomb against the clock", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn downloads_count_against_the_requests_budget() {
    let host = upstream(vec![("/chunk", Reply::Bytes(vec![b'x'; 3 << 20]))]);
    let dir = app(&[(
        "default.nix",
        &routes(&format!(
            r#"
  all.":n".GET = req: builtins.deepSeq (builtins.genList (i: builtins.readFile (builtins.fetchurl "http://{host}/chunk/${{toString i}}")) (builtins.fromJSON req.params.n)) "all";
"#
        )),
    )]);
    let mut server = serve(
        &dir,
        &["--allow-fetch", "127.0.0.1", "--fetch-max-bytes", "10M"],
    );
    assert_eq!(
        get(&server, "/all/3"),
        (200, "all".into()),
        "9 MiB of 10 fit"
    );
    let (status, body) = get(&server, "/all/4");
    assert_eq!(status, LIMIT_STATUS, "12 MiB do not: {body}");
    assert!(logged(&server, "--fetch-max-bytes"));
    server.assert_healthy("downloads over budget", "/health", RECOVERY, RSS_MIB);
    assert_eq!(
        get(&server, "/all/3"),
        (200, "all".into()),
        "the next request has its own budget"
    );
}

#[test]
fn a_requests_clean_up_leaves_other_requests_downloads() {
    let host = upstream(vec![
        (
            "/slow",
            Reply::After(Duration::from_millis(1500), b"late".to_vec()),
        ),
        ("/fast", Reply::Bytes(b"early".to_vec())),
    ]);
    let dir = app(&[(
        "default.nix",
        &routes(&format!(
            r#"
  long.GET = req:
    let first = builtins.fetchurl "http://{host}/fast/${{req.id}}";
        second = builtins.fetchurl "http://{host}/slow/${{req.id}}";
    in builtins.seq (builtins.readFile second) (builtins.readFile first);
  short.GET = req: builtins.readFile (builtins.fetchurl "http://{host}/fast/${{req.id}}");
"#
        )),
    )]);
    let mut server = serve(&dir, &["--allow-fetch", "127.0.0.1", "--workers", "2"]);
    let long = {
        let (client, url) = (server.client().clone(), server.url("/long"));
        std::thread::spawn(move || {
            let r = client.get(url).send().unwrap();
            (r.status().as_u16(), r.text().unwrap())
        })
    };
    // Short requests that fetch and finish (and clean up) while the long one waits.
    for _ in 0..5 {
        assert_eq!(get(&server, "/short"), (200, "early".into()));
    }
    assert_eq!(
        long.join().unwrap(),
        (200, "early".into()),
        "{}",
        server.stderr()
    );
    server.assert_healthy("concurrent downloads", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn upstream_failures_are_502_and_504_with_their_cause() {
    let (dir, _) = failing_upstreams_app();
    let flags = ["--allow-fetch", "127.0.0.1", "--eval-timeout", "2", "--dev"];
    let mut server = serve(&dir, &flags);
    let cases = [
        ("/refused", 502, "connection refused"),
        ("/tls", 502, "TLS failed"),
        ("/status", 502, "HTTP error 404"),
        ("/hang", 504, "no complete answer"),
    ];
    assert_failures(&mut server, &cases, RSS_MIB);
    drop(server);
    // A fetch that times out before the request does is the upstream's timeout.
    let mut server = serve(
        &dir,
        &[
            "--allow-fetch",
            "127.0.0.1",
            "--eval-timeout",
            "20",
            "--fetch-timeout",
            "1",
        ],
    );
    let started = Instant::now();
    let (status, _) = get(&server, "/hang");
    assert_eq!(status, 504);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(logged(&server, "no complete answer within"));
    server.assert_healthy("a fetch's own timeout", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn trace_output_is_logged_with_its_request_id_and_capped() {
    let dir = app(&[(
        "default.nix",
        &routes(
            r#"
  loud.GET = req: builtins.foldl' (acc: i: builtins.trace "message ${toString i} ${builtins.concatStringsSep "" (builtins.genList (_: "x") 2000)}" acc) "done" (builtins.genList (i: i) 500);
  failing.GET = req: builtins.trace "about to fail" (throw "failed on purpose");
"#,
        ),
    )]);
    let mut server = serve(&dir, &["--dev"]);
    let response = server.get("/loud").unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.text().unwrap(), "done");
    assert!(eventually(Duration::from_secs(5), || server
        .stderr()
        .contains("dropped")));
    let log = server.stderr();
    let logged = log
        .lines()
        .filter(|l| l.contains(" INFO ") && l.contains(&format!("id={id} trace: message")))
        .count();
    // 64 KiB of messages of about 2 KB each: some thirty, not five hundred.
    assert!((20..=40).contains(&logged), "{logged} trace lines logged");
    assert!(
        log.contains(&format!("id={id} ")) && log.contains("more messages) dropped"),
        "{log}"
    );
    let (status, page) = get(&server, "/failing");
    assert_eq!(status, 500);
    assert!(
        page.contains("Trace output") && page.contains("about to fail"),
        "{page}"
    );
    server.assert_healthy("trace flood", "/health", RECOVERY, RSS_MIB);
}

#[test]
fn a_killed_servers_folder_is_swept_at_the_next_start_and_a_running_ones_is_not() {
    let dir = app(&[("default.nix", &routes(""))]);
    let mut killed = serve(&dir, &[]);
    let left = workdir_of(killed.pid()).expect("its working folder");
    killed.signal(nixweb_testkit::process::libc_signal::SIGKILL);
    assert!(eventually(Duration::from_secs(10), || !killed.alive()));
    let mut running = serve(&dir, &[]);
    assert!(!left.exists(), "the next start sweeps it");
    let kept = workdir_of(running.pid()).expect("its working folder");
    let mut third = serve(&dir, &[]);
    assert!(kept.exists(), "a running server's folder stays");
    running.assert_healthy("sweeping", "/health", RECOVERY, RSS_MIB);
    third.assert_healthy("sweeping", "/health", RECOVERY, RSS_MIB);
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
            assert_eq!(get(&server, path).0, 200, "{path}");
            server.assert_healthy(path, "/health", RECOVERY, 200);
            let grown = (server.rss_kib() / 1024).saturating_sub(before);
            assert!(
                grown < 24,
                "round {round}, {path}: resident memory grew by {grown} MiB and stayed"
            );
        }
    }
}
