//! The PostgreSQL backend: one table shared by any number of nixweb processes.
//!
//! - A snapshot is a read-only transaction on a pooled connection, its snapshot taken at
//!   `begin` (by a first statement), not at the handler's first read.
//! - A commit ends it and, on the same connection, runs a transaction that re-reads the read
//!   set, compares, and writes. Correctness across processes rests on PostgreSQL alone, in
//!   one of two ways ([`CommitMode`]):
//!   - `Serialized` (default): commits take turns on an advisory lock of the table and
//!     validate with fresh reads (`READ COMMITTED` after the lock); snapshots are
//!     `REPEATABLE READ READ ONLY`. Never a spurious conflict and reads never wait, but one
//!     writing commit at a time.
//!   - `Serializable`: commits are `SERIALIZABLE` transactions running side by side; a
//!     serialization failure (SQLSTATE 40001) or deadlock (40P01) is a
//!     [`StateError::Conflict`], sometimes a spurious one (predicate locks are coarser than
//!     keys), which a retry clears. Snapshots are `SERIALIZABLE READ ONLY DEFERRABLE`, so
//!     that read-only requests are serializable too (they may wait at `begin` for commits
//!     in flight, and never fail). Plain `REPEATABLE READ` snapshots would not do here: a
//!     commit that read a key before another commit changed it may commit after it, and a
//!     snapshot taken in between shows a state no serial order passes through (PostgreSQL's
//!     "read-only transaction anomaly"; the test suite provokes it).
//! - Versions come from a sequence, one number per commit.
//! - Keys are `text COLLATE "C"`, which orders by bytes like SQLite; values are JSON in a
//!   `text` column (not `jsonb`, which would rewrite numbers and key order).
//!
//! The `postgres` crate runs a tokio runtime of its own inside every call: never call this
//! backend from a thread that is running async tasks (use `spawn_blocking`). Dropping a
//! backend or a snapshot is safe anywhere: what must block is moved off async threads.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};

use crate::keys::{check_key, KeyRange};
use crate::pool::{Pool, Pooled};
use crate::readset::{CurrentVersions, ReadSet};
use crate::writes::{final_operations, parse_value, split, Operations};
use crate::{Snapshot, StateBackend, StateError, Value, Writes};

/// Settings of a [`PostgresBackend`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The schema holding the tables, created if absent; None uses the connection's
    /// `search_path` (normally `public`). Tests give each test a schema of its own.
    pub schema: Option<String>,
    /// Most connections this backend opens at once (the server's `max_connections` is
    /// shared by every process).
    pub max_connections: usize,
    /// How long `begin` waits for a free connection when all are in use.
    pub pool_wait: Duration,
    /// How commits that write are kept serializable; see [`CommitMode`].
    pub commit_mode: CommitMode,
}

/// How commits that write are kept serializable on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitMode {
    /// Writing commits take turns on a lock of the table (a transaction-level advisory
    /// lock, so across processes too) and validate with fresh reads after taking it. Commit
    /// order is then the serial order, so read-only snapshots, which see a prefix of the
    /// commits, are serializable too, and never wait. No spurious conflicts either. Costs:
    /// one writing commit (and its disk sync) at a time per table. The default: in the
    /// benchmark, with readers beside writers, reads ran 2.5 to 3.6 times and writes 1.5 to
    /// 1.9 times as fast as with `Serializable` (with writers only, 0.6 to 1.1 times).
    #[default]
    Serialized,
    /// Writing commits run side by side in `SERIALIZABLE` transactions, and PostgreSQL
    /// aborts those that cannot be serialized (a Conflict, rarely a spurious one). The
    /// serial order may then differ from commit order, so a plain snapshot could see a state
    /// that no serial order passes through (the "read-only transaction anomaly"); snapshots
    /// are therefore `SERIALIZABLE READ ONLY DEFERRABLE`, which PostgreSQL starts only once
    /// it can guarantee them safe: `begin` may wait for serializable transactions in flight
    /// (ours, or any other application's on the same database). For write-heavy loads.
    Serializable,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: None,
            max_connections: 16,
            pool_wait: Duration::from_secs(30),
            commit_mode: CommitMode::default(),
        }
    }
}

