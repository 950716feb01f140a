//! nixweb-state: transactional key-value storage for Nix handlers.
//!
//! It is for keeping an app's data between requests. A handler reads from a [`Snapshot`]
//! (`get`, `list`) and hands back the [`Writes`] it wants; [`Snapshot::commit`] applies them
//! atomically and durably only if everything the snapshot read is still the same, and answers
//! [`StateError::Conflict`] otherwise, so that the caller re-runs the handler on a fresh
//! snapshot. Every request is thereby a serializable transaction (optimistic concurrency
//! control with backward validation). It is not a query engine, a cache or an ORM: keys are
//! strings, values are JSON, and the only queries are a key and a key-prefix range.
//!
//! # Backends
//! [`open`] picks one from a URL: `sqlite:/path/app.db` or a plain path for SQLite
//! ([`SqliteBackend`]), `postgres://…` or `postgresql://…` for PostgreSQL
//! ([`PostgresBackend`]). Both create their schema when it is absent.
//!
//! # How a transaction works
//! - Every row carries a version: the number of the commit that wrote it, from a sequence that
//!   never repeats. A key deleted and created again thus has a new version, and a snapshot
//!   that read the old row sees the change.
//! - A snapshot records its reads: each key with the version it saw (or "absent"), each
//!   `list` with its parameters and the keys and versions it returned.
//! - `commit` opens the backend's write transaction, re-runs every recorded read and
//!   compares: any difference (changed, deleted or created key; a row entering or leaving a
//!   listed range, which covers phantoms) is a conflict and nothing is written. Otherwise the
//!   writes are applied with one fresh version in the same transaction.
//! - A commit without writes succeeds at once: its reads came from one snapshot that shows a
//!   state of the serial order, so a read-only request is serializable as of that snapshot
//!   and never conflicts.
//! - Within one [`Writes`], deletes apply before sets (a key in both ends up set), and for a
//!   key set twice the last value wins.
//!
//! # Example
//! The retry loop that nixweb runs around a handler, here an increment ([`transact`] is that
//! loop; a caller may also drive [`StateBackend::begin`] and [`Snapshot::commit`] itself):
//! ```
//! use nixweb_state::{transact, StateError, Writes};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = nixweb_state::open(&format!("sqlite:{}", dir.path().join("app.db").display()))?;
//! let new_count = transact(&*store, 10, |snapshot| {
//!     let count = snapshot.get("visits")?.and_then(|v| v.as_i64()).unwrap_or(0);
//!     let writes = Writes { set: vec![("visits".into(), json!(count + 1))], delete: vec![] };
//!     Ok::<_, StateError>((count + 1, writes))
//! })?;
//! assert_eq!(new_count, 1);
//! let mut snapshot = store.begin()?;
//! assert_eq!(snapshot.list("", None, 10)?, vec![("visits".to_string(), json!(1))]);
//! # Ok::<(), StateError>(())
//! ```
//!
//! # Keys and values
//! Keys are UTF-8 strings without NUL characters, ordered by their bytes (the UTF-8 byte
//! order, which is also code-point order). `list` takes a prefix and turns it into an exact
//! key range, so `%`, `_` and any other character in a prefix mean themselves. Values are
//! [`serde_json::Value`]s stored as JSON text, so integers stay integers and floats stay
//! floats; object key order is kept.
//!
//! # Guarantees and limits
//! - Serializable: every request, read-only ones included, behaves as if requests ran one
//!   at a time, in commit order (in some serial order with [`CommitMode::Serializable`]); a
//!   request that read data changed by an earlier commit is refused
//!   ([`StateError::Conflict`]) and re-run by the caller.
//! - Durable: SQLite syncs its WAL on every commit (`synchronous=FULL`); PostgreSQL commits
//!   with its own durability settings (synchronous by default).
//! - Several processes may share one store (one SQLite file, one PostgreSQL database):
//!   correctness rests on the database's locking and isolation, never on in-process locks.
//! - Conflicts are never spurious on SQLite and on PostgreSQL's default
//!   [`CommitMode::Serialized`]; with [`CommitMode::Serializable`] they can be, rarely
//!   (serializable isolation locks index pages, not only keys; about one in 1,000 commits
//!   on distinct keys in the benchmark). A retry clears them.
//! - Validation re-reads what the snapshot read, so a commit costs about as much as the
//!   reads it validates: a request that lists thousands of rows pays for them twice.
//! - If the connection fails during the final step of a commit, the answer is
//!   [`StateError::Backend`] and whether the writes landed is unknown.
//! - An open snapshot holds a pooled connection until it is committed or dropped, so the
//!   pool size bounds the snapshots open at once per store (SQLite 64, PostgreSQL 16 by
//!   default; see [`SqliteOptions`], [`PostgresOptions`]); `begin` waits up to 30 s for one.
//!
//! # Tests
//! `cargo test -p nixweb-state` runs every behaviour on both backends. The PostgreSQL tests
//! need `export NIXWEB_TEST_POSTGRES="$(bash scripts/postgres-test-setup)"` (they fail
//! without it, saying so) or `NIXWEB_SKIP_POSTGRES=1` to skip them. `cargo run -p
//! nixweb-state --release --example bench` measures both backends.
//!
//! # Threads and async code
//! The API is synchronous and blocking: from async code call it through
//! `tokio::task::spawn_blocking`. The PostgreSQL client runs its own small tokio runtime
//! inside every call, which panics on a thread that drives async tasks: never call
//! `open`, `begin`, `get`, `list` or `commit` of a PostgreSQL store there (blocking-pool
//! threads are fine). Dropping a store or a snapshot is safe on any thread.

