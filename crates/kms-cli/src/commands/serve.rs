//! `--metrics-addr`: `/healthz` and Prometheus `/metrics` of the daemon's
//! counters, on a small HTTP server beside the signing loop.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kms_signing::{Health, Metrics};

/// Binds `addr` now (so a taken port fails the start, not later) and serves
/// in the background.
pub(super) async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(render))
        .with_state(metrics);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics server stopped");
        }
    });
    Ok(bound)
}

async fn healthz(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    match m.health() {
        Health::Ok => (StatusCode::OK, "ok\n"),
        Health::Stale => (
            StatusCode::SERVICE_UNAVAILABLE,
            "stale: no cycle completed recently\n",
        ),
        Health::LedgerDown => (
            StatusCode::SERVICE_UNAVAILABLE,
            "degraded: the signing ledger does not answer; nothing is signed until it does\n",
        ),
    }
}

async fn render(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], m.render())
}
