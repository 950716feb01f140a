//! State for handlers: one snapshot per attempt, writes committed with the response.
//!
//! Each attempt of a request gets an [`Attempt`]: reads (`req.db.get`, `req.db.list`) go
//! through its snapshot, opened on the first read; the response's writes are committed only
//! if nothing read has changed since (nixweb-state validates). On a conflict the pipeline
//! runs the handler again, on a fresh snapshot. The backend itself is opened on first use,
//! so apps that never touch state never create a database.
//!
//! The Nix engine evaluates in another process, so it reads through [`Bridge`]: a loopback
//! HTTP endpoint where each attempt is reachable under an unguessable token.

use axum::extract::{Path as UrlPath, Query, State as AxumState};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use nixweb_app::engine::{StateAccess, StateReader};
use nixweb_app::outcome::StateWrites;
use nixweb_state::{StateBackend, StateError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How state is configured for a served app.
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// `sqlite:PATH`, `postgres://…`, or a plain path (SQLite).
    pub url: String,
    /// Let GET and HEAD handlers write (off: a GET that writes gets a 500).
    pub allow_get_writes: bool,
    /// Largest value, in bytes of JSON.
    pub max_value_bytes: usize,
    /// Attempts of a request whose writes conflict, before it is answered with 503.
    pub max_attempts: u32,
}

impl StateConfig {
    /// Whether a request with this method may write state: any method but GET and HEAD,
    /// or every method when the app allows GET writes.
    pub fn may_write(&self, method: &http::Method) -> bool {
        !(method == http::Method::GET || method == http::Method::HEAD) || self.allow_get_writes
    }
}

/// The app's state: the backend (opened lazily) and the bridge for the Nix engine.
pub struct AppState {
    config: StateConfig,
    backend: OnceLock<Result<Arc<dyn StateBackend>, String>>,
    bridge: tokio::sync::OnceCell<Bridge>,
    /// Shared by attempts that run alongside others, exclusive for one that conflicted
    /// [`ALONE_AFTER`] times.
    turns: tokio::sync::RwLock<()>,
}

/// Attempts of a request, by default, before a 503.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 20;

/// Conflicts a request may suffer before its next attempt runs alone in this server.
pub const ALONE_AFTER: u32 = 2;

/// A guard held for the whole of one attempt (evaluation and commit).
pub enum Turn<'a> {
    Shared(tokio::sync::RwLockReadGuard<'a, ()>),
    Alone(tokio::sync::RwLockWriteGuard<'a, ()>),
}

/// A random pause before attempt `n + 1`, growing with `n`, so that requests that just
/// collided do not collide again in lockstep.
pub fn backoff(attempt_number: u32) -> std::time::Duration {
    let ceiling_micros = 1000u64 << attempt_number.min(6);
    let random = (uuid::Uuid::new_v4().as_u128() as u64) % ceiling_micros;
    std::time::Duration::from_micros(random)
}

/// Why an attempt's writes were not committed.
#[derive(Debug)]
pub enum CommitError {
    /// Something read changed: run the handler again.
    Conflict,
    /// The writes themselves are refused (size, GET…); answered with 500.
    Invalid(String),
    /// The backend failed; answered with 503.
    Backend(String),
}

impl AppState {
    pub fn new(config: StateConfig) -> Arc<Self> {
        Arc::new(AppState {
            config,
            backend: OnceLock::new(),
            bridge: tokio::sync::OnceCell::new(),
            turns: tokio::sync::RwLock::new(()),
        })
    }

    /// Waits for the right to run attempt `attempt_number` (counted from 1).
    pub async fn turn(&self, attempt_number: u32) -> Turn<'_> {
        if attempt_number > ALONE_AFTER {
            Turn::Alone(self.turns.write().await)
        } else {
            Turn::Shared(self.turns.read().await)
        }
    }

    pub fn config(&self) -> &StateConfig {
        &self.config
    }

    fn backend(&self) -> Result<Arc<dyn StateBackend>, String> {
        self.backend
            .get_or_init(|| {
                let opened = nixweb_state::open(&self.config.url).map_err(|e| describe(&e));
                match &opened {
                    Ok(b) => tracing::info!(target: "nixweb::state", "state: {} at {}", b.kind(), redact(&self.config.url)),
                    Err(e) => tracing::error!(target: "nixweb::state", "state: cannot open {}: {e}", redact(&self.config.url)),
                }
                opened
            })
            .clone()
    }

    /// A fresh attempt; `over_http` also makes it reachable through the bridge, for engines
    /// that evaluate in another process (the others skip the registration and its token).
    pub async fn attempt(self: &Arc<Self>, over_http: bool) -> Result<Arc<Attempt>, String> {
        let http = if over_http {
            let bridge = self
                .bridge
                .get_or_try_init(Bridge::start)
                .await
                .map_err(|e| format!("state bridge: {e}"))?;
            Some((bridge.clone(), uuid::Uuid::new_v4().simple().to_string()))
        } else {
            None
        };
        let attempt = Arc::new(Attempt {
            state: self.clone(),
            snapshot: Mutex::new(None),
            http,
        });
        if let Some((bridge, _)) = &attempt.http {
            bridge.register(&attempt);
        }
        Ok(attempt)
    }
}

/// One attempt of one request: its snapshot, opened on the first read.
pub struct Attempt {
    state: Arc<AppState>,
    snapshot: Mutex<Option<Box<dyn nixweb_state::Snapshot>>>,
    /// The bridge and this attempt's unguessable token on it, when read over HTTP.
    http: Option<(Bridge, String)>,
}

impl Attempt {
    /// What an engine needs to read through this attempt.
    pub fn access(self: &Arc<Self>) -> StateAccess {
        StateAccess {
            reader: self.clone(),
            http_url: self
                .http
                .as_ref()
                .map(|(bridge, token)| format!("http://{}/{token}", bridge.address)),
        }
    }