/// Key-value state in a PostgreSQL database.
pub struct PostgresBackend {
    pool: Arc<Pool<PgConn>>,
    max_connections: usize,
}

/// The SQL of this backend, with its table and sequence names filled in.
struct Queries {
    table: String,
    sequence: String,
    /// Starts a snapshot, per [`CommitMode`].
    begin_snapshot: &'static str,
    /// Ends the snapshot and starts the write transaction, per [`CommitMode`].
    start_commit: String,
    /// Takes the table's commit lock ([`CommitMode::Serialized`] only).
    commit_lock: Option<String>,
}

/// A commit transaction is never idle for long unless its client is gone (a killed process
/// whose connection the server has not noticed, a network cut): the server then ends it, so
/// that its locks do not stop every other writer.
const COMMIT_TIMEOUT: &str = "SET LOCAL idle_in_transaction_session_timeout = '20s';";

/// A stable 64-bit FNV-1a hash, to derive a table's advisory lock from its name.
fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

impl Queries {
    fn new(schema: Option<&str>, mode: CommitMode) -> Self {
        let (table, sequence) = match schema {
            Some(schema) => (
                format!("{}.nixweb_state", quote_identifier(schema)),
                format!("{}.nixweb_state_version", quote_identifier(schema)),
            ),
            None => ("nixweb_state".into(), "nixweb_state_version".into()),
        };
        // The SELECT takes the snapshot now, in the same round trip.
        let begin_snapshot = match mode {
            CommitMode::Serialized => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1",
            CommitMode::Serializable => {
                "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE; SELECT 1"
            }
        };
        let (start_commit, commit_lock) = match mode {
            // READ COMMITTED: each validation read takes a fresh snapshot, so the one after
            // the lock sees every earlier commit (a SERIALIZABLE snapshot would date from
            // before the wait).
            CommitMode::Serialized => (
                format!("COMMIT; BEGIN ISOLATION LEVEL READ COMMITTED; {COMMIT_TIMEOUT}"),
                Some(format!(
                    "SELECT pg_advisory_xact_lock({})",
                    lock_key(&format!("nixweb-state commit {table}"))
                )),
            ),
            CommitMode::Serializable => (
                format!("COMMIT; BEGIN ISOLATION LEVEL SERIALIZABLE; {COMMIT_TIMEOUT}"),
                None,
            ),
        };
        Queries {
            table,
            sequence,
            begin_snapshot,
            start_commit,
            commit_lock,
        }
    }
}

/// A client with the statements it has prepared, so each query is parsed once per connection.
struct PgConn {
    client: OwnedClient,
    statements: HashMap<String, Statement>,
    queries: Arc<Queries>,
    /// A transaction may be open: set by BEGIN, cleared by a COMMIT or ROLLBACK that
    /// succeeded. A connection back in the pool with it set (its snapshot's rollback never
    /// ran) is rolled back before its next use.
    in_transaction: bool,
}

/// A client that may be dropped anywhere. Closing a client blocks on its runtime, which
/// panics on a thread that drives async tasks (the last reference to a backend or a pool may
/// go away there), so inside a runtime it is closed on a thread of its own.
struct OwnedClient(Option<Client>);

impl std::ops::Deref for OwnedClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.0.as_ref().expect("client present until drop")
    }
}

impl std::ops::DerefMut for OwnedClient {
    fn deref_mut(&mut self) -> &mut Client {
        self.0.as_mut().expect("client present until drop")
    }
}

impl Drop for OwnedClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn backend_error(context: &str, e: impl std::fmt::Display) -> StateError {
    StateError::Backend(format!("postgres: {context}: {e}"))
}

/// A client error with the server's message and SQLSTATE, or the underlying cause: the
/// error's own Display says only "db error" or "error connecting to server".
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// A conflict when PostgreSQL says the transaction could not be serialized.
fn classify(context: &str, e: postgres::Error) -> StateError {
    match e.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                // Two commits inserting one key at once: the loser's read set is stale.
                || *code == SqlState::UNIQUE_VIOLATION =>
        {
            StateError::Conflict
        }
        _ => backend_error(context, describe(&e)),
    }
}

/// An arbitrary fixed number: the advisory lock that serialises schema creation.
const SCHEMA_LOCK: i64 = 0x6e69_7877_6562_5354;

