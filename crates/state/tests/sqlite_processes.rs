//! SQLite across real processes: durability when a writer process is SIGKILLed mid-way,
//! several times over (every commit it reported must still be there, each atomic with its
//! counter update), and exact increments from two processes at once.
//!
//! The child processes are this test binary run again with one `…_child` test selected and
//! the database path in the environment; run normally, those tests do nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use std::sync::Arc;

use nixweb_state::{SqliteBackend, SqliteOptions, StateBackend, StateError, Writes};
use serde_json::json;

const DB_ENV: &str = "NIXWEB_STATE_DURABILITY_DB";
const RUN_ENV: &str = "NIXWEB_STATE_DURABILITY_RUN";
const RUNS: usize = 5;
/// Commits to see reported by each writer before it is killed.
const REPORTS_BEFORE_KILL: usize = 40;

/// As a child: commits forever, each commit a new key plus the counter of keys, and prints
/// each one after its commit returned.
#[test]
fn durability_writer_child() {
    let (Ok(path), Ok(run)) = (std::env::var(DB_ENV), std::env::var(RUN_ENV)) else {
        return;
    };
    let backend = SqliteBackend::open(path.as_ref(), SqliteOptions::default()).unwrap();
    for i in 0.. {
        let key = format!("runs/{run}/{i:08}");
        loop {
            let mut snapshot = backend.begin().unwrap();
            let count = snapshot
                .get("count")
                .unwrap()
                .map_or(0, |v| v.as_i64().unwrap());
            let writes = Writes {
                set: vec![(key.clone(), json!(i)), ("count".into(), json!(count + 1))],
                delete: vec![],
            };
            match snapshot.commit(writes) {
                Ok(()) => break,
                Err(StateError::Conflict) => continue,
                Err(e) => panic!("{e}"),
            }
        }
        println!("COMMITTED {key}");
    }
}

/// The key of a "COMMITTED key" line; libtest may print its own text before the first.
fn reported_key(line: &str) -> Option<&str> {
    line.find("COMMITTED ")
        .map(|at| &line[at + "COMMITTED ".len()..])
}

#[test]
fn reported_commits_survive_sigkill() {
    if std::env::var(DB_ENV).is_ok() {
        return; // inside a writer
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nixweb-state-durability");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.db");

    let mut reported = Vec::new();
    for run in 0..RUNS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "durability_writer_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DB_ENV, &path)
            .env(RUN_ENV, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut this_run = 0;
        while this_run < REPORTS_BEFORE_KILL {
            let line = lines
                .next()
                .expect("the writer stopped before being killed")
                .unwrap();
            if let Some(key) = reported_key(&line) {
                reported.push(key.to_owned());
                this_run += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, most likely in the middle of a commit
        child.wait().unwrap();
        // Lines printed before the kill but not read yet count too.
        for line in lines {
            if let Some(key) = reported_key(&line.unwrap()) {
                reported.push(key.to_owned());
            }
        }
    }

    let backend = SqliteBackend::open(&path, SqliteOptions::default()).unwrap();
    let mut snapshot = backend.begin().unwrap();
    for key in &reported {
        assert!(snapshot.get(key).unwrap().is_some(), "{key} was lost");
    }
    let stored = snapshot.list("runs/", None, usize::MAX).unwrap();
    let count = snapshot.get("count").unwrap().unwrap();
    // Each key and its counter update were one transaction.
    assert_eq!(count, json!(stored.len()));
    assert!(stored.len() >= reported.len());
    assert!(reported.len() >= RUNS * REPORTS_BEFORE_KILL);
    eprintln!(
        "{} commits reported over {RUNS} killed writers, {} stored",
        reported.len(),
        stored.len()
    );
}

const INCREMENTS_ENV: &str = "NIXWEB_STATE_INCREMENTS_DB";

/// As a child: 100 increments of "counter" from 4 threads.
#[test]
fn incrementer_child() {
    let Ok(path) = std::env::var(INCREMENTS_ENV) else {
        return;
    };
    let backend: common::Backend =
        Arc::new(SqliteBackend::open(path.as_ref(), SqliteOptions::default()).unwrap());
    common::increment_concurrently(&[backend], "counter", 4, 100);
}

#[test]
fn two_processes_increment_exactly() {
    if std::env::var(INCREMENTS_ENV).is_ok() || std::env::var(DB_ENV).is_ok() {
        return; // inside a child
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nixweb-state-processes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.db");
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["incrementer_child", "--exact", "--test-threads=1"])
                .env(INCREMENTS_ENV, &path)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "an incrementer failed");
    }
    let backend = SqliteBackend::open(&path, SqliteOptions::default()).unwrap();
    let mut snapshot = backend.begin().unwrap();
    assert_eq!(snapshot.get("counter").unwrap(), Some(json!(200)));
}
