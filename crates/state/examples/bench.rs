//! Micro-benchmark of both backends: read transactions, write transactions and contended
//! increments per second, each a full begin/read/commit as a request would do.
//!
//!     cargo run -p nixweb-state --release --example bench
//!
//! SQLite runs on a file in a temporary directory. PostgreSQL runs when
//! NIXWEB_TEST_POSTGRES (or NIXWEB_BENCH_POSTGRES) holds a URL, in schema
//! `nixweb_state_bench`, which is dropped first, once per commit mode ("postgres" is the
//! default, commits taking turns on a lock; "pg-ssi" is parallel SERIALIZABLE commits).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use nixweb_state::{
    CommitMode, PostgresBackend, PostgresOptions, SqliteBackend, SqliteOptions, StateBackend,
    StateError, Writes,
};
use serde_json::json;

const KEYS: usize = 1000;
const THREADS: usize = 4;
const CONTENDING_THREADS: usize = 8;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::open(&dir.path().join("bench.db"), SqliteOptions::default())
        .expect("opening SQLite");
    let sqlite = Arc::new(sqlite);
    run("sqlite", sqlite.clone(), 40_000, 2_000, 1_000);
    let (transactions, commits) = sqlite.write_stats();
    println!(
        "sqlite   group commit: {commits} commits in {transactions} write transactions ({:.1} per disk sync)",
        commits as f64 / transactions as f64
    );

    let url = std::env::var("NIXWEB_BENCH_POSTGRES")
        .or_else(|_| std::env::var("NIXWEB_TEST_POSTGRES"))
        .ok()
        .filter(|url| !url.is_empty());
    match url {
        Some(url) => {
            for (name, commit_mode) in [
                ("postgres", CommitMode::Serialized),
                ("pg-ssi", CommitMode::Serializable),
            ] {
                let schema = "nixweb_state_bench";
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .unwrap();
                drop(client);
                let options = PostgresOptions {
                    schema: Some(schema.into()),
                    commit_mode,
                    ..PostgresOptions::default()
                };
                let backend = PostgresBackend::open(&url, options).expect("opening PostgreSQL");
                run(name, Arc::new(backend), 10_000, 2_000, 1_000);
            }
        }
        None => println!("postgres: skipped (set NIXWEB_TEST_POSTGRES to a URL)"),
    }
}

fn run(name: &str, backend: Arc<dyn StateBackend>, reads: usize, writes: usize, increments: usize) {
    preload(&*backend);

    let (seconds, _) = in_threads(THREADS, reads, |thread, i| {
        let mut snapshot = backend.begin().unwrap();
        let key = format!("bench/{:04}", pseudo_random(thread, i) % KEYS);
        assert!(snapshot.get(&key).unwrap().is_some());
        snapshot.commit(Writes::default()).unwrap();
        0
    });
    report(name, "get transactions", reads, seconds, THREADS, None);

    let lists = reads / 4;
    let (seconds, rows) = in_threads(THREADS, lists, |thread, i| {
        let mut snapshot = backend.begin().unwrap();
        let start = format!("bench/{:04}", pseudo_random(thread, i) % KEYS);
        let rows = snapshot.list("bench/", Some(&start), 20).unwrap().len();
        snapshot.commit(Writes::default()).unwrap();
        rows
    });
    assert!(rows > lists * 10, "lists returned too few rows: {rows}");
    report(name, "list-20 transactions", lists, seconds, THREADS, None);

    // Each thread updates keys of its own: validation passes, the cost is the commit.
    let (seconds, conflicts) = in_threads(THREADS, writes, |thread, i| {
        let key = format!(
            "bench/{:04}",
            (thread * KEYS / THREADS) + i % (KEYS / THREADS)
        );
        increment(&*backend, &key)
    });
    report(
        name,
        "read-modify-write transactions",
        writes,
        seconds,
        THREADS,
        Some(conflicts),
    );

    let (seconds, conflicts) = in_threads(CONTENDING_THREADS, increments, |_, _| {
        increment(&*backend, "counter")
    });
    report(
        name,
        "contended increments of one key",
        increments,
        seconds,
        CONTENDING_THREADS,
        Some(conflicts),
    );
    let mut snapshot = backend.begin().unwrap();
    assert_eq!(snapshot.get("counter").unwrap(), Some(json!(increments)));
    drop(snapshot);

    // Readers beside writers: what snapshots cost while commits are in flight.
    let (seconds, mixed_reads) = reads_beside_writes(&*backend, writes);
    report(
        name,
        "mixed: get transactions",
        mixed_reads,
        seconds,
        2,
        None,
    );
    report(name, "mixed: read-modify-writes", writes, seconds, 2, None);
}

