//! What the embedded engine promises beyond the contract both engines share: bounded
//! evaluations, confinement, reuse of evaluated files until they change, guarded fetches.

use nixweb_testkit::{StatusCode, TestServer};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn embedded(dir: &tempfile::TempDir, flags: &[&str]) -> TestServer {
    let mut all = vec!["--engine", "embedded"];
    all.extend_from_slice(flags);
    TestServer::start(dir.path(), &all)
}

/// Status and body of GET `path`.
fn get(server: &TestServer, path: &str) -> (StatusCode, String) {
    let reply = server.get(path);
    (reply.status(), reply.text().unwrap())
}

const RUNAWAY: &str = r#"{
  loop.GET = let f = x: f x; in f 1;
  spin.GET = toString (builtins.length (builtins.filter (x: x == 0) (builtins.genList (x: x) 900000)));
  string.GET = let f = s: if builtins.stringLength s < 0 then s else f (s + s); in f "x";
  deep.GET = let f = n: if n == 0 then 0 else 1 + f (n - 1); in toString (f 1000000);
  ok.GET = "ok";
  # Ten billion additions in constant memory: only the clock can stop it.
  forever.GET = let count = n: builtins.foldl' (a: _: a + 1) 0 (builtins.genList (x: x) n);
                in toString (builtins.foldl' (a: _: a + count 100000) 0 (builtins.genList (x: x) 100000));
}"#;

#[test]
fn runaway_evaluations_are_stopped_and_the_worker_serves_on() {
    let dir = app(&[("default.nix", RUNAWAY)]);
    // One worker, so the request after each runaway lands on the worker that ran it.
    let server = embedded(
        &dir,
        &[
            "--workers",
            "1",
            "--dev",
            "--max-steps",
            "2000000",
            "--eval-memory",
            "256000000",
        ],
    );
    // Steps are time, counted: 504. Other bounds are the app's errors, not overload: 500,
    // never 503, which would tell clients to retry what will always fail. Each message
    // names the flag and the nixweb.toml key that raise the bound.
    let cases = [
        (
            "/loop",
            StatusCode::GATEWAY_TIMEOUT,
            "step limit (2000000) exceeded",
            "max-steps",
        ),
        (
            "/spin",
            StatusCode::GATEWAY_TIMEOUT,
            "step limit (2000000) exceeded",
            "max-steps",
        ),
        (
            "/string",
            StatusCode::INTERNAL_SERVER_ERROR,
            "memory limit",
            "eval-memory",
        ),
        (
            "/deep",
            StatusCode::INTERNAL_SERVER_ERROR,
            "maximum call depth (100000) exceeded",
            "max-depth",
        ),
    ];
    for (path, status, message, setting) in cases {
        let (got, text) = get(&server, path);
        assert_eq!(got, status, "{path}: {text}");
        assert!(text.contains(message), "{path}: no {message:?} in {text}");
        let hint = format!("raise it with --{setting}, or {setting} in nixweb.toml");
        assert!(text.contains(&hint), "{path}: no {hint:?} in {text}");
        assert_eq!(
            get(&server, "/ok"),
            (StatusCode::OK, "ok".into()),
            "after {path}"
        );
    }
}

#[test]
fn the_clock_stops_an_endless_loop_too() {
    let dir = app(&[("default.nix", RUNAWAY)]);
    let unbounded = "1000000000000000";
    let server = embedded(
        &dir,
        &[
            "--workers",
            "1",
            "--eval-timeout",
            "1",
            "--max-steps",
            unbounded,
            "--eval-memory",
            unbounded,
        ],
    );
    let started = Instant::now();
    let (status, text) = get(&server, "/forever");
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        text.contains("longer than 1s")
            && text.contains("--eval-timeout, or eval-timeout in nixweb.toml"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(get(&server, "/ok").1, "ok");
}

const SNOOPING: &str = r#"{
  passwd.GET = builtins.readFile "/etc/passwd";
  climbing.GET = builtins.readFile (./. + "/../../../../../../../../etc/passwd");
  importing.GET = import /etc/passwd;
  listing.GET = { json = builtins.attrNames (builtins.readDir /etc); };
  exists.GET = { json = builtins.pathExists /etc/passwd; };
  own.GET = builtins.readFile ./data.txt;
  file.":name".GET = req: builtins.readFile (./. + "/${req.params.name}");
  env.GET = { json = { home = builtins.getEnv "HOME"; given = builtins.getEnv "NIXWEB_TEST_GIVEN"; }; };
}"#;

