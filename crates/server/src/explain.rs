//! A failure of the app's code, said in the app's terms before it is logged or shown: which
//! handler the request went to and where that handler is defined (asked of the router in
//! its "route" mode, which resolves the request without running the handler), and Nix's
//! trace with nixweb's own frames left out unless `--show-trace` asks for them.

use crate::admission::Admission;
use crate::render::{Failure, Place};
use nixweb_app::engine::{Engine, EngineError, RouterCall, RouterMode};
use nixweb_app::report::{app_trace, HandlerRoute};
use nixweb_app::request::Request;
use std::sync::Arc;
use std::time::Duration;

/// Locating never takes longer than this: on an app whose route tree is itself what is
/// slow, it gives up rather than double the wait for the error.
const LOCATE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the server knows that the failure does not.
pub(crate) struct Context<'a> {
    pub engine: &'a dyn Engine,
    pub admission: &'a Admission,
    pub eval_timeout: Duration,
    pub show_trace: bool,
}

/// `failure` (one of the app's, see [`Failure::is_the_apps`]) with its place in the app.
pub(crate) async fn explain(
    context: &Context<'_>,
    request: &Arc<Request>,
    failure: Failure,
) -> Failure {
    let failure = in_app_terms(context.engine, context.show_trace, failure);
    let place = match locate(context, request).await {
        Some(Some(route)) => Place::Handler(route),
        // The router could not even resolve the request: the route tree itself failed.
        Some(None) | None => Place::RouteTree(context.engine.app_file().to_owned()),
    };
    Failure::InApp {
        place,
        failure: Box::new(failure),
    }
}

/// The handler `request` goes to: Some(None) when none answers it, None when the router
/// failed (or no worker was free to ask).
async fn locate(context: &Context<'_>, request: &Arc<Request>) -> Option<Option<HandlerRoute>> {
    // A worker like any evaluation: failing requests must not evaluate past the bound.
    let _worker = context.admission.enter().await.ok()?;
    let result = context
        .engine
        .run_router(RouterCall {
            mode: RouterMode::Route,
            request: request.clone(),
            timeout: context.eval_timeout.min(LOCATE_TIMEOUT),
            state: None,
            // What this evaluation traces, the failed one traced already.
            traces: Arc::new(nixweb_app::trace::Traces::unlogged()),
        })
        .await
        .ok()?;
    Some(HandlerRoute::from_router(&result))
}

/// An evaluation error with the app's frames only (unless `show_trace`), located at the
/// first place in the app's files it names; other failures as they are.
pub(crate) fn in_app_terms(engine: &dyn Engine, show_trace: bool, failure: Failure) -> Failure {
    let Failure::Engine(EngineError::Eval { message, location }) = failure else {
        return failure;
    };
    let Some(own) = engine.runtime_files() else {
        return Failure::Engine(EngineError::Eval { message, location });
    };
    let (message, in_app) = app_trace(&message, own, show_trace);
    // The engine's own pick, unless it is in nixweb's files.
    let engine_pick = location.filter(|at| !own.contains(&at.file));
    Failure::Engine(EngineError::Eval {
        message,
        location: in_app.or(engine_pick),
    })
}
