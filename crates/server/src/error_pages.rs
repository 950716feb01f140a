//! The app's own error pages: handlers named `"404"`, `"405"`, `"500"` and `"504"` at the
//! root of its route tree (docs/web.md). Each gets the request with `req.error` =
//! `{ status; message; allow; }` (the message only with `--dev`, as nixweb's own pages).
//! When the app has no such handler, or it fails in turn, nixweb's own page is served and
//! the log says both what went wrong and why the app's page could not be shown.

use crate::pipeline::Nixweb;
use crate::render::{self, Failure, Place};
use crate::static_files::Asked;
use axum::body::Body;
use http::{Response, StatusCode};
use nixweb_app::engine::{RouterCall, RouterMode};
use nixweb_app::outcome::{self, Outcome, ResponseValue};
use nixweb_app::request::Request;
use std::sync::Arc;
use std::time::Duration;

/// An error page gets at most this long (and never longer than a handler): it follows an
/// evaluation that may itself have taken the whole timeout.
const ERROR_PAGE_TIMEOUT: Duration = Duration::from_secs(2);

/// What went wrong with a request, to be shown on an error page.
pub enum ErrorPage {
    /// No route (404), or a route without the method (405).
    Outcome(Outcome),
    /// The handler failed (500), ran too long (504), or anything else nixweb answers.
    Failure(Failure),
}

impl ErrorPage {
    pub fn for_outcome(outcome: Outcome) -> Self {
        ErrorPage::Outcome(outcome)
    }

    pub fn for_failure(failure: Failure) -> Self {
        ErrorPage::Failure(failure)
    }

    fn status(&self) -> StatusCode {
        match self {
            ErrorPage::Outcome(Outcome::MethodNotAllowed { .. }) => StatusCode::METHOD_NOT_ALLOWED,
            ErrorPage::Outcome(_) => StatusCode::NOT_FOUND,
            ErrorPage::Failure(failure) => failure.status(),
        }
    }

    /// Whether the app's tree may answer it: 404, 405, and failures of the app's own code
    /// (500, 504). Refusals of the request itself and an unavailable server stay nixweb's.
    fn app_may_answer(&self) -> bool {
        match self {
            ErrorPage::Outcome(outcome) => matches!(
                outcome,
                Outcome::NotFound | Outcome::MethodNotAllowed { .. }
            ),
            // A route tree that cannot be evaluated cannot give a page either.
            ErrorPage::Failure(Failure::InApp {
                place: Place::RouteTree(_),
                ..
            }) => false,
            ErrorPage::Failure(failure) => failure.inner().is_the_apps(),
        }
    }

    fn allow(&self) -> &[String] {
        match self {
            ErrorPage::Outcome(Outcome::MethodNotAllowed { allow }) => allow,
            _ => &[],
        }
    }

    fn message(&self, path: &str) -> String {
        match self {
            ErrorPage::Outcome(Outcome::MethodNotAllowed { allow }) => {
                format!(
                    "{path} does not answer this method; it answers {}",
                    allow.join(", ")
                )
            }
            ErrorPage::Outcome(_) => format!("no route matches {path}"),
            ErrorPage::Failure(failure) => failure.to_string(),
        }
    }

    /// nixweb's own page for it; with `--dev`, a failure's page shows the request's `traces`.
    pub fn own(&self, id: &str, dev: bool, traces: &nixweb_app::trace::Traces) -> Response<Body> {
        match self {
            ErrorPage::Outcome(outcome) => render::own_outcome(outcome),
            ErrorPage::Failure(failure) => {
                render::failure_with_traces(failure, id, dev, Some(traces))
            }
        }
    }

    /// A 405 page of the app's still says which methods the route answers.
    pub fn add_allow(&self, response: &mut Response<Body>) {
        if !self.allow().is_empty() {
            render::set_allow(response, self.allow());
        }
    }
}

impl Nixweb {
    /// The app's response for `page`, if its route tree has a handler for that status and
    /// the handler answers.
    pub(crate) async fn error_page(
        &self,
        page: &ErrorPage,
        request: &Arc<Request>,
        asked: &Asked<'_>,
        id: &str,
    ) -> Option<ResponseValue> {
        if !page.app_may_answer() {
            return None;
        }
        let status = page.status().as_u16();
        let message = page.message(asked.uri.path());
        let mut with_error = Request::clone(request);
        with_error.error = serde_json::json!({
            "status": status,
            "message": if self.config().dev { Some(&message) } else { None },
            "allow": page.allow(),
        });
        let result = match self.admission.enter().await {
            Ok(_worker) => self
                .engine()
                .run_router(RouterCall {
                    mode: RouterMode::Error,
                    request: Arc::new(with_error),
                    timeout: self.config().eval_timeout.min(ERROR_PAGE_TIMEOUT),
                    state: None,
                    // The error page's own trace output, logged under the request's id.
                    traces: Arc::new(nixweb_app::trace::Traces::new(
                        id,
                        nixweb_app::trace::DEFAULT_LIMIT,
                    )),
                })
                .await
                .map_err(Failure::Engine),
            Err(_) => Err(Failure::QueueFull),
        };
        let failed = match result
            .and_then(|r| outcome::parse_outcome(&r).map_err(Failure::InvalidResponse))
        {
            Ok(Outcome::Response(value)) => {
                if value.writes.as_ref().is_some_and(|w| !w.is_empty()) {
                    tracing::warn!(target: "nixweb::request", id, "the app's {status} page asked for state writes; error pages cannot write, so they were dropped");
                }
                return Some(value);
            }
            Ok(Outcome::NoErrorPage) => return None,
            Ok(other) => format!("the router answered {other:?}"),
            Err(failure) => {
                crate::explain::in_app_terms(self.engine(), self.config().show_trace, failure)
                    .to_string()
            }
        };
        tracing::error!(
            target: "nixweb::request",
            id,
            "the app's {status} page failed, so nixweb's own was served: {failed} (the page was for: {message})"
        );
        None
    }
}