    fn with_snapshot<T>(
        &self,
        read: impl FnOnce(&mut dyn nixweb_state::Snapshot) -> Result<T, StateError>,
    ) -> Result<T, String> {
        let mut slot = self.snapshot.lock().expect("snapshot lock");
        if slot.is_none() {
            *slot = Some(self.state.backend()?.begin().map_err(|e| describe(&e))?);
        }
        read(slot.as_mut().expect("just opened").as_mut()).map_err(|e| describe(&e))
    }

    /// Commits the writes if nothing read has changed. Blocking: call from a blocking thread.
    pub fn commit(&self, writes: &StateWrites, method: &http::Method) -> Result<(), CommitError> {
        let config = &self.state.config;
        if !config.may_write(method) {
            return Err(CommitError::Invalid(format!(
                "a {method} handler returned state writes; GET and HEAD must not change state (browsers prefetch them and \
                 other sites can trigger them), so nixweb refuses unless the app sets allow-get-writes"
            )));
        }
        let mut set = Vec::with_capacity(writes.set.len());
        for (key, value) in &writes.set {
            let size = serde_json::to_string(value)
                .map(|s| s.len())
                .unwrap_or(usize::MAX);
            if size > config.max_value_bytes {
                return Err(CommitError::Invalid(format!(
                    "the value for state key {key:?} is {size} bytes of JSON, over the limit of {} bytes",
                    config.max_value_bytes
                )));
            }
            set.push((key.clone(), value.clone()));
        }
        let snapshot = {
            let mut slot = self.snapshot.lock().expect("snapshot lock");
            match slot.take() {
                Some(snapshot) => snapshot,
                None => self
                    .state
                    .backend()
                    .map_err(CommitError::Backend)?
                    .begin()
                    .map_err(|e| CommitError::Backend(describe(&e)))?,
            }
        };
        match snapshot.commit(nixweb_state::Writes {
            set,
            delete: writes.delete.clone(),
        }) {
            Ok(()) => Ok(()),
            Err(StateError::Conflict) => Err(CommitError::Conflict),
            Err(e) => Err(CommitError::Backend(describe(&e))),
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let Some((bridge, token)) = &self.http {
            bridge.unregister(token);
        }
    }
}

impl StateReader for Attempt {
    fn get(&self, key: &str) -> Result<Option<Value>, String> {
        self.with_snapshot(|s| s.get(key))
    }

    fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Value)>, String> {
        self.with_snapshot(|s| s.list(prefix, after, limit.min(MAX_LIST_LIMIT)))
    }
}

fn describe(e: &StateError) -> String {
    match e {
        StateError::Conflict => "a conflicting write".into(),
        StateError::Backend(message) => message.clone(),
    }
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Loopback HTTP access to attempts, for engines in another process.
#[derive(Clone)]
pub struct Bridge {
    address: std::net::SocketAddr,
    attempts: Arc<Mutex<HashMap<String, std::sync::Weak<Attempt>>>>,
}

/// A list read returns at most this many entries, whatever limit the app asks for.
const MAX_LIST_LIMIT: usize = 10_000;

impl Bridge {
    async fn start() -> std::io::Result<Bridge> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let bridge = Bridge {
            address: listener.local_addr()?,
            attempts: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/{token}/get", axum::routing::get(bridge_get))
            .route("/{token}/list", axum::routing::get(bridge_list))
            .with_state(bridge.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(bridge)
    }

    fn register(&self, attempt: &Arc<Attempt>) {
        if let Some((_, token)) = &attempt.http {
            self.attempts
                .lock()
                .expect("bridge lock")
                .insert(token.clone(), Arc::downgrade(attempt));
        }
    }

    fn unregister(&self, token: &str) {
        self.attempts.lock().expect("bridge lock").remove(token);
    }

    fn find(&self, token: &str) -> Option<Arc<Attempt>> {
        self.attempts
            .lock()
            .expect("bridge lock")
            .get(token)
            .and_then(std::sync::Weak::upgrade)
    }
}

/// Runs a blocking read of an attempt off the async threads (backends may block, and the
/// PostgreSQL client must not run on a runtime thread).
async fn read<T: serde::Serialize + Send + 'static>(
    bridge: Bridge,
    token: String,
    read: impl FnOnce(&Attempt) -> Result<T, String> + Send + 'static,
) -> Response {
    let Some(attempt) = bridge.find(&token) else {
        return (StatusCode::NOT_FOUND, "no such request").into_response();
    };
    match tokio::task::spawn_blocking(move || read(&attempt)).await {
        Ok(Ok(value)) => axum::Json(value).into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn bridge_get(
    AxumState(bridge): AxumState<Bridge>,
    UrlPath(token): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(key) = q.get("key").cloned() else {
        return (StatusCode::BAD_REQUEST, "key missing").into_response();
    };
    read(bridge, token, move |attempt| attempt.get(&key)).await
}

async fn bridge_list(
    AxumState(bridge): AxumState<Bridge>,
    UrlPath(token): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let after = q.get("after").cloned();
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100);
    read(bridge, token, move |attempt| {
        let entries = attempt.list(&prefix, after.as_deref(), limit)?;
        Ok(entries
            .into_iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
            .collect::<Vec<_>>())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_stay_out_of_logs() {
        assert_eq!(
            redact("postgres://nixweb:secret@127.0.0.1/db"),
            "postgres://nixweb:***@127.0.0.1/db"
        );
        assert_eq!(
            redact("sqlite:/srv/app/nixweb.db"),
            "sqlite:/srv/app/nixweb.db"
        );
    }
}
