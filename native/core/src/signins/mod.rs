//! Sign-in activity: Microsoft Graph `auditLogs/signIns` (v1.0 and beta).
//!
//! - [`filter`]: the typed filter and its OData text (UTC dates, escaped literals);
//! - [`page`]: one page, its records in the Graph SDK's shape, the `nextLink` rule, Graph's errors;
//! - [`limiter`]: the per (tenant, application) request budget;
//! - [`fetch`]: time-windowed, concurrent, throttled paging with ordered, bounded output;
//! - [`export`]: resumable JSONL/CSV export with checkpoints.
//!
//! [`SignInLogs`] keeps what outlives one call: the budgets, open cursors and running exports.

pub mod export;
pub mod fetch;
pub mod filter;
pub mod limiter;
pub mod page;

pub use export::{ExportFormat, ExportJob, ExportProgress, ExportRequest, ExportSummary, TenantFailure};
pub use fetch::{Context, Event, FetchOptions, SignInQuery};
pub use filter::{ApiVersion, EventType, Outcome, SignInFilter};
pub use limiter::{Budget, Limiters};
pub use page::{Record, RecordNames};

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Open cursors kept at most; opening another closes the oldest.
const MAX_CURSORS: usize = 256;
/// Finished exports whose outcome is kept for `wait`; older ones are forgotten.
const MAX_EXPORTS: usize = 64;

/// A batch of sign-ins from one tenant (a page), or that tenant's failure, or the end.
#[derive(Debug)]
pub struct Batch {
    /// The tenant as named by the caller (or the session's tenant id).
    pub tenant: Option<String>,
    /// Its id from the access token.
    pub tenant_id: Option<String>,
    pub records: Vec<Record>,
    /// The tenant failed; its earlier records stand, other tenants go on.
    pub failure: Option<Error>,
    /// Nothing more will come.
    pub done: bool,
    /// Records and pages delivered so far by this cursor, this batch included.
    pub fetched: u64,
    pub pages: u64,
    pub tenants_done: u64,
}

/// An open query whose pages are taken one call at a time.
pub struct Cursor {
    run: tokio::sync::Mutex<Option<fetch::Run>>,
    fetched: AtomicU64,
    pages: AtomicU64,
    tenants_done: AtomicU64,
    opened: u64,
}

impl Cursor {
    /// The next page (or tenant failure, or the end). Cancel-safe: a page is taken from the
    /// channel only when this call returns it, so a dropped call loses nothing.
    pub async fn next(&self) -> Batch {
        let mut guard = self.run.lock().await;
        loop {
            let event = match guard.as_mut() {
                Some(run) => run.events.recv().await,
                None => None,
            };
            let batch = |tenant: Option<String>, tenant_id: Option<String>, records: Vec<Record>, failure: Option<Error>, done: bool| Batch {
                tenant,
                tenant_id,
                records,
                failure,
                done,
                fetched: self.fetched.load(Ordering::Relaxed),
                pages: self.pages.load(Ordering::Relaxed),
                tenants_done: self.tenants_done.load(Ordering::Relaxed),
            };
            match event {
                Some(Event::Page(page)) => {
                    self.fetched.fetch_add(page.records.len() as u64, Ordering::Relaxed);
                    self.pages.fetch_add(1, Ordering::Relaxed);
                    return batch(Some(page.tenant), Some(page.tenant_id), page.records, None, false);
                }
                Some(Event::Failed { tenant, error, .. }) => {
                    self.tenants_done.fetch_add(1, Ordering::Relaxed);
                    return batch(Some(tenant), None, Vec::new(), Some(error), false);
                }
                Some(Event::TenantDone { .. }) => {
                    self.tenants_done.fetch_add(1, Ordering::Relaxed);
                }
                Some(Event::Planned { .. }) => {}
                None => {
                    *guard = None;
                    return batch(None, None, Vec::new(), None, true);
                }
            }
        }
    }
}

#[derive(Default)]
pub struct SignInLogs {
    limiters: Arc<Limiters>,
    cursors: Mutex<HashMap<String, Arc<Cursor>>>,
    exports: Mutex<Vec<(String, Arc<ExportJob>)>>,
    opened: AtomicU64,
}

impl SignInLogs {
    pub fn limiters(&self) -> Arc<Limiters> {
        self.limiters.clone()
    }

    /// Starts a query; its pages are read with [`SignInLogs::next`]. Needs a tokio runtime.
    pub fn open(&self, ctx: Context, query: SignInQuery) -> Result<String> {
        let query = query.validated()?;
        let plans = fetch::fresh_plans(&query);
        let run = fetch::start(ctx, Arc::new(query), plans, fetch::Order::NewestFirst);
        let id = uuid::Uuid::new_v4().to_string();
        let opened = self.opened.fetch_add(1, Ordering::Relaxed);
        let cursor = Arc::new(Cursor { run: tokio::sync::Mutex::new(Some(run)), fetched: AtomicU64::new(0), pages: AtomicU64::new(0), tenants_done: AtomicU64::new(0), opened });
        let mut cursors = self.cursors.lock();
        if cursors.len() >= MAX_CURSORS
            && let Some(oldest) = cursors.iter().min_by_key(|(_, c)| c.opened).map(|(k, _)| k.clone())
        {
            cursors.remove(&oldest);
        }
        cursors.insert(id.clone(), cursor);
        Ok(id)
    }

    pub async fn next(&self, id: &str) -> Result<Batch> {
        let cursor = self.cursors.lock().get(id).cloned().ok_or_else(|| unknown("sign-in cursor", id))?;
        let batch = cursor.next().await;
        if batch.done {
            self.cursors.lock().remove(id);
        }
        Ok(batch)
    }

    /// Stops a query and frees what it holds. `false` when it was not open.
    pub fn close(&self, id: &str) -> bool {
        self.cursors.lock().remove(id).is_some()
    }

    pub fn start_export(&self, ctx: Context, request: ExportRequest) -> Result<String> {
        let job = ExportJob::start(ctx, request)?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut exports = self.exports.lock();
        if exports.len() >= MAX_EXPORTS
            && let Some(i) = exports.iter().position(|(_, j)| j.progress().done)
        {
            exports.remove(i);
        }
        exports.push((id.clone(), job));
        Ok(id)
    }

    fn export(&self, id: &str) -> Result<Arc<ExportJob>> {
        self.exports.lock().iter().find(|(k, _)| k == id).map(|(_, j)| j.clone()).ok_or_else(|| unknown("export", id))
    }

    pub fn export_progress(&self, id: &str) -> Result<ExportProgress> {
        Ok(self.export(id)?.progress())
    }

    pub async fn wait_export(&self, id: &str) -> Result<std::result::Result<ExportSummary, Arc<Error>>> {
        let job = self.export(id)?;
        Ok(job.wait().await)
    }

    /// Stops an export after the page it is writing. `false` when it is not known.
    pub fn cancel_export(&self, id: &str) -> bool {
        match self.export(id) {
            Ok(job) => {
                job.cancel();
                true
            }
            Err(_) => false,
        }
    }
}

fn unknown(what: &str, id: &str) -> Error {
    Error::invalid_input("Id", format!("no {what} '{}' is open (it finished or was closed)", id.chars().take(40).collect::<String>()))
}