#[test]
fn apps_read_only_their_own_folder() {
    let dir = app(&[("default.nix", SNOOPING), ("data.txt", "mine")]);
    let server = embedded(&dir, &["--dev"]);
    for path in ["/passwd", "/climbing", "/importing", "/listing"] {
        let (status, text) = get(&server, path);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(
            text.contains("access to &#39;/etc") || text.contains("access to '/etc"),
            "{path}: {text}"
        );
        assert!(text.contains("forbidden"), "{path}: {text}");
        assert!(!text.contains("root:x:0"), "{path} leaked /etc/passwd");
    }
    assert_eq!(
        get(&server, "/exists").1,
        "false",
        "outside the app, nothing exists"
    );
    assert_eq!(get(&server, "/own").1, "mine");
    assert_eq!(get(&server, "/file/data.txt").1, "mine");
    assert_eq!(
        get(&server, "/file/..%2F..%2Fetc%2Fpasswd").0,
        StatusCode::BAD_REQUEST
    );
}

const PRODUCING: &str = r#"let
  kept = builtins.path { path = ./.; filter = p: t: baseNameOf p != "secret.txt"; };
in {
  made.GET = toString (import (builtins.toFile "made.nix" "{ answer = 6 * 7; }")).answer;
  copy.GET = { json = builtins.attrNames (builtins.readDir kept); };
  hidden.GET = { json = builtins.pathExists "${kept}/secret.txt"; };
  store.GET = { json = builtins.pathExists (dirOf (builtins.toFile "t" "x")); };
  passwd.GET = builtins.readFile "${builtins.toFile "t" "x"}/../../../etc/passwd";
}"#;

/// Store paths the app's evaluation produced are readable by it (issue 13 cause 16),
/// through the engine's confinement: a filtered copy shows only what it kept, and the
/// rest of the store stays as unreadable as before.
#[test]
fn apps_read_the_store_paths_they_produced_and_no_others() {
    let dir = app(&[("default.nix", PRODUCING), ("secret.txt", "s")]);
    let server = embedded(&dir, &["--dev"]);
    assert_eq!(get(&server, "/made"), (StatusCode::OK, "42".into()));
    assert_eq!(
        get(&server, "/copy"),
        (StatusCode::OK, r#"["default.nix"]"#.into())
    );
    assert_eq!(get(&server, "/hidden").1, "false");
    assert_eq!(
        get(&server, "/store").1,
        "false",
        "the store itself stays hidden"
    );
    let (status, text) = get(&server, "/passwd");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    assert!(!text.contains("root:x:0"), "leaked /etc/passwd");
}

#[test]
fn apps_see_only_the_environment_they_are_given() {
    std::env::set_var("NIXWEB_TEST_GIVEN", "granted");
    let dir = app(&[("default.nix", SNOOPING)]);
    let server = embedded(&dir, &["--env", "NIXWEB_TEST_GIVEN"]);
    assert_eq!(get(&server, "/env").1, r#"{"given":"granted","home":""}"#);
}

#[test]
fn edits_are_served_without_a_restart() {
    let dir = app(&[
        ("default.nix", "{ GET = import ./message.nix; }"),
        ("message.nix", "\"one\""),
    ]);
    let server = embedded(&dir, &["--workers", "1"]);
    assert_eq!(get(&server, "/").1, "one");
    std::fs::write(dir.path().join("message.nix"), "\"two, a longer message\"").unwrap();
    assert_eq!(get(&server, "/").1, "two, a longer message");
    // A file that did not exist when the app looked for it counts too.
    std::fs::write(
        dir.path().join("default.nix"),
        "{ GET = if builtins.pathExists ./extra.nix then import ./extra.nix else \"no extra\"; }",
    )
    .unwrap();
    assert_eq!(get(&server, "/").1, "no extra");
    std::fs::write(dir.path().join("extra.nix"), "\"extra\"").unwrap();
    assert_eq!(get(&server, "/").1, "extra");
}

/// `big` costs about 420,000 steps and so does `other`: 700,000 steps pay for one of them
/// but not both. `/both` fits only when `big` comes from an earlier request.
const CACHED: &str = r#"
let
  sum = n: builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) n);
  big = sum 100000;
  other = sum 100001;
