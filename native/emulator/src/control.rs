//! Test hooks under `/_emulator/`. TEST-ONLY: they move time, revoke sessions and reveal every
//! secret value, so they answer loopback callers only (and the emulator binds loopback by
//! default anyway). Nothing like them exists in the real services.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/refresh-tokens/revoke", post(revoke_refresh_tokens))
        .route("/issued-tokens", get(issued_tokens))
        .route("/requests", get(requests).delete(clear_requests))
        .merge(crate::control_interactive::router())
        // Sign-in count, Graph settings (throttle, latency) and faults.
        .merge(crate::signins::hooks::router())
        .route_layer(middleware::from_fn(loopback_only))
}

async fn loopback_only(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "the emulator control plane answers loopback callers only"})),
        )
            .into_response();
    }
    next.run(request).await
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn clock(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"now": st.clock.now().to_rfc3339(), "offsetSeconds": st.clock.offset_seconds()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(
    State(st): State<AppState>,
    body: Result<Json<Advance>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(advance)) = body else {
        return bad_request("expected {\"seconds\": <non-negative integer>}");
    };
    let now = st.clock.advance(advance.seconds);
    tracing::info!(seconds = advance.seconds, "emulator clock advanced");
    Json(json!({"now": now.to_rfc3339(), "offsetSeconds": st.clock.offset_seconds()}))
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Revoke {
    user_id: String,
}

async fn revoke_refresh_tokens(
    State(st): State<AppState>,
    body: Result<Json<Revoke>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(revoke)) = body else {
        return bad_request("expected {\"userId\": \"<user object id>\"}");
    };
    let known = st
        .scenario
        .tenants
        .iter()
        .any(|t| t.user(&revoke.user_id).is_some());
    if !known {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no user with id {}", revoke.user_id)})),
        )
            .into_response();
    }
    let now = st.clock.now();
    let count = st.refresh_tokens.revoke_user(&revoke.user_id, now);
    tracing::info!(user_id = %revoke.user_id, count, "refresh tokens revoked");
    Json(json!({"userId": revoke.user_id, "tokensValidFrom": now.to_rfc3339(), "revokedRefreshTokens": count})).into_response()
}

async fn issued_tokens(State(st): State<AppState>) -> Json<Vec<String>> {
    Json(st.ledger.snapshot())
}

async fn requests(State(st): State<AppState>) -> Json<Vec<crate::request_log::RequestEntry>> {
    Json(st.requests.snapshot())
}

async fn clear_requests(State(st): State<AppState>) -> StatusCode {
    st.requests.clear();
    StatusCode::NO_CONTENT
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}
