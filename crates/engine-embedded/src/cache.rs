//! Answers repeated requests without evaluating, when the first evaluation showed that the
//! answer depends on nothing that changed.
//!
//! Evaluation is lazy: a request field the router and handler never forced cannot have
//! shaped the result. Each field of the request value is therefore a thunk that records
//! being forced ([`crate::request`]), and a result is stored under the values of exactly
//! the fields its evaluation forced (for `/test/my/hello`: method, segments and query; not
//! the request id, time or headers). A later request that agrees on those fields would
//! force the same fields, in the same order, and get the same result, so it is answered
//! from here, on the async side, without waiting for an evaluation thread.
//!
//! Only results that depend on nothing else are stored (see `worker.rs`): GET and HEAD
//! requests whose evaluation read no state, fetched nothing, printed nothing (a trace must
//! print every time) and asked for no writes, with the file watch in use. An entry is
//! dropped when any file an evaluation read changes, and, if its evaluation forced
//! `builtins.currentTime`, at the end of that second.

use crate::request::{write_field_key, FIELD_COUNT};
use crate::watch::FileWatch;
use nixweb_app::request::Request;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bounds on what is kept: past them the cache starts empty again.
const MAX_ENTRIES: usize = 4096;
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Results larger than this (roughly, in JSON bytes) are not kept.
const MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// Which request fields an evaluation forced: bit `i` is field `i` in Nix's name order.
pub type FieldSet = u32;

#[derive(Default)]
pub struct ResponseCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The distinct field sets stored results depend on (few: one or two per route).
    shapes: Vec<FieldSet>,
    entries: HashMap<(FieldSet, Vec<u8>), Entry>,
    bytes: usize,
}

struct Entry {
    result: Arc<serde_json::Value>,
    /// The file watch's generation before the evaluation started.
    generation: u64,
    /// For a result that used `builtins.currentTime`: the Unix second it saw, the only
    /// one in which the result holds.
    second: Option<u64>,
    bytes: usize,
}

impl ResponseCache {
    /// The stored result for a request that agrees with an earlier one on every field the
    /// earlier evaluation forced, if it is still valid.
    pub fn lookup(&self, request: &Request, watch: &FileWatch) -> Option<Arc<serde_json::Value>> {
        if !cacheable_method(&request.method) {
            return None;
        }
        let found = {
            let inner = self.inner.lock().expect("cache lock");
            inner.shapes.iter().find_map(|&fields| {
                let entry = inner.entries.get(&(fields, key(request, fields)))?;
                let current = entry.second.is_none_or(|second| second == request.time);
                current.then(|| (entry.result.clone(), entry.generation))
            })
        };
        let (result, generation) = found?;
        // Drains the watch's pending events: a file written before this request arrived
        // is known here.
        if watch.changed_since(generation, |_| true) {
            return None;
        }
        Some(result)
    }

    /// Keeps a result that depends only on the request fields in `fields`.
    pub fn store(
        &self,
        request: &Request,
        fields: FieldSet,
        result: &serde_json::Value,
        generation: u64,
        second: Option<u64>,
    ) {
        let bytes = approximate_size(result);
        if bytes > MAX_ENTRY_BYTES || !cacheable_method(&request.method) {
            return;
        }
        let key = key(request, fields);
        let mut inner = self.inner.lock().expect("cache lock");
        if inner.entries.len() >= MAX_ENTRIES || inner.bytes + bytes > MAX_BYTES {
            *inner = Inner::default();
        }
        if !inner.shapes.contains(&fields) {
            inner.shapes.push(fields);
        }
        let entry = Entry {
            result: Arc::new(result.clone()),
            generation,
            second,
            bytes,
        };
        inner.bytes += bytes;
        if let Some(old) = inner.entries.insert((fields, key), entry) {
            inner.bytes -= old.bytes;
        }
    }
}

/// Only requests that must not change anything are answered from the cache.
pub fn cacheable_method(method: &str) -> bool {
    method == "GET" || method == "HEAD"
}

/// The values of the fields in `fields`, each written whole (a forced field is a whole
/// value to the evaluation, e.g. the entire query attrset).
fn key(request: &Request, fields: FieldSet) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    for i in 0..FIELD_COUNT {
        if fields & (1 << i) != 0 {
            write_field_key(request, i, &mut key);
            key.push(0);
        }
    }
    key
}

fn approximate_size(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::String(s) => s.len() + 24,
        serde_json::Value::Array(items) => 24 + items.iter().map(approximate_size).sum::<usize>(),
        serde_json::Value::Object(map) => {
            24 + map
                .iter()
                .map(|(k, v)| k.len() + 24 + approximate_size(v))
                .sum::<usize>()
        }
        _ => 24,
    }
}
