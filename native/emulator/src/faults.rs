//! Fault injection on the data endpoints (`/graph/...`, `/partnercenter/...`; never the token
//! service or the control plane), so clients can prove they survive a flaky cloud.
//!
//! Two triggers:
//! - the request header `x-emulator-fault: <kind>` (exact cases in tests; `none` suppresses
//!   random faults for that request; `slowBody; seconds=2` sets the trickle time);
//! - scenario `faults: {seed, rate, kinds, slowBodySeconds}` (or `POST /_emulator/faults`):
//!   the n-th data request gets a fault when `hash(seed, n)` falls under `rate`, of kind
//!   `kinds[hash(seed, n, 1) % len]`. Same seed and request sequence, same faults.
//!
//! Kinds: `http500`, `http502`, `http503`, `http504` (the service's error envelope for
//! 500/503 — 503 with `Retry-After: 1` — and a gateway's HTML page for 502/504; the handler
//! does not run), `reset` (the connection closes without any HTTP answer; the handler does
//! not run), `truncated` (the real response, but `Content-Length` is the full size and only
//! half the body is sent before the connection closes), `malformedJson` (a complete 200
//! whose body is cut JSON), `slowBody` (the real response trickled over N seconds).
//! Not among the default kinds, only when named: `http429` (Graph's `TooManyRequests`
//! without a `Retry-After` header, so the client has to choose its own back-off),
//! `http429RetryAfter` (the same with `Retry-After: 1`),
//! `unauthorized` (the service's 401 with
//! `WWW-Authenticate: Bearer error="invalid_token"`, as for a token revoked mid-flight or one
//! the service's clock finds expired; the handler does not run).
//!
//! A token-service outage is separate: spec `tokenOutage: N` makes the next N requests to any
//! token endpoint answer 503 `temporarily_unavailable` (AADSTS90033), as Entra ID does in an
//! incident; they are logged with the fault `tokenOutage`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::stream;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::signins::generator::{hash, mix};
use crate::state::AppState;

pub const HEADER: &str = "x-emulator-fault";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    Http500,
    Http502,
    Http503,
    Http504,
    Reset,
    Truncated,
    MalformedJson,
    SlowBody,
    Http429,
    Unauthorized,
    /// `http429RetryAfter`: the same 429 with `Retry-After: 1`, as Graph sends it when it knows.
    Http429RetryAfter,
    /// A token request refused during a token-service outage (not nameable: see `tokenOutage`).
    TokenOutage,
}

impl FaultKind {
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::Http504,
        FaultKind::Reset,
        FaultKind::Truncated,
        FaultKind::MalformedJson,
        FaultKind::SlowBody,
    ];

    /// Kinds a header or spec may name besides the defaults (never drawn unless named).
    const ON_REQUEST: [FaultKind; 3] = [
        FaultKind::Http429,
        FaultKind::Unauthorized,
        FaultKind::Http429RetryAfter,
    ];

    /// Every kind a header or spec may name.
    fn named() -> impl Iterator<Item = FaultKind> {
        Self::ALL.into_iter().chain(Self::ON_REQUEST)
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Http500 => "http500",
            FaultKind::Http502 => "http502",
            FaultKind::Http503 => "http503",
            FaultKind::Http504 => "http504",
            FaultKind::Reset => "reset",
            FaultKind::Truncated => "truncated",
            FaultKind::MalformedJson => "malformedJson",
            FaultKind::SlowBody => "slowBody",
            FaultKind::Http429 => "http429",
            FaultKind::Unauthorized => "unauthorized",
            FaultKind::Http429RetryAfter => "http429RetryAfter",
            FaultKind::TokenOutage => "tokenOutage",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::named().find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

/// Scenario `faults` (also the body of `POST /_emulator/faults`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub seed: u64,
    /// Share of data requests that get a fault, 0..=1.
    pub rate: f64,
    #[serde(default = "all_kinds")]
    pub kinds: Vec<FaultKind>,
    #[serde(default = "default_slow")]
    pub slow_body_seconds: f64,
    /// Token requests (any tenant, v1 or v2) to refuse with 503 before the service recovers.
    #[serde(default)]
    pub token_outage: u32,
}

fn all_kinds() -> Vec<FaultKind> {
    FaultKind::ALL.to_vec()
}

fn default_slow() -> f64 {
    5.0
}

impl FaultSpec {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err("faults.rate must be between 0 and 1".to_owned());
        }
        if self.kinds.is_empty() {
            return Err("faults.kinds must not be empty".to_owned());
        }
        if !(0.0..=120.0).contains(&self.slow_body_seconds) {
            return Err("faults.slowBodySeconds must be between 0 and 120".to_owned());
        }
        Ok(())
    }
}

/// Marks a response a fault produced, for the request log.
#[derive(Debug, Clone, Copy)]
pub struct FaultMarker(pub FaultKind);

