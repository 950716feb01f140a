//! Durability on SQLite: a writer process is SIGKILLed mid-way, several times over, and
//! every commit it reported must still be there, each atomic with its counter update.
//!
//! The writer is this test binary run again with `durability_writer` as the only test and
//! the database path in the environment; run normally, that test does nothing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

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
fn durability_writer() {
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
                "durability_writer",
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
            if let Some(key) = line.strip_prefix("COMMITTED ") {
                reported.push(key.to_owned());
                this_run += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, most likely in the middle of a commit
        child.wait().unwrap();
        // Lines printed before the kill but not read yet count too.
        for line in lines {
            if let Some(key) = line.unwrap().strip_prefix("COMMITTED ") {
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