/// Two threads do `writes` read-modify-writes on keys of their own while two others run get
/// transactions until the writers are done; returns the seconds and the reads done.
fn reads_beside_writes(backend: &dyn StateBackend, writes: usize) -> (f64, usize) {
    let writers_done = std::sync::atomic::AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..2)
            .map(|thread| {
                scope.spawn(move || {
                    for i in 0..writes / 2 {
                        let key = format!("bench/{:04}", thread * KEYS / 2 + i % (KEYS / 2));
                        increment(backend, &key);
                    }
                })
            })
            .collect();
        for thread in 0..2 {
            let (reads, writers_done) = (&reads, &writers_done);
            scope.spawn(move || {
                let mut i = 0;
                while !writers_done.load(Ordering::Relaxed) {
                    let mut snapshot = backend.begin().unwrap();
                    let key = format!("bench/{:04}", pseudo_random(thread, i) % KEYS);
                    snapshot.get(&key).unwrap();
                    snapshot.commit(Writes::default()).unwrap();
                    reads.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            });
        }
        for writer in writers {
            writer.join().unwrap();
        }
        writers_done.store(true, Ordering::Relaxed);
    });
    (started.elapsed().as_secs_f64(), reads.into_inner())
}

fn preload(backend: &dyn StateBackend) {
    let set = (0..KEYS)
        .map(|i| {
            let value = json!({ "title": format!("todo number {i}"), "done": false, "n": 0 });
            (format!("bench/{i:04}"), value)
        })
        .collect();
    backend
        .begin()
        .unwrap()
        .commit(Writes {
            set,
            delete: vec![],
        })
        .unwrap();
}

/// Adds one to the "n" of the object at `key` (or to a plain number), retrying conflicts;
/// returns how many conflicts it met.
fn increment(backend: &dyn StateBackend, key: &str) -> usize {
    let mut conflicts = 0;
    loop {
        let mut snapshot = backend.begin().unwrap();
        let value = match snapshot.get(key).unwrap() {
            Some(mut object @ serde_json::Value::Object(_)) => {
                object["n"] = json!(object["n"].as_i64().unwrap() + 1);
                object
            }
            Some(number) => json!(number.as_i64().unwrap() + 1),
            None => json!(1),
        };
        let writes = Writes {
            set: vec![(key.to_owned(), value)],
            delete: vec![],
        };
        match snapshot.commit(writes) {
            Ok(()) => return conflicts,
            Err(StateError::Conflict) => conflicts += 1,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Runs `total` calls of `work(thread, index)` shared over `threads` threads; returns the
/// seconds taken and the sum of what the calls returned.
fn in_threads(
    threads: usize,
    total: usize,
    work: impl Fn(usize, usize) -> usize + Sync,
) -> (f64, usize) {
    let sum = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let (work, sum) = (&work, &sum);
            scope.spawn(move || {
                for i in (thread..total).step_by(threads) {
                    sum.fetch_add(work(thread, i / threads), Ordering::Relaxed);
                }
            });
        }
    });
    (started.elapsed().as_secs_f64(), sum.into_inner())
}

fn pseudo_random(thread: usize, i: usize) -> usize {
    let mut x = (thread as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 + 1);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x as usize
}

fn report(
    backend: &str,
    what: &str,
    count: usize,
    seconds: f64,
    threads: usize,
    conflicts: Option<usize>,
) {
    let conflicts = conflicts
        .map(|c| format!(", {c} conflicts retried"))
        .unwrap_or_default();
    println!(
        "{backend:8} {what:34} {:>9.0}/s  ({count} in {seconds:.2} s, {threads} threads{conflicts})",
        count as f64 / seconds
    );
}
