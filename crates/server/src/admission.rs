//! At most `workers` evaluations at once; at most `queue` requests waiting for one.
//!
//! Evaluations are expensive (a process, or a CPU-bound thread), so running more of them
//! than there are workers only makes every one slower. Waiting requests are bounded too:
//! past the bound the server answers 503 at once rather than letting latency grow without
//! end.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Admission {
    workers: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
}

/// The queue was full; the request should be answered with 503 and `Retry-After`.
#[derive(Debug)]
pub struct QueueFull;

impl Admission {
    pub fn new(workers: usize, queue: usize) -> Self {
        Admission {
            workers: Semaphore::new(workers.max(1)),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// Waits for a free worker, or fails at once when `queue` requests already wait.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, QueueFull> {
        if let Ok(permit) = self.workers.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(QueueFull);
        }
        let permit = self
            .workers
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let admission = std::sync::Arc::new(Admission::new(1, 1));
        let busy = admission.enter().await.unwrap();
        // One request may wait…
        let waiter = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.enter().await.map(|_| ()) })
        };
        while admission.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // …the next one is refused…
        assert!(admission.enter().await.is_err());
        // …and the waiting one gets the worker once it is free.
        drop(busy);
        assert!(waiter.await.unwrap().is_ok());
    }
}
