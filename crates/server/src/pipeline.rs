//! The path of one request: body → request value → worker → engine → outcome → response
//! (or, when the engine holds a result this request would certainly get again, request
//! value → that result → response, with no worker).
//!
//! [`Nixweb::respond`] is used by the HTTP server and by `nixweb request` alike, so what a
//! user sees from the command line is exactly what a browser would get.

use crate::admission::Admission;
use crate::body::BodyLimits;
use crate::compressed::CompressedCache;
use crate::error_pages::ErrorPage;
use crate::render::{self, Failure};
use crate::session::{SessionConfig, SessionState, Sessions};
use crate::state::{AppState, CommitError, StateConfig};
use crate::static_files::Asked;
use crate::uploads::{self, Uploads};
use crate::{compression, conditional};
use axum::body::Body;
use nixweb_app::engine::{Engine, RouterCall, RouterMode, StateAccess};
use nixweb_app::multipart;
use nixweb_app::outcome::{self, InvalidResponse, Outcome};
use nixweb_app::request::{Request, RequestParts, TlsInfo};
use nixweb_app::trace::Traces;
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
    /// Give GET and HEAD answers an ETag and answer `If-None-Match` with 304.
    pub etag: bool,
    /// How session cookies are signed, and whether CSRF tokens are checked.
    pub sessions: SessionConfig,
    /// Most parts a `multipart/form-data` body may have.
    pub max_parts: usize,
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
            etag: true,
            max_parts: 100,
            sessions: SessionConfig {
                secrets: vec![],
                max_age: Duration::from_secs(14 * 24 * 3600),
                csrf: false,
            },
        }
    }
}

