//! The promises of state: durable writes, serializable requests, refused bad writes.

use nixweb_testkit::{engines, Method, StatusCode, TestServer};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const APP: &str = r#"
let
  inherit (builtins) concatStringsSep genList;
  concatStrings = concatStringsSep "";
  count = n: if n == null then 0 else n;
in
{
  counter.GET = req: { json = count (req.db.get "counter"); };
  counter.increment.POST = req:
    let next = count (req.db.get "counter") + 1;
    in { json = next; db.set.counter = next; };

  put.":k".POST = req: { body = "ok"; db.set."keys/${req.params.k}" = true; };
  keys.GET = req: { json = map (e: e.key) (req.db.list { prefix = "keys/"; limit = 10000; }); };
  get.":k".GET = req: { json = req.db.get req.params.k; };

  bad = {
    function.POST = { body = "x"; db.set = { ok = 1; f = { inner = x: x; }; }; };
    derivation.POST = { body = "x"; db.set = { ok = 1; d = derivation { name = "d"; system = "x"; builder = "/bin/sh"; }; }; };
    key.POST = { body = "x"; db.set = { ok = 1; ${concatStrings (genList (_: "k") 600)} = 1; }; };
    value.POST = { body = "x"; db.set = { ok = 1; big = concatStrings (genList (_: "v") 1100000); }; };
  };
  getwrite.GET = { body = "wrote"; db.set.fromget = 1; };
}
"#;

fn app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.nix"), APP).unwrap();
    dir
}

fn sqlite(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("state.db").display())
}

fn post(server: &TestServer, path: &str) -> StatusCode {
    // Serializability is the point, not speed: on a loaded machine the last of 200
    // Nix-engine increments queue longer than the test client's usual minute.
    server
        .request(Method::POST, path)
        .timeout(std::time::Duration::from_secs(300))
        .send()
        .unwrap()
        .status()
}

/// `n` increments from `n` threads at once.
fn increment_concurrently(server: &Arc<TestServer>, n: usize) -> usize {
    let ok = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let server = server.clone();
            let ok = ok.clone();
            std::thread::spawn(move || {
                let status = post(&server, "/counter/increment");
                assert_eq!(status, StatusCode::OK, "an increment failed");
                ok.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    ok.load(Ordering::SeqCst) as usize
}

#[test]
fn concurrent_increments_on_one_sqlite_server_are_serializable() {
    for engine in engines() {
        let dir = app();
        let server = Arc::new(TestServer::start(
            dir.path(),
            &["--engine", engine, "--db", &sqlite(dir.path())],
        ));
        assert_eq!(increment_concurrently(&server, 200), 200);
        assert_eq!(server.get_text("/counter"), "200", "{engine}");
    }
}

#[test]
fn two_servers_on_one_postgresql_share_state_serializably() {
    let Some(url) = postgres_url() else { return };
    // A counter of its own: tests may share the database.
    let dir = app();
    let schema_free_app = APP
        .replace("\"counter\"", "\"counter-two-servers\"")
        .replace("db.set.counter", "db.set.\"counter-two-servers\"");
    std::fs::write(dir.path().join("default.nix"), schema_free_app).unwrap();
    for engine in engines() {
        let first = NixwebProcess::start(dir.path(), &url, engine);
        let second = NixwebProcess::start(dir.path(), &url, engine);
        // Serializability is the point, not speed: 200 Nix-engine increments queue on two
        // servers, and on a loaded machine the last ones wait past reqwest's 30 s default.
        let client = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .unwrap();
        let before: u64 = client
            .get(first.url("/counter"))
            .send()
            .unwrap()
            .text()
            .unwrap()
            .parse()
            .unwrap();
        let urls = [
            first.url("/counter/increment"),
            second.url("/counter/increment"),
        ];
        let threads: Vec<_> = (0..200)
            .map(|i| {
                let url = urls[i % 2].clone();
                let client = client.clone();
                std::thread::spawn(move || client.post(url).send().unwrap().status())
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), StatusCode::OK);
        }
        let after: u64 = client
            .get(second.url("/counter"))
            .send()
            .unwrap()
            .text()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(after - before, 200, "{engine}");
    }
}

fn postgres_url() -> Option<String> {
    match std::env::var("NIXWEB_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("NIXWEB_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("skipped: NIXWEB_SKIP_POSTGRES=1");
            None
        }
        Err(_) => panic!(
            "NIXWEB_TEST_POSTGRES is not set: run scripts/postgres-test-setup (scripts/test does)"
        ),
    }
}

