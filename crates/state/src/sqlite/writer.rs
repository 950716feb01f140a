//! Group commit for SQLite: one thread per backend applies every commit of this process.
//!
//! With `synchronous=FULL` each SQLite transaction costs a disk sync, which bounds commits
//! per second. The writer takes all commits waiting in its queue (those that arrived while
//! the previous group was being synced), applies each one in a savepoint of a single write
//! transaction (validation first, as alone: a later commit of the group sees the earlier
//! ones' writes, so conflicts within a group are found too), and syncs once. Every commit of
//! the group is answered only after that sync, so Ok still means durable. A commit that
//! conflicts or fails is rolled back to its savepoint without touching the others.
//!
//! Across processes each one's writer takes SQLite's write lock (`BEGIN IMMEDIATE`) in turn.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::{backend_error, range_params, range_sql, SqliteOptions};
use crate::keys::KeyRange;
use crate::readset::{CurrentVersions, ReadSet};
use crate::writes::{split, Operations};
use crate::StateError;

/// Most commits applied in one write transaction.
const MAX_GROUP: usize = 128;

/// A handle on the writer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    stats: Arc<GroupStats>,
}

/// Counts of the writer's work, for benchmarks and logs.
#[derive(Default)]
pub(super) struct GroupStats {
    /// Write transactions (groups) run.
    pub groups: AtomicU64,
    /// Commits handed to the writer (each group holds one or more).
    pub commits: AtomicU64,
}

struct Job {
    reads: ReadSet,
    operations: Operations,
    reply: mpsc::SyncSender<Result<(), StateError>>,
}

impl Writer {
    /// Starts the writer thread on `conn`, a connection of its own.
    pub(super) fn start(
        conn: Connection,
        database: &Path,
        options: &SqliteOptions,
    ) -> Result<Self, StateError> {
        let (jobs, queue) = mpsc::channel();
        let stats = Arc::new(GroupStats::default());
        let counts = Arc::clone(&stats);
        let mut wal = WalLimit {
            file: PathBuf::from(format!("{}-wal", database.display())),
            limit: options.wal_size_limit,
            busy_timeout: options.busy_timeout,
            spacing: 0,
            countdown: 0,
        };
        std::thread::Builder::new()
            .name("nixweb-state-sqlite-writer".into())
            .spawn(move || write_groups(&conn, &queue, &counts, &mut wal))
            .map_err(|e| backend_error("starting the writer thread", e))?;
        Ok(Writer { jobs, stats })
    }

    /// (groups, commits) so far.
    pub(super) fn stats(&self) -> (u64, u64) {
        (
            self.stats.groups.load(Ordering::Relaxed),
            self.stats.commits.load(Ordering::Relaxed),
        )
    }

    /// Validates `reads` and applies `operations` durably, or answers why not.
    pub(super) fn commit(&self, reads: ReadSet, operations: Operations) -> Result<(), StateError> {
        let stopped = || StateError::Backend("sqlite: the writer thread has stopped".into());
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Job {
                reads,
                operations,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

/// The WAL file and the size above which the writer restarts it.
struct WalLimit {
    file: PathBuf,
    limit: u64,
    /// The connection's usual busy timeout, restored after the restart.
    busy_timeout: Duration,
    /// Groups to let pass before the next attempt: doubles after each failed attempt (up to
    /// [`MAX_RESTART_SPACING`]), so that a server whose snapshots never stop does not pay the
    /// wait on every commit.
    spacing: u32,
    /// Groups left before the next attempt.
    countdown: u32,
}

const MAX_RESTART_SPACING: u32 = 256;

impl WalLimit {
    /// Restarts the WAL when it has outgrown the limit: waits (a little) for the snapshots
    /// older than the last commit, copies the WAL into the database, and lets the next write
    /// start it over (`journal_size_limit` then cuts the file back). A failed attempt is
    /// harmless: a later group tries again.
    fn restart_if_large(&mut self, conn: &Connection) {
        let size = std::fs::metadata(&self.file).map_or(0, |m| m.len());
        if size <= self.limit {
            return;
        }
        if self.countdown > 0 {
            self.countdown -= 1;
            return;
        }
        // Commits wait meanwhile: do not wait long for a slow snapshot.
        let _ = conn.busy_timeout(Duration::from_millis(200));
        // The first column says whether the checkpoint was blocked.
        let done = conn
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
                row.get::<_, i64>(0)
            })
            .is_ok_and(|busy| busy == 0);
        let _ = conn.busy_timeout(self.busy_timeout);
        self.spacing = if done {
            0
        } else {
            (self.spacing * 2).clamp(1, MAX_RESTART_SPACING)
        };
        self.countdown = self.spacing;
    }
}

fn write_groups(
    conn: &Connection,
    queue: &mpsc::Receiver<Job>,
    stats: &GroupStats,
    wal: &mut WalLimit,
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats
            .commits
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        let results = apply_group(conn, &group);
        for (job, result) in group.into_iter().zip(results) {
            // A caller that went away no longer needs its answer.
            let _ = job.reply.send(result);
        }
        wal.restart_if_large(conn);
    }
}

