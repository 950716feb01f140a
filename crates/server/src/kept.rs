//! Bodies kept between requests, bounded by the bytes they take and forgetting the least
//! recently used first; one lock, shared by the server's threads. What [`crate::compressed`]
//! and [`crate::etags`] keep.

use hashlink::LruCache;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// A value whose size counts against a [`Kept`] budget.
pub trait Weighed {
    fn bytes(&self) -> usize;
}

/// At most `budget` bytes of values, by key.
pub struct Kept<K, V> {
    inner: Mutex<Entries<K, V>>,
    budget: usize,
}

struct Entries<K, V> {
    lru: LruCache<K, V>,
    bytes: usize,
}

impl<K: Hash + Eq, V: Clone + Weighed> Kept<K, V> {
    pub fn new(budget: usize) -> Self {
        Kept {
            inner: Mutex::new(Entries {
                lru: LruCache::new_unbounded(),
                bytes: 0,
            }),
            budget,
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries<K, V>> {
        // The entries stay consistent whatever panicked while the lock was held.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept for `key`, if any (and it becomes the most recently used).
    pub fn get(&self, key: &K) -> Option<V> {
        self.entries().lru.get(key).cloned()
    }

    /// Keeps `value` for `key` (in place of what was kept for it), forgetting the least
    /// recently used values past the budget.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries();
        entries.bytes += value.bytes();
        if let Some(old) = entries.lru.insert(key, value) {
            entries.bytes -= old.bytes();
        }
        while entries.bytes > self.budget {
            match entries.lru.remove_lru() {
                Some((_, old)) => entries.bytes -= old.bytes(),
                None => break,
            }
        }
    }

    /// Bytes of the values kept.
    pub fn bytes(&self) -> usize {
        self.entries().bytes
    }
}