in {
  first.GET = toString big;
  both.GET = toString (big + other);
}"#;

#[test]
fn values_that_do_not_depend_on_the_request_are_reused() {
    let dir = app(&[("default.nix", CACHED)]);
    let flags = ["--workers", "1", "--max-steps", "700000"];
    let cold = embedded(&dir, &flags);
    assert_eq!(
        get(&cold, "/both").0,
        StatusCode::GATEWAY_TIMEOUT,
        "computing both at once is over budget"
    );
    drop(cold);
    let warm = embedded(&dir, &flags);
    assert_eq!(get(&warm, "/first").1, "4999950000");
    assert_eq!(
        get(&warm, "/both").1,
        "10000000000",
        "big was computed by the first request and reused"
    );
}

#[test]
fn fetches_go_only_to_allowed_hosts_and_never_outlive_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    // Accepts and never answers.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let source = format!(
        r#"{{ slow.GET = builtins.readFile (builtins.fetchurl "http://{address}/x"); ok.GET = "ok"; }}"#
    );
    let dir = app(&[("default.nix", &source)]);

    let closed = embedded(&dir, &["--dev"]);
    let (status, text) = get(&closed, "/slow");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(text.contains("--allow-fetch 127.0.0.1"), "{text}");

    let open = embedded(
        &dir,
        &[
            "--allow-fetch",
            "127.0.0.1",
            "--workers",
            "1",
            "--eval-timeout",
            "1",
        ],
    );
    assert_eq!(get(&open, "/slow").0, StatusCode::GATEWAY_TIMEOUT);
    let started = Instant::now();
    assert_eq!(get(&open, "/ok").1, "ok");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the worker stayed stuck in the fetch"
    );
}

#[test]
fn handlers_see_the_clock_move_between_requests() {
    let dir = app(&[("default.nix", "{ GET = _: toString builtins.currentTime; }")]);
    let server = embedded(&dir, &["--workers", "1"]);
    let read = || -> i64 { get(&server, "/").1.parse().unwrap() };
    let first = read();
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((first - system).abs() <= 1, "{first} vs {system}");
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        read() > first,
        "the same worker's evaluator saw a later time"
    );
}

#[test]
fn text_bodies_arrive_exactly_as_the_nix_engine_gives_them() {
    // The embedded engine hands a text body over without JSON in between; it must not
    // differ from the Nix engine's, which goes through JSON.
    let dir = app(&[(
        "default.nix",
        r#"{
  text.GET = "quote \" backslash \\ tab \t newline \n dollar \${x} unicode é ✓ 🚀 nul-free";
  big.GET = builtins.concatStringsSep "\n" (builtins.genList (i: "<tr><td>${toString i}</td></tr>") 5000);
  attrs.GET = { body = "<p>é</p>"; status = 201; headers."x-a" = "b"; };
  bad.GET = { body = 42; };
}"#,
    )]);
    let mut seen: Vec<Vec<(StatusCode, String)>> = Vec::new();
    for engine in nixweb_testkit::engines() {
        let server = TestServer::start(dir.path(), &["--engine", engine]);
        let replies: Vec<_> = ["/text", "/big", "/attrs", "/bad"]
            .iter()
            .map(|path| get(&server, path))
            .collect();
        assert_eq!(replies[0].0, StatusCode::OK, "{engine}");
        assert!(
            replies[0].1.contains("é ✓ 🚀") && replies[0].1.contains("${x}"),
            "{engine}"
        );
        assert_eq!(replies[1].1.lines().count(), 5000, "{engine}");
        assert_eq!(
            replies[2],
            (StatusCode::CREATED, "<p>é</p>".to_owned()),
            "{engine}"
        );
        assert_eq!(replies[3].0, StatusCode::INTERNAL_SERVER_ERROR, "{engine}");
        seen.push(replies.into_iter().take(3).collect());
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "the engines agree");
}