#[derive(Debug, Default)]
pub struct FaultInjector {
    spec: Mutex<Option<FaultSpec>>,
    /// Data requests seen so far (the sequence number seeded faults are drawn from).
    seq: AtomicU64,
    /// Token requests still to refuse (`tokenOutage`).
    token_outage: AtomicU32,
}

impl FaultInjector {
    pub fn new(spec: Option<FaultSpec>) -> Self {
        let outage = spec.as_ref().map_or(0, |s| s.token_outage);
        Self {
            spec: Mutex::new(spec),
            seq: AtomicU64::new(0),
            token_outage: AtomicU32::new(outage),
        }
    }

    pub fn spec(&self) -> Option<FaultSpec> {
        self.spec.lock().clone()
    }

    /// Replaces the random faults (`None`: off) and restarts the sequence.
    pub fn set(&self, spec: Option<FaultSpec>) {
        let outage = spec.as_ref().map_or(0, |s| s.token_outage);
        *self.spec.lock() = spec;
        self.seq.store(0, Ordering::SeqCst);
        self.token_outage.store(outage, Ordering::SeqCst);
    }

    /// `true` when this token request falls into the outage (and counts it).
    fn token_request_refused(&self) -> bool {
        self.token_outage
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The random fault, if any, for the next data request.
    fn draw(&self) -> Option<(FaultKind, f64)> {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let spec = self.spec.lock().clone()?;
        let h = hash(&[spec.seed, n]);
        let unit = (h >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= spec.rate {
            return None;
        }
        let k = mix(h ^ 1) as usize % spec.kinds.len();
        Some((spec.kinds[k], spec.slow_body_seconds))
    }
}

/// `kind` or `kind; seconds=N`; `Ok(None)` for `none`.
fn parse_header(value: &str, default_slow: f64) -> Result<Option<(FaultKind, f64)>, String> {
    let mut parts = value.split(';').map(str::trim);
    let name = parts.next().unwrap_or_default();
    if name.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let kind = FaultKind::parse(name).ok_or_else(|| {
        format!(
            "unknown {HEADER} '{name}'; use none or one of {}",
            FaultKind::named()
                .map(FaultKind::name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let mut seconds = default_slow;
    for p in parts {
        match p.split_once('=') {
            Some(("seconds", v)) => {
                seconds = v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| (0.0..=120.0).contains(s))
                    .ok_or_else(|| format!("{HEADER}: bad seconds '{v}' (0..120)"))?;
            }
            _ => return Err(format!("{HEADER}: unknown parameter '{p}'")),
        }
    }
    Ok(Some((kind, seconds)))
}

fn is_data_path(path: &str) -> bool {
    path.starts_with("/graph/") || path.starts_with("/partnercenter/")
}

fn is_token_path(path: &str) -> bool {
    path.ends_with("/oauth2/v2.0/token") || path.ends_with("/oauth2/token")
}

/// The middleware (installed on the whole router; it only acts on data paths).
pub async fn inject(State(st): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if is_token_path(&path) && st.faults.token_request_refused() {
        tracing::info!(%path, "injecting a token-service outage");
        let meta = crate::sts::errors::RequestMeta {
            correlation_id: uuid::Uuid::new_v4().to_string(),
            now: st.clock.now(),
            base_url: st.base_url.clone(),
        };
        let mut response = crate::sts::errors::StsError::temporarily_unavailable().render(&meta);
        response
            .extensions_mut()
            .insert(FaultMarker(FaultKind::TokenOutage));
        return response;
    }
    if !is_data_path(&path) {
        return next.run(request).await;
    }
    let header = request
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let random = st.faults.draw();
    let chosen = match header {
        Some(v) => match parse_header(&v, random.map_or(default_slow(), |r| r.1)) {
            Ok(c) => c,
            Err(message) => {
                return (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response();
            }
        },
        None => random,
    };
    let Some((kind, slow_seconds)) = chosen else {
        return next.run(request).await;
    };
    tracing::info!(%path, fault = kind.name(), "injecting fault");
    let graph = path.starts_with("/graph/");
    let mut response = match kind {
        FaultKind::Http500 | FaultKind::Http503 => service_error(&st, kind, graph),
        FaultKind::Http502 | FaultKind::Http504 => gateway_error(kind),
        FaultKind::Reset => reset(),
        FaultKind::Unauthorized => unauthorized(&st, graph),
        FaultKind::Http429 => too_many_requests(&st, graph),
        FaultKind::Http429RetryAfter => {
            let mut response = too_many_requests(&st, graph);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        // Never drawn for a data request (not nameable, not a default kind).
        FaultKind::TokenOutage => next.run(request).await,
        FaultKind::Truncated | FaultKind::MalformedJson | FaultKind::SlowBody => {
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let mut parts = parts;
            let body = match kind {
                FaultKind::Truncated => {
                    parts.headers.insert(
                        header::CONTENT_LENGTH,
                        HeaderValue::from(bytes.len() as u64 + 1),
                    );
                    truncate(bytes)
                }
                FaultKind::MalformedJson => {
                    let mut cut = bytes[..bytes.len() * 2 / 3].to_vec();
                    cut.extend_from_slice(b"\x01<truncated");
                    parts.headers.remove(header::CONTENT_LENGTH);
                    Body::from(cut)
                }
                _ => {
                    parts.headers.insert(
                        header::CONTENT_LENGTH,
                        HeaderValue::from(bytes.len() as u64),
                    );
                    trickle(bytes, slow_seconds)
                }
            };
            Response::from_parts(parts, body)
        }
    };
    response.extensions_mut().insert(FaultMarker(kind));
    response
}

fn service_error(st: &AppState, kind: FaultKind, graph: bool) -> Response {
    let (status, code, message) = match kind {
        FaultKind::Http503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry after a while.",
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "UnknownError",
            "An internal server error occurred.",
        ),
    };
    let body = if graph {
        graph_error(st, code, message)
    } else {
        json!({"code": status.as_u16().to_string(), "description": message, "data": [], "source": "PartnerFD"})
    };
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// The service's answer to a bearer token it refuses, with the `invalid_token` challenge.
fn unauthorized(st: &AppState, graph: bool) -> Response {
    let body = if graph {
        graph_error(st, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
    } else {
        json!({"code": "400", "description": "Access denied", "data": [], "source": "PartnerFD"})
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        crate::bearer::challenge(st, &crate::bearer::BearerError::Expired),
    );
    response
}

/// Graph's error envelope (api-contracts §3.6).
fn graph_error(st: &AppState, code: &str, message: &str) -> serde_json::Value {
    let request_id = uuid::Uuid::new_v4().to_string();
    json!({"error": {"code": code, "message": message, "innerError": {
        "date": st.clock.now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "request-id": request_id,
        "client-request-id": request_id,
    }}})
}

/// A 429 without `Retry-After`: the client must back off on its own.
fn too_many_requests(st: &AppState, graph: bool) -> Response {
    let body = if graph {
        graph_error(st, "TooManyRequests", "Too many requests.")
    } else {
        json!({"code": "429", "description": "Too many requests", "data": [], "source": "PartnerFD"})
    };
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}

fn gateway_error(kind: FaultKind) -> Response {
    let (status, title) = match kind {
        FaultKind::Http502 => (StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        _ => (StatusCode::GATEWAY_TIMEOUT, "504 Gateway Timeout"),
    };
    let html =
        format!("<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>");
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A response whose body fails before the first byte: hyper then drops the connection
/// without writing the status line (the head is only flushed with the first body bytes).
fn reset() -> Response {
    let failing = stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::from_stream(failing))
        .unwrap_or_default()
}

/// The first half of `bytes`, then the end of the stream. The pause lets hyper flush what it
/// has before it notices the body is shorter than `Content-Length` and drops the connection.
fn truncate(bytes: Bytes) -> Body {
    let half = bytes.slice(..bytes.len() / 2);
    let s = stream::unfold(Some(half), |state| async move {
        match state {
            Some(half) => Some((Ok::<Bytes, std::io::Error>(half), None)),
            None => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                None
            }
        }
    });
    Body::from_stream(s)
}

/// The body in ten chunks a second, spread over `seconds`.
fn trickle(bytes: Bytes, seconds: f64) -> Body {
    let chunks = ((seconds * 10.0).ceil() as usize).clamp(1, 1200);
    let size = bytes.len().div_ceil(chunks).max(1);
    let pause = Duration::from_secs_f64(seconds / chunks as f64);
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|start| bytes.slice(start..(start + size).min(bytes.len())))
        .collect();
    let s = stream::unfold(
        (pieces.into_iter(), true),
        move |(mut it, first)| async move {
            let piece = it.next()?;
            if !first {
                tokio::time::sleep(pause).await;
            }
            Some((Ok::<Bytes, std::io::Error>(piece), (it, false)))
        },
    );
    Body::from_stream(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        assert_eq!(parse_header("none", 5.0), Ok(None));
        assert_eq!(
            parse_header("http503", 5.0),
            Ok(Some((FaultKind::Http503, 5.0)))
        );
        assert_eq!(
            parse_header("slowBody; seconds=1.5", 5.0),
            Ok(Some((FaultKind::SlowBody, 1.5)))
        );
        assert!(parse_header("teapot", 5.0).is_err());
        assert!(parse_header("slowBody; minutes=1", 5.0).is_err());
    }

    #[test]
    fn seeded_draws_repeat() {
        let spec = FaultSpec {
            seed: 42,
            rate: 0.3,
            kinds: all_kinds(),
            slow_body_seconds: 1.0,
            token_outage: 0,
        };
        let a = FaultInjector::new(Some(spec.clone()));
        let b = FaultInjector::new(Some(spec));
        let da: Vec<_> = (0..200).map(|_| a.draw().map(|d| d.0)).collect();
        let db: Vec<_> = (0..200).map(|_| b.draw().map(|d| d.0)).collect();
        assert_eq!(da, db);
        let hits = da.iter().filter(|d| d.is_some()).count();
        assert!((30..=90).contains(&hits), "{hits}");
    }
}