/// One write transaction for the whole group; one result per job, in order.
fn apply_group(conn: &Connection, group: &[Job]) -> Vec<Result<(), StateError>> {
    let everyone = |error: StateError| group.iter().map(|_| Err(error.clone())).collect();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return everyone(backend_error("taking the write lock", e));
    }
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        match apply_in_savepoint(conn, job) {
            Ok(result) => results.push(result),
            Err(e) => {
                // The savepoint machinery itself failed: nothing of the group is trusted.
                let _ = conn.execute_batch("ROLLBACK");
                return everyone(e);
            }
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        let failed = backend_error("committing", e);
        // Conflicts stay conflicts: they wrote nothing either way.
        return results
            .into_iter()
            .map(|result| match result {
                Err(StateError::Conflict) => Err(StateError::Conflict),
                _ => Err(failed.clone()),
            })
            .collect();
    }
    results
}

/// Applies one job inside a savepoint: Ok(its result), or Err when the savepoint could not
/// be managed.
fn apply_in_savepoint(conn: &Connection, job: &Job) -> Result<Result<(), StateError>, StateError> {
    let savepoint = |sql: &str| {
        conn.execute_batch(sql)
            .map_err(|e| backend_error("managing a savepoint", e))
    };
    savepoint("SAVEPOINT job")?;
    let outcome = validate_and_write(conn, &job.reads, &job.operations);
    if !matches!(outcome, Ok(true)) {
        savepoint("ROLLBACK TO job")?;
    }
    savepoint("RELEASE job")?;
    Ok(match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(StateError::Conflict),
        Err(e) => Err(e),
    })
}

/// Inside the write transaction: false when a read changed, else writes and returns true.
fn validate_and_write(
    conn: &Connection,
    reads: &ReadSet,
    operations: &Operations,
) -> Result<bool, StateError> {
    if !reads.still_valid(&mut WriteTxn(conn))? {
        return Ok(false);
    }
    let write = || -> rusqlite::Result<()> {
        let version: i64 = conn.query_row(
            "UPDATE nixweb_state_meta SET last_version = last_version + 1 RETURNING last_version",
            [],
            |row| row.get(0),
        )?;
        let (deletes, sets) = split(operations);
        let mut delete = conn.prepare_cached("DELETE FROM nixweb_state WHERE key = ?1")?;
        for key in deletes {
            delete.execute([key])?;
        }
        let mut upsert = conn.prepare_cached(
            "INSERT INTO nixweb_state (key, value, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
        )?;
        for (key, json) in sets {
            upsert.execute(rusqlite::params![key, json, version])?;
        }
        Ok(())
    };
    write().map_err(|e| backend_error("writing", e))?;
    Ok(true)
}

/// The current state as the write transaction sees it.
struct WriteTxn<'a>(&'a Connection);

impl CurrentVersions for WriteTxn<'_> {
    fn key_versions(&mut self, keys: &[&str]) -> Result<BTreeMap<String, i64>, StateError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT version FROM nixweb_state WHERE key = ?1")
            .map_err(|e| backend_error("validating", e))?;
        let mut versions = BTreeMap::new();
        for key in keys {
            let version: Option<i64> = stmt
                .query_row([key], |row| row.get(0))
                .optional()
                .map_err(|e| backend_error("validating", e))?;
            if let Some(version) = version {
                versions.insert((*key).to_owned(), version);
            }
        }
        Ok(versions)
    }

    fn range_versions(&mut self, range: &KeyRange) -> Result<Vec<(String, i64)>, StateError> {
        self.0
            .prepare_cached(&range_sql("key, version", range))
            .and_then(|mut stmt| {
                stmt.query_map(params_from_iter(range_params(range)), |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect()
            })
            .map_err(|e| backend_error("validating", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::{connect, SqliteBackend};
    use crate::writes::final_operations;
    use crate::{StateBackend, Writes};
    use serde_json::json;

    fn job(reads: ReadSet, set: &[&str]) -> (Job, mpsc::Receiver<Result<(), StateError>>) {
        let operations = final_operations(Writes {
            set: set.iter().map(|k| (k.to_string(), json!(k))).collect(),
            delete: vec![],
        })
        .unwrap();
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            reads,
            operations,
            reply,
        };
        (job, answer)
    }

    fn read_absent(key: &str) -> ReadSet {
        let mut reads = ReadSet::default();
        reads.record_key(key, None);
        reads
    }

    #[test]
    fn a_group_validates_each_commit_after_the_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group.db");
        let backend = SqliteBackend::open(&path, SqliteOptions::default()).unwrap();
        let conn = connect(&path, &SqliteOptions::default()).unwrap();

        let group = vec![
            job(read_absent("x"), &["x"]).0,
            // Read x as absent too, but the first commit of the group created it.
            job(read_absent("x"), &["lost"]).0,
            job(ReadSet::default(), &["y"]).0,
            job(read_absent("z"), &["z"]).0,
        ];
        let results = apply_group(&conn, &group);
        assert_eq!(
            results,
            vec![Ok(()), Err(StateError::Conflict), Ok(()), Ok(())]
        );
        let mut snapshot = backend.begin().unwrap();
        let keys: Vec<String> = snapshot
            .list("", None, 10)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["x", "y", "z"]);
    }
}