/// The URL parameter that chooses the [`CommitMode`]: `serializable` or `serialized`.
pub const COMMIT_MODE_PARAMETER: &str = "nixweb_commit_mode";

/// Takes [`COMMIT_MODE_PARAMETER`] out of `url` (the client refuses parameters it does not
/// know): the URL without it, and the mode it names if any.
fn take_commit_mode(url: &str) -> Result<(String, Option<CommitMode>), StateError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut mode = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((COMMIT_MODE_PARAMETER, value)) => {
                mode = Some(match value {
                    "serializable" => CommitMode::Serializable,
                    "serialized" => CommitMode::Serialized,
                    other => {
                        return Err(StateError::Backend(format!(
                            "postgres: {COMMIT_MODE_PARAMETER}={other:?} in the URL: \
                             expected serializable or serialized"
                        )))
                    }
                });
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, mode))
}

impl PostgresBackend {
    /// Connects to `url` (`postgres://user:pw@host[:port]/db`, also `postgresql://`) and
    /// creates the schema if it is absent. A `nixweb_commit_mode=serializable` (or
    /// `serialized`) parameter in the URL overrides `options.commit_mode`, so that a
    /// deployment can choose it in its database URL.
    pub fn open(url: &str, mut options: PostgresOptions) -> Result<Self, StateError> {
        let (url, mode) = take_commit_mode(url)?;
        if let Some(mode) = mode {
            options.commit_mode = mode;
        }
        let config: postgres::Config = url
            .parse()
            .map_err(|e| backend_error("parsing the URL", e))?;
        let queries = Arc::new(Queries::new(options.schema.as_deref(), options.commit_mode));

        let connect_queries = Arc::clone(&queries);
        let connect = move || -> Result<PgConn, StateError> {
            let client = config
                .connect(NoTls)
                .map_err(|e| backend_error("connecting", describe(&e)))?;
            Ok(PgConn {
                client: OwnedClient(Some(client)),
                statements: HashMap::new(),
                in_transaction: false,
                queries: Arc::clone(&connect_queries),
            })
        };
        let mut first = connect()?;
        create_schema(&mut first.client, &queries, options.schema.as_deref())?;

        let pool = Pool::new(
            options.max_connections,
            options.pool_wait,
            Box::new(connect),
        );
        drop(pool.give(first));
        Ok(PostgresBackend {
            pool,
            max_connections: options.max_connections,
        })
    }
}

fn create_schema(
    client: &mut Client,
    queries: &Queries,
    schema: Option<&str>,
) -> Result<(), StateError> {
    // A role allowed only to read and write (tables made by an administrator) may not run
    // CREATE, even with IF NOT EXISTS: look first.
    let exists = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
            &[&queries.table, &queries.sequence],
        )
        .map_err(|e| backend_error("looking for the schema", describe(&e)))?;
    if exists.get::<_, bool>(0) {
        return Ok(());
    }
    let create_schema = schema
        .map(|s| format!("CREATE SCHEMA IF NOT EXISTS {};", quote_identifier(s)))
        .unwrap_or_default();
    // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogs, so processes
    // starting together take turns.
    let sql = format!(
        "BEGIN;
         SELECT pg_advisory_xact_lock({SCHEMA_LOCK});
         {create_schema}
         CREATE TABLE IF NOT EXISTS {table} (
             key text COLLATE \"C\" PRIMARY KEY,
             value text NOT NULL,
             version bigint NOT NULL
         );
         CREATE SEQUENCE IF NOT EXISTS {sequence};
         COMMIT;",
        table = queries.table,
        sequence = queries.sequence,
    );
    client.batch_execute(&sql).map_err(|e| {
        let _ = client.batch_execute("ROLLBACK");
        backend_error("creating schema", describe(&e))
    })
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    fn range_sql(&self, columns: &str, range: &KeyRange) -> String {
        format!(
            "SELECT {columns} FROM {} WHERE {} ORDER BY key LIMIT ${}",
            self.queries.table,
            range.sql_where(),
            range.params().len() + 1
        )
    }

    fn range_query(
        &mut self,
        columns: &str,
        range: &KeyRange,
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let sql = self.range_sql(columns, range);
        let keys = range.params();
        let mut params: Vec<&(dyn ToSql + Sync)> =
            keys.iter().map(|k| k as &(dyn ToSql + Sync)).collect();
        params.push(&range.limit);
        self.query(&sql, &params)
    }
}

