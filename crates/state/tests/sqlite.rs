//! The shared backend suite on SQLite, plus what only SQLite has: files, URLs and several
//! backends (as several processes) on one file.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::{increment_concurrently, put, read, Backend};
use nixweb_state::{open, SqliteBackend, SqliteOptions};
use serde_json::json;

/// A database path of its own for each test, emptied first.
fn fresh_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nixweb-state-sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn fresh(name: &str) -> Option<Backend> {
    let backend = SqliteBackend::open(&fresh_path(name), SqliteOptions::default()).unwrap();
    Some(Arc::new(backend))
}

backend_suite!(fresh);

#[test]
fn open_accepts_urls_and_plain_paths() {
    let path = fresh_path("open_urls");
    let by_url = open(&format!("sqlite:{}", path.display())).unwrap();
    assert_eq!(by_url.kind(), "sqlite");
    put(&by_url, &[("k", json!("v"))], &[]);
    let by_path = open(path.to_str().unwrap()).unwrap();
    assert_eq!(read(&by_path, "k"), Some(json!("v")));
    let by_slashes = open(&format!("sqlite://{}", path.display())).unwrap();
    assert_eq!(read(&by_slashes, "k"), Some(json!("v")));
    assert!(open("sqlite:").is_err());
    assert!(open("sqlite::memory:").is_err());
    assert!(open("/nonexistent-dir/for/sure/app.db").is_err());
}

#[test]
fn data_survives_reopening() {
    let path = fresh_path("reopen");
    {
        let backend: Backend =
            Arc::new(SqliteBackend::open(&path, SqliteOptions::default()).unwrap());
        put(&backend, &[("kept", json!([1, 2.5]))], &[]);
    }
    let backend: Backend = Arc::new(SqliteBackend::open(&path, SqliteOptions::default()).unwrap());
    assert_eq!(read(&backend, "kept"), Some(json!([1, 2.5])));
}

#[test]
fn two_backends_on_one_file_increment_exactly() {
    // Separate pools and separate in-process write gates: only SQLite's own locking keeps
    // them apart, as between two server processes.
    let path = fresh_path("two_backends");
    let backends: Vec<Backend> = (0..2)
        .map(|_| Arc::new(SqliteBackend::open(&path, SqliteOptions::default()).unwrap()) as Backend)
        .collect();
    let conflicts = increment_concurrently(&backends, "counter", 8, 200);
    assert_eq!(read(&backends[0], "counter"), Some(json!(200)));
    assert_eq!(read(&backends[1], "counter"), Some(json!(200)));
    eprintln!("sqlite, two backends: 200 increments, {conflicts} conflicts");
}

#[test]
fn small_pool_serves_many_threads() {
    let options = SqliteOptions {
        max_connections: 2,
        ..SqliteOptions::default()
    };
    let backend: Backend =
        Arc::new(SqliteBackend::open(&fresh_path("small_pool"), options).unwrap());
    increment_concurrently(std::slice::from_ref(&backend), "counter", 8, 80);
    assert_eq!(read(&backend, "counter"), Some(json!(80)));
}

#[test]
fn the_wal_file_is_cut_back_after_a_large_commit() {
    let path = fresh_path("wal_limit");
    let limit = 1 << 20;
    let options = SqliteOptions {
        wal_size_limit: limit,
        ..SqliteOptions::default()
    };
    let backend: Backend = Arc::new(SqliteBackend::open(&path, options).unwrap());
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let big = "x".repeat(3 << 20);
    put(&backend, &[("big", json!(big))], &[]);
    assert!(std::fs::metadata(&wal).unwrap().len() > limit);
    for i in 0..3 {
        put(&backend, &[("small", json!(i))], &[]);
    }
    let size = std::fs::metadata(&wal).unwrap().len();
    assert!(size <= limit, "WAL still {size} bytes");
    assert_eq!(
        read(&backend, "big").unwrap().as_str().unwrap().len(),
        3 << 20
    );
    assert_eq!(read(&backend, "small"), Some(json!(2)));
}

#[test]
fn a_snapshot_open_during_a_wal_restart_keeps_its_view() {
    let path = fresh_path("wal_limit_reader");
    let limit = 1 << 20;
    let options = SqliteOptions {
        wal_size_limit: limit,
        ..SqliteOptions::default()
    };
    let backend: Backend = Arc::new(SqliteBackend::open(&path, options).unwrap());
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    put(&backend, &[("big", json!("x".repeat(3 << 20)))], &[]);
    let mut reader = backend.begin().unwrap();
    assert_eq!(reader.get("n").unwrap(), None);
    // The restart cannot finish while the reader is open: commits go on regardless.
    for i in 0..3 {
        put(&backend, &[("n", json!(i))], &[]);
    }
    assert_eq!(reader.get("n").unwrap(), None);
    assert!(reader.get("big").unwrap().is_some());
    drop(reader);
    // Failed attempts space out the next ones (up to 256 commits apart).
    let mut last = 2;
    for i in 3..1000 {
        put(&backend, &[("n", json!(i))], &[]);
        last = i;
        if std::fs::metadata(&wal).unwrap().len() <= limit {
            break;
        }
    }
    let size = std::fs::metadata(&wal).unwrap().len();
    assert!(size <= limit, "WAL still {size} bytes");
    assert_eq!(read(&backend, "n"), Some(json!(last)));
}
