//! JSON shapes of the sign-in answers (conversions only; the work is in the core).

use crate::reply::{Status, status_of};
use partnersecurity_core::Error;
use partnersecurity_core::signins::{Batch, ExportFormat, ExportProgress, ExportSummary, Record};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Failure {
    pub status: &'static str,
    pub code: String,
    pub message: String,
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        Self { status: status_name(status_of(e.kind())), code: e.code().unwrap_or_default(), message: e.to_string() }
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "Ok",
        Status::InvalidInput => "InvalidInput",
        Status::Authentication => "Authentication",
        Status::PermissionDenied => "PermissionDenied",
        Status::NotFound => "NotFound",
        Status::Throttled => "Throttled",
        Status::Network => "Network",
        Status::InvalidResponse => "InvalidResponse",
        Status::NotConnected => "NotConnected",
        Status::Cancelled => "Cancelled",
        Status::Storage => "Storage",
        Status::Internal => "Internal",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CursorOpened {
    pub cursor_id: String,
    /// For the caller to show before the records (see `SignInQuery::warnings`).
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchReply<'a> {
    pub tenant: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
    pub records: &'a [Record],
    pub done: bool,
    pub fetched: u64,
    pub pages: u64,
    pub tenants_done: u64,
    pub error: Option<Failure>,
}

impl<'a> From<&'a Batch> for BatchReply<'a> {
    fn from(b: &'a Batch) -> Self {
        Self {
            tenant: b.tenant.as_deref(),
            tenant_id: b.tenant_id.as_deref(),
            records: &b.records,
            done: b.done,
            fetched: b.fetched,
            pages: b.pages,
            tenants_done: b.tenants_done,
            error: b.failure.as_ref().map(Failure::from),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportStarted {
    pub export_id: String,
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProgressReply {
    pub records: u64,
    pub pages: u64,
    pub tenants_done: u64,
    pub tenants_failed: u64,
    pub done: bool,
    pub error: Option<Failure>,
}

impl From<&ExportProgress> for ProgressReply {
    fn from(p: &ExportProgress) -> Self {
        Self { records: p.records, pages: p.pages, tenants_done: p.tenants_done, tenants_failed: p.tenants_failed, done: p.done, error: p.error.as_deref().map(Failure::from) }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TenantFailureReply {
    pub tenant: String,
    #[serde(flatten)]
    pub failure: Failure,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryReply {
    pub path: String,
    pub format: ExportFormat,
    pub records: u64,
    pub pages: u64,
    pub records_this_run: u64,
    pub tenants: usize,
    pub duration_seconds: f64,
    pub resumed: bool,
    pub checkpoint: Option<String>,
    pub failures: Vec<TenantFailureReply>,
}

impl From<&ExportSummary> for SummaryReply {
    fn from(s: &ExportSummary) -> Self {
        Self {
            path: s.path.display().to_string(),
            format: s.format,
            records: s.records,
            pages: s.pages,
            records_this_run: s.records_this_run,
            tenants: s.tenants,
            duration_seconds: s.duration.as_secs_f64(),
            resumed: s.resumed,
            checkpoint: s.checkpoint.as_ref().map(|p| p.display().to_string()),
            failures: s.failures.iter().map(|f| TenantFailureReply { tenant: f.tenant.clone(), failure: Failure::from(f.error.as_ref()) }).collect(),
        }
    }
}