impl StateBackend for PostgresBackend {
    fn begin(&self) -> Result<Box<dyn Snapshot>, StateError> {
        // Idle connections may have died (server restart, idle timeout, terminated
        // sessions): each is dropped on failure, and a fresh connection is the last try.
        let mut last_error = None;
        for _ in 0..=self.max_connections {
            let mut conn = self.pool.get()?;
            let begin = if conn.in_transaction {
                format!("ROLLBACK; {}", conn.queries.begin_snapshot)
            } else {
                conn.queries.begin_snapshot.to_owned()
            };
            match conn.client.batch_execute(&begin) {
                Ok(()) => {
                    conn.in_transaction = true;
                    return Ok(Box::new(PostgresSnapshot {
                        conn: Some(conn),
                        reads: ReadSet::default(),
                    }));
                }
                Err(e) => {
                    last_error = Some(backend_error("starting snapshot", describe(&e)));
                    conn.discard();
                }
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}

struct PostgresSnapshot {
    /// None once committed.
    conn: Option<Pooled<PgConn>>,
    reads: ReadSet,
}

impl PostgresSnapshot {
    fn conn(&mut self) -> Result<&mut PgConn, StateError> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StateError::Backend("postgres: snapshot already committed".into()))
    }
}

impl Snapshot for PostgresSnapshot {
    fn get(&mut self, key: &str) -> Result<Option<Value>, StateError> {
        check_key(key)?;
        let conn = self.conn()?;
        let sql = format!(
            "SELECT value, version FROM {} WHERE key = $1",
            conn.queries.table
        );
        let rows = conn
            .query(&sql, &[&key])
            .map_err(|e| backend_error("get", describe(&e)))?;
        let row = rows.first().map(|row| {
            let json: String = row.get(0);
            let version: i64 = row.get(1);
            (json, version)
        });
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
        let rows = self
            .conn()?
            .range_query("key, value, version", &range)
            .map_err(|e| backend_error("list", describe(&e)))?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut seen = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.get(0);
            let json: String = row.get(1);
            let version: i64 = row.get(2);
            entries.push((key.clone(), parse_value(&key, &json)?));
            seen.push((key, version));
        }
        self.reads.record_range(range, seen);
        Ok(entries)
    }

    fn commit(mut self: Box<Self>, writes: Writes) -> Result<(), StateError> {
        let operations = final_operations(writes)?;
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| StateError::Backend("postgres: snapshot already committed".into()))?;
        let start = if operations.is_empty() {
            "COMMIT".to_owned()
        } else {
            conn.queries.start_commit.clone()
        };
        if let Err(e) = conn.client.batch_execute(&start) {
            return Err(abandon(
                conn,
                backend_error("starting commit", describe(&e)),
            ));
        }
        if operations.is_empty() {
            conn.in_transaction = false;
            return Ok(());
        }

        match validate_and_write(&mut conn, &self.reads, &operations) {
            Ok(true) => match conn.client.batch_execute("COMMIT") {
                Ok(()) => {
                    conn.in_transaction = false;
                    Ok(())
                }
                Err(e) => {
                    // A COMMIT that fails ends the transaction (as a rollback) by itself.
                    if conn.client.is_closed() {
                        conn.discard();
                    } else {
                        conn.in_transaction = false;
                    }
                    Err(classify("committing", e))
                }
            },
            Ok(false) => Err(abandon(conn, StateError::Conflict)),
            Err(e) => Err(abandon(conn, e)),
        }
    }
}

/// Rolls back whatever transaction is open, keeps the connection only if that worked, and
/// passes `error` on.
fn abandon(conn: Pooled<PgConn>, error: StateError) -> StateError {
    end_transaction(conn);
    error
}

