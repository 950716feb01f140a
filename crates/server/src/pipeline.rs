//! The path of one request: body → request value → worker → engine → outcome → response
//! (or, when the engine holds a result this request would certainly get again, request
//! value → that result → response, with no worker).
//!
//! [`Nixweb::respond`] is used by the HTTP server and by `nixweb request` alike, so what a
//! user sees from the command line is exactly what a browser would get.

use crate::admission::Admission;
use crate::body::BodyLimits;
use crate::render::{self, Failure};
use crate::state::{AppState, CommitError, StateConfig};
use axum::body::Body;
use nixweb_app::engine::{Engine, RouterCall, RouterMode, StateAccess};
use nixweb_app::outcome::{self, InvalidResponse, Outcome};
use nixweb_app::request::{Request, RequestParts, TlsInfo};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The limits and modes of a server; `nixweb serve` fills it from its flags.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// An evaluation running longer is stopped and answered with 504.
    pub eval_timeout: Duration,
    /// A larger request body is answered with 413 without evaluating.
    pub max_body: usize,
    /// A body's time to start arriving; each `min_body_rate` bytes received add a second.
    /// A slower body is answered with 408 (see crate::body).
    pub body_timeout: Duration,
    /// Bytes per second a body must keep up.
    pub min_body_rate: u64,
    /// Timeouts, the connection cap and the shutdown deadline (crate::http).
    pub connections: crate::http::ConnectionLimits,
    /// Serve HTTPS with these files (crate::tls); None: plain HTTP.
    pub tls: Option<crate::tls::TlsFiles>,
    /// Evaluations that may run at once.
    pub workers: usize,
    /// Requests that may wait for a worker; past that, 503 with `Retry-After`.
    pub queue: usize,
    /// Show evaluation errors, with their source, in the error page.
    pub dev: bool,
    /// Keep nixweb's own frames (its router's) in the traces of errors.
    pub show_trace: bool,
    /// Log a line per request.
    pub access_log: bool,
    /// Folders that `file` responses may serve from: the app's folder and the Nix store.
    pub file_roots: Vec<PathBuf>,
    /// The app's state store; None: requests have no state.
    pub state: Option<StateConfig>,
}

impl ServerConfig {
    /// Defaults for an app whose entry file lives in `app_dir`.
    pub fn for_app_dir(app_dir: PathBuf) -> Self {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        ServerConfig {
            eval_timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            min_body_rate: 8 * 1024,
            connections: crate::http::ConnectionLimits::default(),
            tls: None,
            workers,
            queue: 256,
            dev: false,
            show_trace: false,
            access_log: false,
            state: Some(StateConfig {
                url: format!("sqlite:{}", app_dir.join("nixweb.db").display()),
                allow_get_writes: false,
                max_value_bytes: 1024 * 1024,
                max_attempts: crate::state::DEFAULT_MAX_ATTEMPTS,
            }),
            file_roots: vec![app_dir, PathBuf::from("/nix/store")],
        }
    }
}

/// A served app: its engine, its limits, its workers.
pub struct Nixweb {
    engine: Arc<dyn Engine>,
    config: ServerConfig,
    admission: Admission,
    /// Requests that may write state, in flight at once: one per worker. More would only
    /// conflict with each other and run again (letting in four per worker halved the
    /// throughput of contended increments).
    writers: tokio::sync::Semaphore,
    state: Option<Arc<AppState>>,
    ids: RequestIds,
}

/// Request ids: a random prefix per server and a counter, unique without a system call per
/// request (as a fresh random UUID would cost).
struct RequestIds {
    prefix: String,
    counter: std::sync::atomic::AtomicU64,
}

impl RequestIds {
    fn new() -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        RequestIds {
            prefix: random[..16].to_owned(),
            counter: Default::default(),
        }
    }

    fn next(&self) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}{n:08x}", self.prefix)
    }
}

/// What the access log says about a request, taken before the request is consumed.
struct AccessLine {
    method: http::Method,
    path: String,
    user_agent: Option<http::HeaderValue>,
}

impl AccessLine {
    fn of(request: &http::Request<Body>) -> Self {
        AccessLine {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            user_agent: request.headers().get(http::header::USER_AGENT).cloned(),
        }
    }

    /// One line: `METHOD PATH STATUS` and, as fields, the client, the body's size in bytes
    /// (`-` when it is streamed with no known length), the time taken, the user agent.
    fn log(
        self,
        id: &str,
        client: Option<IpAddr>,
        response: &http::Response<Body>,
        started: Instant,
    ) {
        use axum::body::HttpBody as _;
        let bytes = response.body().size_hint().exact();
        let agent = self
            .user_agent
            .as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        tracing::info!(
            target: "nixweb::access",
            id,
            client = client.map(|ip| ip.to_string()).as_deref().unwrap_or("-"),
            bytes = bytes.map(|n| n.to_string()).as_deref().unwrap_or("-"),
            ms = format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            agent = agent.as_deref().unwrap_or("-"),
            "{} {} {}",
            self.method,
            self.path,
            response.status().as_u16(),
        );
    }
}

impl Nixweb {
    pub fn new(engine: Arc<dyn Engine>, config: ServerConfig) -> Self {
        let writers = tokio::sync::Semaphore::new(config.workers.max(1));
        let admission = Admission::new(config.workers * engine.calls_per_worker(), config.queue);
        let state = config.state.clone().map(AppState::new);
        Nixweb {
            engine,
            config,
            admission,
            writers,
            state,
            ids: RequestIds::new(),
        }
    }

