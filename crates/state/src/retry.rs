//! The retry loop of optimistic concurrency: run an attempt on a fresh snapshot, commit
//! its writes, and start over on a conflict, a bounded number of times.

use crate::{Snapshot, StateBackend, StateError, Writes};

/// Runs `attempt` on a fresh snapshot and commits the writes it returns, up to `attempts`
/// times while commits conflict; returns the first successful attempt's result.
///
/// An attempt must be a pure function of what it reads (it may run several times, and only
/// the last run's writes are applied). An `Err` from the attempt, or a backend error, ends
/// the loop at once; when every attempt conflicts the answer is
/// `Err(StateError::Conflict.into())` (nixweb answers 503).
pub fn transact<T, E>(
    backend: &dyn StateBackend,
    attempts: usize,
    mut attempt: impl FnMut(&mut dyn Snapshot) -> Result<(T, Writes), E>,
) -> Result<T, E>
where
    E: From<StateError>,
{
    for _ in 0..attempts {
        let mut snapshot = backend.begin()?;
        let (result, writes) = attempt(&mut *snapshot)?;
        match snapshot.commit(writes) {
            Ok(()) => return Ok(result),
            Err(StateError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StateError::Conflict.into())
}
