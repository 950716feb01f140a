//! The SQLite backend: one database file in WAL mode, shared by any number of processes.
//!
//! - A snapshot is a deferred read transaction on a pooled connection, started with a read
//!   so that it holds its WAL snapshot from `begin` on; WAL lets it run beside writers.
//! - A commit ends that read transaction and hands its read set and writes to the backend's
//!   writer thread ([`writer`]), which takes the write lock (`BEGIN IMMEDIATE`, so one writer
//!   at a time across processes), validates the read set against the newest state, writes,
//!   and commits with `synchronous=FULL`: a commit that returned Ok is in the WAL on disk and
//!   survives SIGKILL and power loss. Commits waiting together share one transaction and one
//!   disk sync (group commit), each in a savepoint of its own.
//! - Versions come from a one-row table holding the last commit number.
//! - The WAL is kept in bounds: when its file outgrows [`SqliteOptions::wal_size_limit`], the
//!   writer waits briefly for the snapshots still reading it and starts it over; SQLite
//!   alone would never do that while snapshots keep overlapping.

mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params_from_iter, Connection, OptionalExtension};

use self::writer::Writer;

use crate::keys::{check_key, KeyRange};
use crate::pool::{Pool, Pooled};
use crate::readset::ReadSet;
use crate::writes::{final_operations, parse_value};
use crate::{Snapshot, StateBackend, StateError, Value, Writes};

/// Settings of a [`SqliteBackend`]; the defaults suit a web server.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Most connections open at once, hence most snapshots open at once.
    pub max_connections: usize,
    /// How long a writer waits for another process's write lock before failing.
    pub busy_timeout: Duration,
    /// How long `begin` waits for a free connection when all are in use.
    pub pool_wait: Duration,
    /// Size of the WAL file above which the writer makes it start over, waiting for the
    /// snapshots that still read it. Without this a server whose snapshots always overlap
    /// would never let SQLite reuse the WAL, and the file would grow without end.
    pub wal_size_limit: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            max_connections: 64,
            busy_timeout: Duration::from_secs(30),
            pool_wait: Duration::from_secs(30),
            wal_size_limit: 64 << 20,
        }
    }
}

