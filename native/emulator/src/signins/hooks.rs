//! Control-plane hooks for sign-ins, throttling and faults (merged into `/_emulator/`, so
//! loopback-only like the rest of it):
//!
//! - `GET /_emulator/signins/count?tenant=<id|domain>&filter=<odata>&version=<v1.0|beta>`:
//!   how many records the same query through Graph would return over all its pages (same
//!   retention window, same v1.0/beta event-type rule; `version` defaults to `beta`);
//! - `GET|POST /_emulator/graph/settings`: `{signInsThrottle, directoryThrottle, pageLatencyMs,
//!   signInsScanLimit, nextLinkBase}`; a POST changes only the keys it names (`signInsThrottle: null` turns
//!   throttling off) and a throttle it names forgets past requests;
//! - `GET|POST /_emulator/faults`: the random-fault spec (`null` turns it off); a POST
//!   restarts the fault sequence.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::catalog::{Order, Plan};
use super::{ApiVersion, Latency, window};
use crate::faults::FaultSpec;
use crate::graph::filter::Filter;
use crate::state::AppState;
use crate::throttle::ThrottleSpec;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signins/count", get(count))
        .route("/graph/settings", get(get_settings).post(set_settings))
        .route("/faults", get(get_faults).post(set_faults))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountQuery {
    tenant: String,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

async fn count(
    State(st): State<AppState>,
    query: Result<Query<CountQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected ?tenant=<id or domain>[&filter=<odata>][&version=v1.0|beta]",
        );
    };
    let version = match q.version.as_deref() {
        None => ApiVersion::Beta,
        Some(v) => match ApiVersion::parse(v) {
            Some(v) => v,
            None => return error(StatusCode::BAD_REQUEST, "version must be v1.0 or beta"),
        },
    };
    let Some(tenant) = st.scenario.tenant(&q.tenant) else {
        return error(StatusCode::NOT_FOUND, format!("no tenant {}", q.tenant));
    };
    let filter = match q
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, version))
        .transpose()
    {
        Ok(f) => f,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": {"code": e.code, "message": e.message}})),
            )
                .into_response();
        }
    };
    let tenant_id = tenant.id.clone();
    let now = st.clock.now();
    let state = st.clone();
    let counted = tokio::task::spawn_blocking(move || {
        let catalog = state.signins.tenant(&tenant_id)?;
        let w = window(catalog.premium, now);
        let plan = Plan::new(filter.as_ref(), version, Order::Desc, w);
        Some((catalog.count(&plan), catalog.total()))
    })
    .await;
    match counted {
        Ok(Some((n, total))) => Json(json!({
            "tenant": tenant.id,
            "version": version.segment(),
            "count": n,
            "total": total,
        }))
        .into_response(),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "count failed"),
    }
}

fn settings_json(st: &AppState) -> Value {
    json!({
        "signInsThrottle": st.signins.throttle.spec(),
        "directoryThrottle": st.signins.directory_throttle.spec(),
        "pageLatencyMs": st.signins.latency(),
        "signInsScanLimit": st.signins.scan_limit(),
        "nextLinkBase": st.signins.next_link_base(),
    })
}

async fn get_settings(State(st): State<AppState>) -> Json<Value> {
    Json(settings_json(&st))
}

async fn set_settings(
    State(st): State<AppState>,
    body: Result<Json<Map<String, Value>>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON object {signInsThrottle?, directoryThrottle?, pageLatencyMs?, signInsScanLimit?}",
        );
    };
    // Validate everything before changing anything.
    let mut throttle: Option<Option<ThrottleSpec>> = None;
    let mut directory: Option<Option<ThrottleSpec>> = None;
    let mut latency: Option<Latency> = None;
    let mut scan_limit: Option<u64> = None;
    let mut next_link_base: Option<Option<String>> = None;
    for (key, value) in body {
        match key.as_str() {
            "signInsThrottle" | "throttle" | "directoryThrottle" => {
                let spec: Option<ThrottleSpec> = match serde_json::from_value(value) {
                    Ok(s) => s,
                    Err(e) => return error(StatusCode::BAD_REQUEST, format!("{key}: {e}")),
                };
                if let Some(s) = &spec
                    && let Err(e) = s.validate()
                {
                    return error(StatusCode::BAD_REQUEST, format!("{key}: {e}"));
                }
                if key == "directoryThrottle" {
                    directory = Some(spec);
                } else {
                    throttle = Some(spec);
                }
            }
            "pageLatencyMs" => {
                let l: Latency = match serde_json::from_value(value) {
                    Ok(l) => l,
                    Err(e) => return error(StatusCode::BAD_REQUEST, format!("{key}: {e}")),
                };
                if let Err(e) = l.validate() {
                    return error(StatusCode::BAD_REQUEST, e);
                }
                latency = Some(l);
            }
            "signInsScanLimit" => match value.as_u64().filter(|n| *n > 0) {
                Some(n) => scan_limit = Some(n),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "signInsScanLimit must be a positive integer",
                    );
                }
            },
            "nextLinkBase" => match value {
                Value::Null => next_link_base = Some(None),
                Value::String(base) if url::Url::parse(&base).is_ok_and(|u| u.has_host()) => {
                    next_link_base = Some(Some(base.trim_end_matches('/').to_owned()));
                }
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "nextLinkBase must be an absolute URL (scheme and host) or null",
                    );
                }
            },
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown setting '{other}'"),
                );
            }
        }
    }
    if let Some(t) = throttle {
        st.signins.throttle.set(t);
    }
    if let Some(t) = directory {
        st.signins.directory_throttle.set(t);
    }
    if let Some(l) = latency {
        st.signins.set_latency(l);
    }
    if let Some(n) = scan_limit {
        st.signins.set_scan_limit(n);
    }
    if let Some(base) = next_link_base {
        st.signins.set_next_link_base(base);
    }
    tracing::info!("graph settings changed");
    Json(settings_json(&st)).into_response()
}

async fn get_faults(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"faults": st.faults.spec()}))
}

async fn set_faults(
    State(st): State<AppState>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {seed, rate, kinds?, slowBodySeconds?} or null",
        );
    };
    let spec: Option<FaultSpec> = match serde_json::from_value(body) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(s) = &spec
        && let Err(e) = s.validate()
    {
        return error(StatusCode::BAD_REQUEST, e);
    }
    st.faults.set(spec);
    tracing::info!("fault injection changed");
    Json(json!({"faults": st.faults.spec()})).into_response()
}
