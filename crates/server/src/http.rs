//! The HTTP side: every request, whatever its path or method, goes to [`Nixweb::respond`].

use crate::Nixweb;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The axum router: one fallback handler, because the app's route tree does the routing.
pub fn router(app: Arc<Nixweb>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(app)
}

async fn handle(
    State(app): State<Arc<Nixweb>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: http::Request<Body>,
) -> http::Response<Body> {
    app.respond(request, Some(peer.ip())).await
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests under way.
pub async fn serve(listener: TcpListener, app: Arc<Nixweb>) -> std::io::Result<()> {
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler can be installed");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!(target: "nixweb", "shutting down");
}
