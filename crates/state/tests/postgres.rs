//! The shared backend suite on PostgreSQL, plus what only PostgreSQL has: several backends
//! (as several servers) on one database, and use from async code through spawn_blocking.
//!
//! Needs a server: `export NIXWEB_TEST_POSTGRES="$(bash scripts/postgres-test-setup)"`, or
//! `NIXWEB_SKIP_POSTGRES=1` to skip. Each test works in a schema of its own.

mod common;

use std::sync::Arc;

use common::{increment_concurrently, put, read, Backend};
use nixweb_state::{open, CommitMode, PostgresBackend, PostgresOptions, StateError};
use serde_json::json;

fn postgres_url() -> Option<String> {
    match std::env::var("NIXWEB_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("NIXWEB_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("PostgreSQL test skipped (NIXWEB_SKIP_POSTGRES=1)");
            None
        }
        _ => panic!(
            "NIXWEB_TEST_POSTGRES is not set: run \
             `export NIXWEB_TEST_POSTGRES=\"$(bash scripts/postgres-test-setup)\"` \
             (or set NIXWEB_SKIP_POSTGRES=1 to skip the PostgreSQL tests)"
        ),
    }
}

/// A tag of this checkout, so that test runs of several checkouts on one database (parallel
/// work trees, one PostgreSQL) never drop or lock each other's schemas.
fn checkout_tag() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_MANIFEST_DIR").hash(&mut hasher);
    format!("{:08x}", hasher.finish() as u32)
}

/// A schema name of the test's own, dropped with everything in it.
fn fresh_schema(url: &str, name: &str) -> String {
    let mut schema = format!("nixweb_state_test_{}_{name}", checkout_tag());
    schema.truncate(63);
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
    schema
}

fn open_in(url: &str, schema: &str) -> Backend {
    open_with(url, schema, CommitMode::default())
}

fn open_with(url: &str, schema: &str, commit_mode: CommitMode) -> Backend {
    let options = PostgresOptions {
        schema: Some(schema.to_owned()),
        commit_mode,
        ..PostgresOptions::default()
    };
    Arc::new(PostgresBackend::open(url, options).unwrap())
}

fn fresh(name: &str) -> Option<Backend> {
    let url = postgres_url()?;
    let schema = fresh_schema(&url, name);
    Some(open_in(&url, &schema))
}

backend_suite!(fresh);

/// The same behaviour with commits in parallel SERIALIZABLE transactions.
mod serializable_commits {
    use super::*;

    fn fresh(name: &str) -> Option<Backend> {
        let url = postgres_url()?;
        let schema = fresh_schema(&url, &format!("ssi_{name}"));
        Some(open_with(&url, &schema, CommitMode::Serializable))
    }

    backend_suite!(fresh);

    #[test]
    fn two_backends_increment_and_append_exactly() {
        let Some(url) = postgres_url() else { return };
        let schema = fresh_schema(&url, "ssi_two_backends");
        let backends = [
            open_with(&url, &schema, CommitMode::Serializable),
            open_with(&url, &schema, CommitMode::Serializable),
        ];
        increment_concurrently(&backends, "counter", 8, 200);
        assert_eq!(read(&backends[0], "counter"), Some(json!(200)));
        crate::common::append_concurrently(&backends, "items/", 8, 100);
        crate::common::check_appends(&backends[1], "items/", 100);
    }
}

#[test]
fn two_backends_increment_exactly() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema(&url, "two_backends");
    // Opened separately, as two nixweb servers on one database would.
    let backends = [open_in(&url, &schema), open_in(&url, &schema)];
    let conflicts = increment_concurrently(&backends, "counter", 8, 200);
    assert_eq!(read(&backends[0], "counter"), Some(json!(200)));
    assert_eq!(read(&backends[1], "counter"), Some(json!(200)));
    eprintln!("postgres, two backends: 200 increments, {conflicts} conflicts");
}

#[test]
fn two_backends_append_without_phantoms() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema(&url, "two_backends_append");
    let backends = [open_in(&url, &schema), open_in(&url, &schema)];
    let conflicts = common::append_concurrently(&backends, "items/", 8, 100);
    common::check_appends(&backends[0], "items/", 100);
    eprintln!("postgres, two backends: 100 appends, {conflicts} conflicts");
}

#[test]
fn open_by_url_uses_the_default_schema() {
    let Some(url) = postgres_url() else { return };
    for scheme_url in [url.clone(), url.replacen("postgres://", "postgresql://", 1)] {
        let backend = open(&scheme_url).unwrap();
        assert_eq!(backend.kind(), "postgres");
        // The default table is shared: this test keeps to keys of its own.
        put(&backend, &[("open_by_url/k", json!(1))], &[]);
        assert_eq!(read(&backend, "open_by_url/k"), Some(json!(1)));
        put(&backend, &[], &["open_by_url/k"]);
    }
}