/// A served app: its engine, its limits, its workers.
pub struct Nixweb {
    engine: Arc<dyn Engine>,
    config: ServerConfig,
    pub(crate) admission: Admission,
    /// Requests that may write state, in flight at once: one per worker. More would only
    /// conflict with each other and run again (letting in four per worker halved the
    /// throughput of contended increments).
    writers: tokio::sync::Semaphore,
    state: Option<Arc<AppState>>,
    ids: RequestIds,
    sessions: Sessions,
    compressed: CompressedCache,
    etags: crate::etags::Etags,
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
        let sessions = Sessions::new(&config.sessions);
        Nixweb {
            engine,
            config,
            admission,
            writers,
            state,
            ids: RequestIds::new(),
            sessions,
            compressed: CompressedCache::default(),
            etags: Default::default(),
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
    /// The answer is compressed on the way out when that is worth it ([`compression`]).
    pub async fn respond(
        &self,
        request: http::Request<Body>,
        remote_addr: Option<IpAddr>,
    ) -> http::Response<Body> {
        compression::around(&self.compressed, request, |request| {
            self.answer(request, remote_addr)
        })
        .await
    }

    async fn answer(
        &self,
        request: http::Request<Body>,
        remote_addr: Option<IpAddr>,
    ) -> http::Response<Body> {
        let started = Instant::now();
        let id = self.ids.next();
        let logged = self.config.access_log.then(|| AccessLine::of(&request));
        let (parts, body) = request.into_parts();

        let mut from_cache = false;
        let traces = Arc::new(Traces::new(id.clone(), nixweb_app::trace::DEFAULT_LIMIT));
        let mut response = match self.read_request(&parts, body, remote_addr, &id).await {
            Ok((request, session, _uploads)) => {
                let request = Arc::new(request);
                let result = self
                    .evaluate(&request, &parts.method, &id, &traces, &mut from_cache)
                    .await;
                self.render(result, &request, &session, &parts, &id, &traces)
                    .await
            }
            Err(failure) => {
                failure.log(&id);
                render::failure(&failure, &id, self.config.dev)
            }
        };
        response = conditional::apply(
            response,
            &parts.method,
            &parts.headers,
            self.config.etag.then_some(&self.etags),
        )
        .await;
        if parts.method == http::Method::HEAD {
            response = render::without_body(response);
        }
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

    /// The request value, with its session and its uploaded files (on disk while the
    /// returned [`Uploads`] lives); or why the request is refused before any evaluation
    /// (too large, malformed, a CSRF token missing).
    async fn read_request(
        &self,
        parts: &http::request::Parts,
        body: Body,
        remote_addr: Option<IpAddr>,
        id: &str,
    ) -> Result<(Request, SessionState, Uploads), Failure> {
        let limits = self.body_limits();
        crate::body::check_head(&parts.headers, &limits).map_err(Failure::Body)?;
        let body = crate::body::read(body, &limits)
            .await
            .map_err(Failure::Body)?;

        let mut request = Request::new(&RequestParts {
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
        if let Some(tls) = parts.extensions.get::<Arc<TlsInfo>>() {
            request.set_tls(tls);
        }
        let uploads = self
            .read_multipart(&mut request, &parts.headers, body)
            .await?;
        let session = self.sessions.attach(&mut request, &parts.headers);
        self.sessions
            .check_csrf(&request, &parts.method, &parts.headers, &session)?;
        Ok((request, session, uploads))
    }

    /// A `multipart/form-data` body's fields into `req.form`, its files into `req.files`.
    async fn read_multipart(
        &self,
        request: &mut Request,
        headers: &http::HeaderMap,
        body: bytes::Bytes,
    ) -> Result<Uploads, Failure> {
        if !multipart::is_multipart(&nixweb_app::request::media_type(headers)) {
            return Ok(Uploads::none());
        }
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let form = multipart::parse(content_type, body, self.config.max_parts)
            .await
            .map_err(Failure::Multipart)?;
        request.add_form_fields(form.fields);
        let (files, uploads) = uploads::store(form.files, self.engine.upload_dir())
            .map_err(|e| Failure::Uploads(e.to_string()))?;
        request.files = files;
        Ok(uploads)
    }

    /// The outcome of a request; a failure of the app's code is placed in the app.
    async fn evaluate(
        &self,
        request: &Arc<Request>,
        method: &http::Method,
        id: &str,
        traces: &Arc<Traces>,
        from_cache: &mut bool,
    ) -> Result<Outcome, Failure> {
        match self.handle(request, method, id, traces, from_cache).await {
            Err(failure) if failure.is_the_apps() => {
                let context = crate::explain::Context {
                    engine: &*self.engine,
                    admission: &self.admission,
                    eval_timeout: self.config.eval_timeout,
                    show_trace: self.config.show_trace,
                };
                Err(crate::explain::explain(&context, request, failure).await)
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
        traces: &Arc<Traces>,
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
            let result = self.run_handler(request, None, traces).await?;
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
            let result = self
                .run_handler(request, Some(attempt.access()), traces)
                .await?;
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
                    tracing::debug!(target: "nixweb::state", id, "attempt {attempt_number} conflicted; running the handler again");
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

    /// The outcome (or failure) as HTTP: the app's response with its session cookie, or
    /// the app's own error page where it has one, or nixweb's.
    async fn render(
        &self,
        result: Result<Outcome, Failure>,
        request: &Arc<Request>,
        session: &SessionState,
        parts: &http::request::Parts,
        id: &str,
        traces: &Traces,
    ) -> http::Response<Body> {
        let asked = Asked {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
        };
        let page = match result {
            Ok(Outcome::Response(value)) => {
                return self.app_response(value, request, session, &asked).await
            }
            Ok(outcome @ Outcome::Options { .. }) => return render::own_outcome(&outcome),
            Ok(outcome) => ErrorPage::for_outcome(outcome),
            Err(failure) => {
                failure.log(id);
                ErrorPage::for_failure(failure)
            }
        };
        match self.error_page(&page, request, &asked, id).await {
            Some(value) => {
                let mut response = self.app_response(value, request, session, &asked).await;
                page.add_allow(&mut response);
                response
            }
            None => page.own(id, self.config.dev, traces),
        }
    }

    /// The app's response as HTTP, with the session cookie it asked for.
    async fn app_response(
        &self,
        value: outcome::ResponseValue,
        request: &Request,
        session: &SessionState,
        asked: &Asked<'_>,
    ) -> http::Response<Body> {
        let change = value.session.clone();
        let serves_file = value.body.is_file();
        let mut response = render::response(value, asked, &self.config.file_roots).await;
        if let Err(invalid) =
            self.sessions
                .finish(&mut response, session, &change, serves_file, request.time)
        {
            let failure = Failure::InvalidResponse(invalid);
            failure.log(&request.id);
            return render::failure(&failure, &request.id, self.config.dev);
        }
        response
    }

    async fn run_handler(
        &self,
        request: &Arc<Request>,
        state: Option<StateAccess>,
        traces: &Arc<Traces>,
    ) -> Result<serde_json::Value, Failure> {
        self.engine
            .run_router(RouterCall {
                mode: RouterMode::Handle,
                request: request.clone(),
                timeout: self.config.eval_timeout,
                state,
                traces: traces.clone(),
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