mod keys;
mod pool;
mod postgres;
mod readset;
mod retry;
mod sqlite;
mod writes;

use std::sync::Arc;

pub use crate::postgres::{CommitMode, PostgresBackend, PostgresOptions, COMMIT_MODE_PARAMETER};
pub use crate::retry::transact;
pub use crate::sqlite::{SqliteBackend, SqliteOptions};

/// Values are JSON (the Nix side converts Nix values to and from JSON).
pub type Value = serde_json::Value;

/// Why an operation on a store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Something this attempt read has changed since its snapshot: re-run the handler.
    #[error("conflict: data read by this transaction changed before it could commit")]
    Conflict,
    /// The backend failed (I/O, connection lost, invalid key…); message for the log.
    #[error("state backend error: {0}")]
    Backend(String),
}

/// The writes a handler returns with its response, applied together by [`Snapshot::commit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Writes {
    /// Keys to create or replace, with their new values.
    pub set: Vec<(String, Value)>,
    /// Keys to remove; removing an absent key is not an error.
    pub delete: Vec<String>,
}

impl Writes {
    /// True when committing these writes would change nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty()
    }
}

/// A store that hands out snapshots.
pub trait StateBackend: Send + Sync {
    /// A consistent read snapshot for one attempt of one request.
    fn begin(&self) -> Result<Box<dyn Snapshot>, StateError>;
    /// "sqlite" or "postgres", for logs.
    fn kind(&self) -> &'static str;
}

/// One attempt of one request: reads from a consistent snapshot, then one commit.
///
/// Dropping a snapshot without committing abandons it (nothing is written).
pub trait Snapshot: Send {
    /// The value at `key` in this snapshot, None when absent. Recorded in the read set.
    fn get(&mut self, key: &str) -> Result<Option<Value>, StateError>;
    /// Up to `limit` entries whose key starts with `prefix`, in key order (byte order of the
    /// UTF-8 key), starting after `after` when given (for paging). Recorded in the read set
    /// as a range, so that an insert into the range by another request is a conflict (no
    /// phantoms).
    fn list(
        &mut self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Value)>, StateError>;
    /// Applies `writes` atomically and durably iff every read of this snapshot (keys and
    /// ranges) still gives the same result; Err(Conflict) otherwise, with nothing written.
    /// A snapshot with no writes commits trivially (read-only requests never conflict).
    ///
    /// An `Err(Backend)` from a lost connection during the final commit step leaves it
    /// unknown whether the writes were applied (as with any database).
    fn commit(self: Box<Self>, writes: Writes) -> Result<(), StateError>;
}

/// Opens a store from a URL: `sqlite:/path/to/app.db` (or a plain path) for SQLite,
/// `postgres://user:pw@host/db` or `postgresql://…` for PostgreSQL, with default options.
///
/// Several apps can share one PostgreSQL database with a schema each, chosen in the URL:
/// `postgres://user:pw@host/db?options=-c%20search_path%3Dmyapp` (the schema must exist;
/// [`PostgresOptions::schema`] creates it instead). `nixweb_commit_mode=serializable` in
/// the query chooses [`CommitMode::Serializable`].
pub fn open(url: &str) -> Result<Arc<dyn StateBackend>, StateError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresBackend::open(
            url,
            PostgresOptions::default(),
        )?))
    } else {
        let path = url.strip_prefix("sqlite:").unwrap_or(url);
        // `sqlite://path` is a common spelling too: keep the path after the slashes' host part.
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(StateError::Backend(format!(
                "no database path in state URL {url:?}"
            )));
        }
        // Every pooled connection would get a database of its own.
        if path == ":memory:" {
            return Err(StateError::Backend(
                "in-memory SQLite cannot be shared by snapshots: give a file path".into(),
            ));
        }
        Ok(Arc::new(SqliteBackend::open(
            std::path::Path::new(path),
            SqliteOptions::default(),
        )?))
    }
}