#[test]
fn connection_failures_are_backend_errors() {
    // Runs without a server too: nothing listens on port 1.
    let refused = open("postgres://nixweb:nixweb@127.0.0.1:1/nixweb_test");
    match refused {
        // The message carries the cause, not just "error connecting to server".
        Err(StateError::Backend(message)) => assert!(message.contains("refused"), "{message}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("connected to port 1"),
    }
    let unparsable = open("postgres://[bad");
    assert!(matches!(unparsable, Err(StateError::Backend(_))));
}

#[test]
fn works_from_spawn_blocking_and_drops_inside_async_code() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema(&url, "async_use");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let backend = tokio::task::spawn_blocking(move || open_in(&url, &schema))
            .await
            .unwrap();
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let backend = backend.clone();
                tokio::task::spawn_blocking(move || {
                    put(&backend, &[(&format!("k/{i}"), json!(i))], &[]);
                    backend.begin().unwrap().list("k/", None, 10).unwrap().len()
                })
            })
            .collect();
        for handle in handles {
            assert!(handle.await.unwrap() >= 1);
        }
        // A snapshot abandoned on an async worker thread (a request that failed mid-way):
        // must not panic, and its connection must come back clean.
        let abandoned = {
            let backend = backend.clone();
            tokio::task::spawn_blocking(move || {
                let mut snapshot = backend.begin().unwrap();
                snapshot.get("k/0").unwrap();
                snapshot
            })
            .await
            .unwrap()
        };
        drop(abandoned);
        let backend_for_write = backend.clone();
        tokio::task::spawn_blocking(move || {
            for _ in 0..20 {
                put(&backend_for_write, &[("k/0", json!("new"))], &[]);
                assert_eq!(read(&backend_for_write, "k/0"), Some(json!("new")));
            }
        })
        .await
        .unwrap();
        // The last reference goes away on an async worker thread: must not panic.
        drop(backend);
    });
}

#[test]
fn recovers_when_pooled_connections_are_terminated() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema(&url, "terminated");
    // A name of its own, so that only this test's connections are terminated.
    let app_name = format!("nixweb_state_test_terminated_{}", checkout_tag());
    let separator = if url.contains('?') { '&' } else { '?' };
    let backend = open_in(
        &format!("{url}{separator}application_name={app_name}"),
        &schema,
    );
    put(&backend, &[("k", json!(1))], &[]);
    // Several idle connections in the pool.
    let open_now: Vec<_> = (0..3).map(|_| backend.begin().unwrap()).collect();
    drop(open_now);

    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let terminated = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&app_name],
        )
        .unwrap();
    assert!(terminated.len() >= 3, "terminated {}", terminated.len());

    // Every pooled connection is dead; the next transactions still work.
    for i in 2..6 {
        put(&backend, &[("k", json!(i))], &[]);
        assert_eq!(read(&backend, "k"), Some(json!(i)));
    }
}

#[test]
fn a_role_without_create_rights_uses_existing_tables() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema(&url, "no_create");
    // Tables made by the owner…
    put(
        &open_in(&url, &schema),
        &[("k", json!("made by owner"))],
        &[],
    );
    // …used by a role that may only read and write them (made by postgres-test-setup).
    let role = "nixweb_limited";
    let mut owner = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let role_exists = !owner
        .query("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
        .unwrap()
        .is_empty();
    assert!(
        role_exists,
        "role {role} is missing: run scripts/postgres-test-setup again"
    );
    owner
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA \"{schema}\" TO {role};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"{schema}\" TO {role};
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA \"{schema}\" TO {role};"
        ))
        .unwrap();
    let config: postgres::Config = url.parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap();
    let limited = open_in(
        &format!("postgres://{role}:{role}@127.0.0.1:{port}/{dbname}"),
        &schema,
    );
    assert_eq!(read(&limited, "k"), Some(json!("made by owner")));
    put(
        &limited,
        &[("k", json!("written by the limited role"))],
        &[],
    );
    assert_eq!(
        read(&limited, "k"),
        Some(json!("written by the limited role"))
    );
}

#[test]
fn a_url_can_choose_the_schema_through_search_path() {
    let Some(url) = postgres_url() else { return };
    let schema = fresh_schema(&url, "search_path");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let backend = open(&format!(
        "{url}{separator}options=-c%20search_path%3D{schema}"
    ))
    .unwrap();
    put(&backend, &[("k", json!("in its schema"))], &[]);
    let rows = admin
        .query(
            &format!("SELECT value FROM \"{schema}\".nixweb_state WHERE key = 'k'"),
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "\"in its schema\"");
}

#[test]
fn the_url_can_choose_the_commit_mode() {
    let Some(url) = postgres_url() else { return };
    let separator = if url.contains('?') { '&' } else { '?' };
    let backend = open(&format!("{url}{separator}nixweb_commit_mode=serializable")).unwrap();
    // The default table is shared: this test keeps to keys of its own.
    put(&backend, &[("url_commit_mode/k", json!(1))], &[]);
    assert_eq!(read(&backend, "url_commit_mode/k"), Some(json!(1)));
    put(&backend, &[], &["url_commit_mode/k"]);
    assert!(open(&format!("{url}{separator}nixweb_commit_mode=fast")).is_err());
}