/// Handlers for the response cache: each uses different parts of the request, or
/// something besides it.
const CACHE_APP: &str = r#"{ query, ... }: {
  hello.GET = "Hello, ${query.name or "world"}!";
  id.GET = req: req.id;
  agent.GET = req: req.headers.user-agent or "none";
  traced.GET = builtins.trace "handler ran" "traced";
  state.GET = req: builtins.toJSON (req.db.get "k");
  file.GET = builtins.readFile ./message.txt;
  hello.POST = "posted";
}"#;

/// Body and whether it was answered from the response cache.
fn get_cached(server: &TestServer, path: &str, agent: &str) -> (String, bool) {
    let reply = server
        .request(nixweb_testkit::Method::GET, path)
        .header("user-agent", agent)
        .send()
        .unwrap();
    let hit = reply.headers().get("x-nixweb-cache").is_some();
    (reply.text().unwrap(), hit)
}

#[test]
fn a_request_that_agrees_on_every_field_its_handler_used_is_answered_from_the_cache() {
    let dir = app(&[("default.nix", CACHE_APP), ("message.txt", "one")]);
    let server = embedded(&dir, &[]);
    let get = |path: &str, agent: &str| get_cached(&server, path, agent);

    // Same query: the second is a hit, even from another client (headers were not used).
    assert_eq!(get("/hello?name=Ada", "a"), ("Hello, Ada!".into(), false));
    assert_eq!(get("/hello?name=Ada", "b"), ("Hello, Ada!".into(), true));
    assert_eq!(get("/hello?name=Bob", "a"), ("Hello, Bob!".into(), false));
    assert_eq!(get("/hello", "a"), ("Hello, world!".into(), false));
    assert_eq!(get("/hello", "a"), ("Hello, world!".into(), true));
    // A handler that reads a header is keyed by it.
    assert_eq!(get("/agent", "a"), ("a".into(), false));
    assert_eq!(get("/agent", "b"), ("b".into(), false));
    assert_eq!(get("/agent", "b"), ("b".into(), true));
    // The request id differs every time, so nothing that uses it is reused.
    let (first, _) = get("/id", "a");
    let (second, hit) = get("/id", "a");
    assert!(first != second && !hit);
    // Traces print on every request; state is read on every request.
    for path in ["/traced", "/state"] {
        get(path, "a");
        assert!(!get(path, "a").1, "{path} was answered from the cache");
    }
    // A changed file is seen at once.
    assert_eq!(get("/file", "a"), ("one".into(), false));
    assert_eq!(get("/file", "a"), ("one".into(), true));
    std::fs::write(dir.path().join("message.txt"), "two").unwrap();
    assert_eq!(get("/file", "a"), ("two".into(), false));
    // Only GET and HEAD are answered from the cache.
    for _ in 0..2 {
        let reply = server
            .request(nixweb_testkit::Method::POST, "/hello")
            .send()
            .unwrap();
        assert!(reply.headers().get("x-nixweb-cache").is_none());
        assert_eq!(reply.text().unwrap(), "posted");
    }

    // Results that did not use the time outlive their second; those that did, do not.
    let dir = app(&[(
        "default.nix",
        "{ plain.GET = \"plain\"; clock.GET = _: toString builtins.currentTime; }",
    )]);
    let server = embedded(&dir, &[]);
    let get = |path: &str| get_cached(&server, path, "a");
    assert!(!get("/plain").1 && get("/plain").1);
    // Start early in a second, so the next request falls within it.
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_millis()
        > 300
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (time, _) = get("/clock");
    assert_eq!(
        get("/clock"),
        (time.clone(), true),
        "within the same second"
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get("/plain"), ("plain".into(), true));
    let (later, hit) = get("/clock");
    assert!(!hit && later > time, "{later} after {time}");

    let uncached = embedded(&dir, &["--no-response-cache"]);
    get_cached(&uncached, "/plain", "a");
    assert!(!get_cached(&uncached, "/plain", "a").1);
}
