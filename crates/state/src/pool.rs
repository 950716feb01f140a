//! A small blocking connection pool: at most `max` connections exist at once; idle ones are
//! reused; a caller waits (up to a limit) when all are in use. Connections found broken are
//! dropped instead of being returned.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::StateError;

type Connect<C> = Box<dyn Fn() -> Result<C, StateError> + Send + Sync>;

pub(crate) struct Pool<C> {
    state: Mutex<PoolState<C>>,
    returned: Condvar,
    max: usize,
    wait: Duration,
    connect: Connect<C>,
}

struct PoolState<C> {
    idle: Vec<C>,
    /// Connections that exist: idle plus lent out.
    open: usize,
}

/// A connection lent by the pool; it goes back when dropped unless [`Pooled::discard`]ed.
pub(crate) struct Pooled<C> {
    conn: Option<C>,
    pool: Arc<Pool<C>>,
}

impl<C> Pool<C> {
    pub(crate) fn new(max: usize, wait: Duration, connect: Connect<C>) -> Arc<Self> {
        Arc::new(Pool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
            max: max.max(1),
            wait,
            connect,
        })
    }

    /// An idle connection, a new one if fewer than `max` exist, or the next one returned.
    pub(crate) fn get(self: &Arc<Self>) -> Result<Pooled<C>, StateError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(self.lend(conn));
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                // Connect outside the lock: it may take a network round trip.
                return match (self.connect)() {
                    Ok(conn) => Ok(self.lend(conn)),
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .returned
                .wait_timeout(state, self.wait)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.max {
                return Err(StateError::Backend(format!(
                    "all {} state connections stayed busy for {:?}",
                    self.max, self.wait
                )));
            }
        }
    }

    /// Adopts a connection made outside the pool (even beyond `max`).
    pub(crate) fn give(self: &Arc<Self>, conn: C) -> Pooled<C> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).open += 1;
        self.lend(conn)
    }

    fn lend(self: &Arc<Self>, conn: C) -> Pooled<C> {
        Pooled {
            conn: Some(conn),
            pool: Arc::clone(self),
        }
    }

    fn forget_one(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.open -= 1;
        self.returned.notify_one();
    }
}

impl<C> Pooled<C> {
    /// Drops the connection instead of returning it (it is broken or in an unknown state).
    pub(crate) fn discard(mut self) {
        self.conn = None;
    }
}

impl<C> std::ops::Deref for Pooled<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn
            .as_ref()
            .expect("pooled connection used after discard")
    }
}

impl<C> std::ops::DerefMut for Pooled<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn
            .as_mut()
            .expect("pooled connection used after discard")
    }
}

impl<C> Drop for Pooled<C> {
    fn drop(&mut self) {
        match self.conn.take() {
            Some(conn) => {
                let mut state = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
                state.idle.push(conn);
                self.pool.returned.notify_one();
            }
            None => self.pool.forget_one(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting_pool(max: usize) -> (Arc<Pool<usize>>, Arc<AtomicUsize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let pool = Pool::new(
            max,
            Duration::from_millis(50),
            Box::new(move || Ok(counter.fetch_add(1, Ordering::SeqCst))),
        );
        (pool, made)
    }

    #[test]
    fn reuses_idle_connections() {
        let (pool, made) = counting_pool(2);
        let first = pool.get().unwrap();
        assert_eq!(*first, 0);
        drop(first);
        assert_eq!(*pool.get().unwrap(), 0);
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn bounded_and_discard_frees_a_slot() {
        let (pool, made) = counting_pool(2);
        let a = pool.get().unwrap();
        let _b = pool.get().unwrap();
        assert!(matches!(pool.get(), Err(StateError::Backend(_))));
        a.discard();
        let c = pool.get().unwrap();
        assert_eq!(*c, 2);
        assert_eq!(made.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn waiter_gets_a_returned_connection() {
        let (pool, _) = counting_pool(1);
        let held = pool.get().unwrap();
        let waiter = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || *pool_get_patient(&pool))
        };
        drop(held);
        assert_eq!(waiter.join().unwrap(), 0);
    }

    /// Waits however long it takes, for tests: retries the pool's timed wait.
    fn pool_get_patient(pool: &Arc<Pool<usize>>) -> Pooled<usize> {
        loop {
            if let Ok(conn) = pool.get() {
                return conn;
            }
        }
    }
}