    pub fn engine(&self) -> &dyn Engine {
        &*self.engine
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    fn body_limits(&self) -> BodyLimits {
        BodyLimits {
            max_bytes: self.config.max_body,
            timeout: self.config.body_timeout,
            min_rate: self.config.min_body_rate,
        }
    }

    /// Answers one request. Never fails: every problem becomes an HTTP error response.
    pub async fn respond(
        &self,
        request: http::Request<Body>,
        remote_addr: Option<IpAddr>,
    ) -> http::Response<Body> {
        let started = Instant::now();
        let id = self.ids.next();
        let method = request.method().clone();
        let logged = self.config.access_log.then(|| AccessLine::of(&request));

        let mut from_cache = false;
        let mut response = match self
            .evaluate(request, remote_addr, &id, &mut from_cache)
            .await
        {
            Ok(outcome) => render::outcome(outcome, &method, &self.config.file_roots).await,
            Err(failure) => {
                failure.log(&id);
                render::failure(&failure, &id, self.config.dev)
            }
        };
        if let Ok(value) = http::HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", value);
        }
        if from_cache {
            // Says why a handler's side effects (none are allowed to matter) did not run.
            response
                .headers_mut()
                .insert("x-nixweb-cache", http::HeaderValue::from_static("hit"));
        }
        if let Some(line) = logged {
            line.log(&id, remote_addr, &response, started);
        }
        response
    }

    async fn evaluate(
        &self,
        request: http::Request<Body>,
        remote_addr: Option<IpAddr>,
        id: &str,
        from_cache: &mut bool,
    ) -> Result<Outcome, Failure> {
        let (parts, body) = request.into_parts();
        let limits = self.body_limits();
        crate::body::check_head(&parts.headers, &limits).map_err(Failure::Body)?;
        let body = crate::body::read(body, &limits)
            .await
            .map_err(Failure::Body)?;

        let request = Request::new(&RequestParts {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            body: &body,
            remote_addr,
            id,
            time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        })
        .map_err(Failure::BadRequest)?;
        let mut request = request;
        if let Some(tls) = parts.extensions.get::<Arc<TlsInfo>>() {
            request.set_tls(tls);
        }
        let request = Arc::new(request);
        match self.handle(&request, &parts.method, id, from_cache).await {
            Err(failure) if failure.is_the_apps() => {
                let context = crate::explain::Context {
                    engine: &*self.engine,
                    admission: &self.admission,
                    eval_timeout: self.config.eval_timeout,
                    show_trace: self.config.show_trace,
                };
                Err(crate::explain::explain(&context, &request, failure).await)
            }
            other => other,
        }
    }

    /// The request's outcome from the response cache, or from its handler, run in a
    /// transaction when the app has state.
    async fn handle(
        &self,
        request: &Arc<Request>,
        method: &http::Method,
        id: &str,
        from_cache: &mut bool,
    ) -> Result<Outcome, Failure> {
        // A result the engine knows this request would get again: no worker, no state.
        if let Some(result) = self.engine.cached(request) {
            *from_cache = true;
            return outcome::parse_outcome(&result).map_err(Failure::InvalidResponse);
        }
        let _worker = self
            .admission
            .enter()
            .await
            .map_err(|_| Failure::QueueFull)?;
        let Some(state) = &self.state else {
            let result = self.run_handler(request, None).await?;
            return outcome::parse_outcome(&result).map_err(Failure::InvalidResponse);
        };

        let _writer = if state.config().may_write(method) {
            Some(self.writers.acquire().await.expect("never closed"))
        } else {
            None
        };
        // A transaction per attempt: the handler reads from a snapshot, and its writes land
        // only if nothing it read has changed; otherwise it runs again on a fresh snapshot.
        for attempt_number in 1..=state.config().max_attempts {
            // After repeated conflicts, run alone among this server's requests (other servers
            // sharing the database can still interleave), so hot keys cannot starve anyone.
            let _turn = state.turn(attempt_number).await;
            let attempt = state
                .attempt(self.engine.reads_state_over_http())
                .await
                .map_err(Failure::StateUnavailable)?;
            let result = self.run_handler(request, Some(attempt.access())).await?;
            let outcome = outcome::parse_outcome(&result).map_err(Failure::InvalidResponse)?;
            let writes = match &outcome {
                Outcome::Response(response) => response.writes.clone().filter(|w| !w.is_empty()),
                _ => None,
            };
            let Some(writes) = writes else {
                return Ok(outcome);
            };
            let method = method.clone();
            let committed = tokio::task::spawn_blocking(move || attempt.commit(&writes, &method))
                .await
                .map_err(|e| Failure::StateUnavailable(e.to_string()))?;
            match committed {
                Ok(()) => return Ok(outcome),
                Err(CommitError::Conflict) => {
                    tracing::debug!(target: "nixweb::state", "id={id}: attempt {attempt_number} conflicted; running the handler again");
                    tokio::time::sleep(crate::state::backoff(attempt_number)).await;
                }
                Err(CommitError::Invalid(why)) => {
                    return Err(Failure::InvalidResponse(InvalidResponse(why)))
                }
                Err(CommitError::Backend(why)) => return Err(Failure::StateUnavailable(why)),
            }
        }
        Err(Failure::Contention(state.config().max_attempts))
    }

    async fn run_handler(
        &self,
        request: &Arc<Request>,
        state: Option<StateAccess>,
    ) -> Result<serde_json::Value, Failure> {
        self.engine
            .run_router(RouterCall {
                mode: RouterMode::Handle,
                request: request.clone(),
                timeout: self.config.eval_timeout,
                state,
            })
            .await
            .map_err(Failure::Engine)
    }

    /// The app's route table, as seen by a `GET /` request, with the subtrees that fail
    /// to evaluate marked.
    pub async fn routes(&self) -> Result<Vec<crate::routes::Row>, Failure> {
        crate::routes::table(
            &*self.engine,
            self.config.eval_timeout,
            self.config.show_trace,
        )
        .await
    }
}