/// Inside the write transaction: false when a read changed, else writes and returns true.
fn validate_and_write(
    conn: &mut PgConn,
    reads: &ReadSet,
    operations: &Operations,
) -> Result<bool, StateError> {
    if !reads.still_valid(&mut WriteTxn(conn))? {
        return Ok(false);
    }
    if let Some(lock) = conn.queries.commit_lock.clone() {
        // Validated once without the lock, so that a commit already doomed does not queue
        // for it (hot keys); validated again with it, which is what counts.
        conn.client
            .batch_execute(&lock)
            .map_err(|e| classify("taking the commit lock", e))?;
        if !reads.still_valid(&mut WriteTxn(conn))? {
            return Ok(false);
        }
    }
    let (deletes, sets) = split(operations);
    let table = conn.queries.table.clone();
    if !deletes.is_empty() {
        let sql = format!("DELETE FROM {table} WHERE key = ANY($1)");
        conn.query(&sql, &[&deletes])
            .map_err(|e| classify("deleting", e))?;
    }
    if !sets.is_empty() {
        let sequence = conn.queries.sequence.replace('\'', "''");
        // One version per commit, however many rows it writes.
        let sql = format!(
            "WITH commit AS (SELECT nextval('{sequence}') AS version)
             INSERT INTO {table} (key, value, version)
             SELECT w.key, w.value, commit.version
             FROM unnest($1::text[], $2::text[]) AS w(key, value), commit
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version"
        );
        let keys: Vec<&str> = sets.iter().map(|(k, _)| *k).collect();
        let values: Vec<&str> = sets.iter().map(|(_, v)| *v).collect();
        conn.query(&sql, &[&keys, &values])
            .map_err(|e| classify("writing", e))?;
    }
    Ok(true)
}

/// The current state as the serializable transaction sees it.
struct WriteTxn<'a>(&'a mut PgConn);

impl CurrentVersions for WriteTxn<'_> {
    fn key_versions(&mut self, keys: &[&str]) -> Result<BTreeMap<String, i64>, StateError> {
        let sql = format!(
            "SELECT key, version FROM {} WHERE key = ANY($1)",
            self.0.queries.table
        );
        let rows = self
            .0
            .query(&sql, &[&keys])
            .map_err(|e| classify("validating", e))?;
        Ok(rows
            .iter()
            .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
            .collect())
    }

    fn range_versions(&mut self, range: &KeyRange) -> Result<Vec<(String, i64)>, StateError> {
        let rows = self
            .0
            .range_query("key, version", range)
            .map_err(|e| classify("validating", e))?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }
}

impl Drop for PostgresSnapshot {
    fn drop(&mut self) {
        // An abandoned snapshot: end its transaction before the connection is reused. That
        // blocks on the client's runtime, which panics on a thread running async tasks (a
        // server dropping an unfinished request), so inside a runtime it is done on the
        // runtime's blocking pool. Should that never run (the runtime shutting down), the
        // connection returns to the pool marked `in_transaction` and is rolled back then.
        if let Some(conn) = self.conn.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn_blocking(move || end_transaction(conn))),
                Err(_) => end_transaction(conn),
            }
        }
    }
}

/// Rolls back whatever transaction is open; keeps the connection only if that worked.
fn end_transaction(mut conn: Pooled<PgConn>) {
    if conn.client.is_closed() || conn.client.batch_execute("ROLLBACK").is_err() {
        conn.discard();
    } else {
        conn.in_transaction = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_mode_comes_out_of_the_url() {
        let (url, mode) = take_commit_mode("postgres://u:p@h/db").unwrap();
        assert_eq!((url.as_str(), mode), ("postgres://u:p@h/db", None));
        let (url, mode) =
            take_commit_mode("postgres://u:p@h/db?nixweb_commit_mode=serialized").unwrap();
        assert_eq!(
            (url.as_str(), mode),
            ("postgres://u:p@h/db", Some(CommitMode::Serialized))
        );
        let (url, mode) = take_commit_mode(
            "postgres://h/db?application_name=a&nixweb_commit_mode=serializable&sslmode=disable",
        )
        .unwrap();
        assert_eq!(
            (url.as_str(), mode),
            (
                "postgres://h/db?application_name=a&sslmode=disable",
                Some(CommitMode::Serializable)
            )
        );
        assert!(take_commit_mode("postgres://h/db?nixweb_commit_mode=fast").is_err());
    }
}