/// Key-value state in one SQLite database file.
pub struct SqliteBackend {
    path: PathBuf,
    pool: Arc<Pool<Connection>>,
    /// The thread that applies this backend's commits, in groups.
    writer: Writer,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS nixweb_state (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS nixweb_state_meta (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        last_version INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO nixweb_state_meta (id, last_version) VALUES (0, 0);
";

fn backend_error(context: &str, e: impl std::fmt::Display) -> StateError {
    StateError::Backend(format!("sqlite: {context}: {e}"))
}

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path` and its schema.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<Self, StateError> {
        let path = path.to_path_buf();
        let connect_options = options.clone();
        let connect = move |path: &Path| connect(path, &connect_options);
        let first = connect(&path)?;
        first
            .execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
            .map_err(|e| backend_error("creating schema", e))?;

        let connect_path = path.clone();
        let writer_connection = connect(&path)?;
        let pool = Pool::new(
            options.max_connections,
            options.pool_wait,
            Box::new(move || connect(&connect_path)),
        );
        drop(pool.give(first));
        Ok(SqliteBackend {
            writer: Writer::start(writer_connection, &path, &options)?,
            path,
            pool,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many write transactions this backend has run, and how many commits with writes
    /// they held (group commit puts several in one): (transactions, commits).
    pub fn write_stats(&self) -> (u64, u64) {
        self.writer.stats()
    }
}

fn connect(path: &Path, options: &SqliteOptions) -> Result<Connection, StateError> {
    let conn = Connection::open(path)
        .map_err(|e| backend_error(&format!("opening {}", path.display()), e))?;
    conn.busy_timeout(options.busy_timeout)
        .map_err(|e| backend_error("setting busy timeout", e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| backend_error("enabling WAL", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(backend_error(
            "enabling WAL",
            format!("journal mode stayed {mode:?}"),
        ));
    }
    // journal_size_limit: when the WAL starts over, its file is cut back to this size.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = {};",
        options.wal_size_limit
    ))
    .map_err(|e| backend_error("setting pragmas", e))?;
    Ok(conn)
}

impl StateBackend for SqliteBackend {
    fn begin(&self) -> Result<Box<dyn Snapshot>, StateError> {
        let conn = self.pool.get()?;
        // The read pins the WAL snapshot now rather than at the handler's first read.
        let started = conn.execute_batch("BEGIN DEFERRED").and_then(|()| {
            conn.query_row("SELECT last_version FROM nixweb_state_meta", [], |_| Ok(()))
        });
        if let Err(e) = started {
            conn.discard();
            return Err(backend_error("starting snapshot", e));
        }
        Ok(Box::new(SqliteSnapshot {
            conn: Some(conn),
            reads: ReadSet::default(),
            writer: self.writer.clone(),
        }))
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}

struct SqliteSnapshot {
    /// None once committed.
    conn: Option<Pooled<Connection>>,
    reads: ReadSet,
    writer: Writer,
}

impl SqliteSnapshot {
    fn conn(&self) -> Result<&Connection, StateError> {
        self.conn
            .as_deref()
            .ok_or_else(|| StateError::Backend("sqlite: snapshot already committed".into()))
    }
}

/// The SQL of a `list` over `range`, selecting `columns`.
fn range_sql(columns: &str, range: &KeyRange) -> String {
    let params = range.params().len();
    format!(
        "SELECT {columns} FROM nixweb_state WHERE {} ORDER BY key LIMIT ${}",
        range.sql_where(),
        params + 1
    )
}

fn range_params(range: &KeyRange) -> Vec<rusqlite::types::Value> {
    let mut params: Vec<rusqlite::types::Value> = range
        .params()
        .into_iter()
        .map(|p| rusqlite::types::Value::Text(p.to_owned()))
        .collect();
    params.push(rusqlite::types::Value::Integer(range.limit));
    params
}

impl Snapshot for SqliteSnapshot {
    fn get(&mut self, key: &str) -> Result<Option<Value>, StateError> {
        check_key(key)?;
        let row: Option<(String, i64)> = self
            .conn()?
            .prepare_cached("SELECT value, version FROM nixweb_state WHERE key = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(|e| backend_error("get", e))?;
        self.reads.record_key(key, row.as_ref().map(|(_, v)| *v));
        row.map(|(json, _)| parse_value(key, &json)).transpose()
    }

    fn list(
        &mut self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Value)>, StateError> {
        let range = KeyRange::new(prefix, after, limit)?;
        let rows: Vec<(String, String, i64)> = self
            .conn()?
            .prepare_cached(&range_sql("key, value, version", &range))
            .and_then(|mut stmt| {
                stmt.query_map(params_from_iter(range_params(&range)), |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect()
            })
            .map_err(|e| backend_error("list", e))?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut seen = Vec::with_capacity(rows.len());
        for (key, json, version) in rows {
            entries.push((key.clone(), parse_value(&key, &json)?));
            seen.push((key, version));
        }
        self.reads.record_range(range, seen);
        Ok(entries)
    }

    fn commit(mut self: Box<Self>, writes: Writes) -> Result<(), StateError> {
        let operations = final_operations(writes)?;
        let conn = self
            .conn
            .take()
            .ok_or_else(|| StateError::Backend("sqlite: snapshot already committed".into()))?;
        // The read connection is done: back to the pool before the (longer) write.
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            conn.discard();
            return Err(backend_error("ending snapshot", e));
        }
        drop(conn);
        if operations.is_empty() {
            return Ok(());
        }
        self.writer
            .commit(std::mem::take(&mut self.reads), operations)
    }
}

impl Drop for SqliteSnapshot {
    fn drop(&mut self) {
        // An abandoned snapshot: end its read transaction before the connection is reused.
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
                conn.discard();
            }
        }
    }
}