/// `nixweb serve` as a separate process, as a deployment runs it.
struct NixwebProcess {
    child: Child,
    base: String,
}

impl NixwebProcess {
    fn start(app: &Path, db: &str, engine: &str) -> NixwebProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nixweb"))
            .args([
                "serve",
                app.to_str().unwrap(),
                "--engine",
                engine,
                "--port",
                "0",
                "--db",
                db,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("nixweb listening on ")
            .unwrap_or_else(|| panic!("unexpected start line {line:?}"))
            .to_owned();
        NixwebProcess { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill(mut self) {
        // SIGKILL: no chance to flush anything.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for NixwebProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_acknowledged_write_survives_sigkill() {
    for engine in engines() {
        acknowledged_writes_survive_sigkill(engine);
    }
}

fn acknowledged_writes_survive_sigkill(engine: &str) {
    let dir = app();
    let db = sqlite(dir.path());
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let mut acknowledged = Vec::new();
    let mut next = 0;
    for round in 0..4 {
        let server = NixwebProcess::start(dir.path(), &db, engine);
        // Writers in flight when the kill comes: some answers never arrive, which is fine;
        // what matters is that every 2xx that did arrive is durable.
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let client = client.clone();
                let base = server.url("/put/");
                let start = next + w * 1000;
                std::thread::spawn(move || {
                    let mut done = Vec::new();
                    for k in start..start + 1000 {
                        match client.post(format!("{base}r{round}-{k}")).send() {
                            Ok(r) if r.status().is_success() => {
                                done.push(format!("keys/r{round}-{k}"))
                            }
                            Ok(r) => panic!("a write was answered {}", r.status()),
                            Err(_) => break, // the server is gone
                        }
                    }
                    done
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(700 + 300 * round as u64));
        server.kill();
        for writer in writers {
            acknowledged.extend(writer.join().unwrap());
        }
        next += 4000;
    }
    assert!(
        acknowledged.len() > 10,
        "too few writes got through to prove anything: {}",
        acknowledged.len()
    );
    let server = NixwebProcess::start(dir.path(), &db, engine);
    let stored: Vec<String> = client
        .get(server.url("/keys"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let stored: std::collections::HashSet<_> = stored.into_iter().collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|k| !stored.contains(*k))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes were lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

#[test]
fn bad_writes_are_refused_naming_the_key_and_nothing_is_stored() {
    for engine in engines() {
        let dir = app();
        let server = TestServer::start(
            dir.path(),
            &["--engine", engine, "--dev", "--db", &sqlite(dir.path())],
        );
        let cases = [
            ("/bad/function", "db.set.&quot;f&quot;.inner is a function"),
            ("/bad/derivation", "db.set.&quot;d&quot; is a derivation"),
            ("/bad/key", "kkkkkkkkkk"),
            (
                "/bad/value",
                "the value for state key &quot;big&quot; is 1100002 bytes",
            ),
        ];
        for (path, message) in cases {
            let reply = server.request(Method::POST, path).send().unwrap();
            assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            let page = reply.text().unwrap();
            assert!(page.contains(message), "{path}: no {message:?} in {page}");
        }
        assert_eq!(
            server.get_text("/get/ok"),
            "null",
            "the valid writes of those requests were not stored either"
        );
    }
}

#[test]
fn get_handlers_may_not_write_unless_the_app_allows_it() {
    for engine in engines() {
        let dir = app();
        let db = sqlite(dir.path());
        let strict = TestServer::start(dir.path(), &["--engine", engine, "--dev", "--db", &db]);
        let refused = strict.get("/getwrite");
        assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(refused
            .text()
            .unwrap()
            .contains("GET and HEAD must not change state"));
        assert_eq!(strict.get_text("/get/fromget"), "null");
        drop(strict);

        let allowing = TestServer::start(
            dir.path(),
            &["--engine", engine, "--db", &db, "--allow-get-writes"],
        );
        assert_eq!(allowing.get_text("/getwrite"), "wrote");
        assert_eq!(allowing.get_text("/get/fromget"), "1");
    }
}
