//! A bounded log of recent client requests, served by `GET /_emulator/requests` so tests can
//! count calls (e.g. prove a cached token caused no token request).
//!
//! Entries hold the method, path, grant type, client id, status, `Retry-After` and a sign-in
//! page's added latency only: never a query string, other header or body value, because those
//! can carry secrets.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;

use crate::state::AppState;

const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEntry {
    pub seq: u64,
    /// Emulator-clock time the request arrived (before any page latency).
    pub time: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    /// 0 when the connection was dropped without an answer (`reset` fault).
    pub status: u16,
    /// The injected fault, if any (`faults`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
    /// Seconds of the answer's `Retry-After` (a throttled or unavailable service), so tests can
    /// prove the client waited that long before the next attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The latency a sign-in page was given (`pageLatencyMs`), in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// The latency the sign-in handler added to its page; travels to the log like
/// [`TokenRequestSummary`].
#[derive(Debug, Clone, Copy)]
pub struct PageLatency(pub std::time::Duration);

/// What the token endpoint reports about a request; it travels to the logging middleware as a
/// response extension because only the handler has parsed the form body.
#[derive(Debug, Clone, Default)]
pub struct TokenRequestSummary {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<RequestEntry>>,
    next_seq: AtomicU64,
}

impl RequestLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, mut entry: RequestEntry) {
        entry.seq = self.next_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut entries = self.entries.lock();
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn snapshot(&self) -> Vec<RequestEntry> {
        self.entries.lock().iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.entries.lock().clear();
    }
}

/// Records every request outside the control plane (which would only add noise to counts).
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    // When the request arrived (what a throttle counts), not when its answer was ready.
    let arrived = state.clock.now();
    let response = next.run(request).await;
    if path.starts_with("/_emulator/") {
        return response;
    }
    let summary = response
        .extensions()
        .get::<TokenRequestSummary>()
        .cloned()
        .unwrap_or_default();
    let fault = response
        .extensions()
        .get::<crate::faults::FaultMarker>()
        .map(|m| m.0);
    let latency_ms = response
        .extensions()
        .get::<PageLatency>()
        .map(|l| u64::try_from(l.0.as_millis()).unwrap_or(u64::MAX));
    let retry_after = response
        .headers()
        .get(axum::http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let status = match fault {
        Some(crate::faults::FaultKind::Reset) => 0,
        _ => response.status().as_u16(),
    };
    tracing::info!(%method, %path, status, grant_type = summary.grant_type.as_deref(), "request");
    state.requests.push(RequestEntry {
        seq: 0,
        time: arrived,
        method,
        path,
        grant_type: summary.grant_type,
        client_id: summary.client_id,
        status,
        fault: fault.map(crate::faults::FaultKind::name),
        retry_after,
        latency_ms,
    });
    response
}
