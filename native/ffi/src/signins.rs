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

/// A batch: `{"Header":{...},"Records":[...]}` ([`BatchReply::to_json`]).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchReply<'a> {
    pub tenant: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
    #[serde(skip)]
    pub records: &'a [Record],
    pub done: bool,
    pub fetched: u64,
    pub pages: u64,
    pub tenants_done: u64,
    pub error: Option<Failure>,
}

impl BatchReply<'_> {
    /// The batch as JSON, its fields under `"Header"` ahead of `"Records"`: the module reads the
    /// header as one object, then each record once, in one pass. The records' own text goes in
    /// as it is (it is JSON already, and serialising a record again would mean parsing it again).
    pub fn to_json(&self) -> Result<String, String> {
        let header = serde_json::to_string(self).map_err(|e| e.to_string())?;
        let records = self.records.iter().map(|r| r.get().len() + 1).sum::<usize>();
        let mut json = String::with_capacity(header.len() + records + 32);
        json.push_str(r#"{"Header":"#);
        json.push_str(&header);
        json.push_str(r#","Records":["#);
        for (k, record) in self.records.iter().enumerate() {
            if k > 0 {
                json.push(',');
            }
            json.push_str(record.get());
        }
        json.push_str("]}");
        Ok(json)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn batch(records: Vec<Record>) -> Batch {
        Batch { tenant: Some("contoso.com".into()), tenant_id: None, records, failure: None, done: false, fetched: 2, pages: 1, tenants_done: 0 }
    }

    #[test]
    fn a_batch_carries_its_records_as_they_are() {
        let records = vec![
            Record::from_json(r#"{"Id":"a","Status":{"ErrorCode":0},"Note":"\"quoted\" é"}"#.into()).unwrap(),
            Record::from_json(r#"{"Id":"b","CreatedDateTime":"2024-05-01T10:00:00Z"}"#.into()).unwrap(),
        ];
        let json = BatchReply::from(&batch(records.clone())).to_json().unwrap();
        let read: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(read["Header"]["Tenant"], "contoso.com");
        assert_eq!(read["Header"]["Fetched"], 2);
        assert!(read["Header"]["Error"].is_null());
        assert!(json.starts_with(r#"{"Header":{"#), "the header comes first: {json}");
        let expected: Vec<Value> = records.iter().map(|r| serde_json::from_str(r.get()).unwrap()).collect();
        assert_eq!(read["Records"], Value::Array(expected));
        let empty: Value = serde_json::from_str(&BatchReply::from(&batch(Vec::new())).to_json().unwrap()).unwrap();
        assert_eq!(empty["Records"], json!([]));
    }
}
