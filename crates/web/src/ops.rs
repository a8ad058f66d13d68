//! Operations endpoints, served on every host before tenant resolution:
//! liveness, readiness (Postgres and Redis reachable, else 503) and
//! Prometheus metrics.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let postgres = match tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: postgres unreachable");
            "unreachable"
        }
        Err(_) => "timeout",
    };
    let redis = if !state.bus.is_distributed() {
        "not_configured"
    } else {
        match tokio::time::timeout(CHECK_TIMEOUT, state.bus.ping()).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: redis unreachable");
                "unreachable"
            }
            Err(_) => "timeout",
        }
    };
    let ready = postgres == "ok" && matches!(redis, "ok" | "not_configured");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": { "postgres": postgres, "redis": redis },
    });
    (status, Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    state.tenancy.pool.refresh_size().await;
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &state.metrics).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
