//! Resumable export of sign-ins to JSON Lines or CSV.
//!
//! Next to the output file lives `<path>.checkpoint.json`: the query's fingerprint, each
//! tenant's windows and how far each was read (the `@odata.nextLink` after the last page
//! written), the records and pages written and the output's length. After every page the
//! records are written and flushed to disk first, then the checkpoint is replaced atomically
//! (temporary file + rename). Killed at any moment, the checkpoint describes a prefix of the
//! file: a rerun with resume cuts the file back to the checkpointed length and reads on from
//! the checkpointed links, so every record lands exactly once. The checkpoint is removed when
//! the export completes.

use super::fetch::{self, Context, Event, Position, SignInQuery, TenantPlan, WindowPlan};
use super::filter::{TimeRange, Upper};
use super::page::{Record, RecordNames};
use crate::error::{Error, Result};
use crate::spreadsheet;
use chrono::{DateTime, Duration as Span, SubsecRound, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    #[serde(alias = "jsonl", alias = "JSONL", alias = "JsonLines")]
    Jsonl,
    #[serde(alias = "csv", alias = "CSV")]
    Csv,
}

#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub query: SignInQuery,
    pub path: PathBuf,
    pub format: ExportFormat,
    /// Continue an interrupted export of the same query.
    pub resume: bool,
    /// Start over, replacing the output and any checkpoint.
    pub force: bool,
}

/// The CSV columns: the properties partner scripts look at most, flattened.
pub const CSV_COLUMNS: &[&str] = &[
    "CreatedDateTime",
    "UserPrincipalName",
    "UserId",
    "AppDisplayName",
    "AppId",
    "ClientAppUsed",
    "IpAddress",
    "Status.ErrorCode",
    "Status.FailureReason",
    "IsInteractive",
    "AuthenticationRequirement",
    "MfaDetail.AuthMethod",
    "ConditionalAccessStatus",
    "ResourceDisplayName",
    "ResourceId",
    "Id",
    "TenantId",
];

const CHECKPOINT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub version: u32,
    /// Hash of the query and format: a checkpoint only continues the export it belongs to.
    pub fingerprint: String,
    pub format: ExportFormat,
    pub started_at: DateTime<Utc>,
    /// Bytes of the output that the records below account for.
    pub file_length: u64,
    pub records: u64,
    pub pages: u64,
    pub tenants: Vec<TenantCheckpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantCheckpoint {
    pub tenant: Option<String>,
    pub windows: Vec<WindowCheckpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowCheckpoint {
    pub window: WindowPlan,
    pub records: u64,
    pub pages: u64,
}

/// A tenant that could not be exported (the others were).
#[derive(Debug, Clone)]
pub struct TenantFailure {
    pub tenant: String,
    pub error: Arc<Error>,
}

#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub format: ExportFormat,
    /// Records in the output (earlier runs included when resumed).
    pub records: u64,
    pub pages: u64,
    pub records_this_run: u64,
    pub tenants: usize,
    pub failures: Vec<TenantFailure>,
    pub duration: std::time::Duration,
    pub resumed: bool,
    /// The checkpoint, kept when a tenant failed so a resume can retry it.
    pub checkpoint: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct ExportProgress {
    pub records: u64,
    pub pages: u64,
    pub tenants_done: u64,
    pub tenants_failed: u64,
    pub done: bool,
    pub error: Option<Arc<Error>>,
}

pub fn checkpoint_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".checkpoint.json");
    output.with_file_name(name)
}

fn fingerprint(query: &SignInQuery, format: ExportFormat) -> String {
    #[derive(Serialize)]
    struct Key<'a> {
        filter: &'a super::filter::SignInFilter,
        version: super::filter::ApiVersion,
        select: &'a [String],
        tenants: Vec<String>,
        format: ExportFormat,
    }
    let key = Key { filter: &query.filter, version: query.version, select: &query.select, tenants: query.tenants.iter().map(|t| t.to_ascii_lowercase()).collect(), format };
    let bytes = serde_json::to_vec(&key).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// A file operation that failed: what, where, the system's reason, and what to do.
fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    let mut action = what.to_owned();
    if let Some(first) = action.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    Error::Storage {
        path: path.display().to_string(),
        action,
        reason: e.to_string(),
        advice: "Check the -Path folder, its permissions and its free space, then run the command again.".into(),
    }
}

/// A write that failed once pages were being exported: the checkpoint still describes what
/// reached the disk, so the export continues from there.
fn resumable(error: Error) -> Error {
    match error {
        Error::Storage { path, action, reason, .. } => Error::Storage {
            path,
            action,
            reason,
            advice: "Make room (or fix the permissions), then run the same command with -Resume: the checkpoint keeps every page written so far, and nothing is lost or written twice.".into(),
        },
        other => other,
    }
}

/// Most events written between two flushes (and checkpoints) when pages come faster than the
/// disk flushes: a kill loses at most this many pages' work, never a record.
const MAX_EVENTS_PER_FLUSH: usize = 32;

/// Writes `checkpoint` atomically: a temporary file, flushed, renamed over the old one.
fn save_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let bytes = serde_json::to_vec_pretty(checkpoint).map_err(|e| Error::Internal(format!("the checkpoint could not be serialised ({e})")))?;
    let written = File::create(&tmp).and_then(|mut file| {
        file.write_all(&bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        // The checkpoint before stays as it was; half a new one is no use to anyone.
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(&tmp, "writing the checkpoint", e));
    }
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, "replacing the checkpoint", e))
}

fn load_checkpoint(path: &Path) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, "reading the checkpoint", e))?;
    let checkpoint: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| Error::invalid_input("Resume", format!("the checkpoint '{}' cannot be read ({e}); use -Force to start over", path.display())))?;
    if checkpoint.version != CHECKPOINT_VERSION {
        return Err(Error::invalid_input("Resume", format!("the checkpoint '{}' was written by another version (format {}); use -Force to start over", path.display(), checkpoint.version)));
    }
    Ok(checkpoint)
}

/// A value as one CSV cell; text as [`spreadsheet::text_cell`] keeps it.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => if *b { "True".into() } else { "False".into() },
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => spreadsheet::text_cell(s).into_owned(),
        Some(other) => other.to_string(),
    }
}

fn lookup<'a>(record: &'a serde_json::Map<String, Value>, column: &str) -> Option<&'a Value> {
    let mut parts = column.split('.');
    let mut value = record.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// What a JSONL line adds to its record besides the tenant id's JSON text: `,"TenantId":`, and
/// the newline after the record's own closing brace.
const JSONL_ADDED_PER_RECORD: usize = r#","TenantId":"#.len() + 1;

fn encode_page(format: ExportFormat, records: &[Record], tenant_id: &str) -> Result<Vec<u8>> {
    // Sized from the page's own text: a fixed 2 KB a record reserved two thirds more than a v1.0
    // page takes (about 1.2 KB a record), and the heap keeps such blocks for later pages.
    let text: usize = records.iter().map(|r| r.get().len()).sum();
    let out = match format {
        ExportFormat::Jsonl => {
            let tenant = serde_json::to_string(tenant_id).map_err(|e| Error::Internal(format!("a record could not be written ({e})")))?;
            let mut out = Vec::with_capacity(text + records.len() * (tenant.len() + JSONL_ADDED_PER_RECORD));
            for record in records {
                // The record is a compact JSON object: TenantId goes in before its closing brace.
                let text = record.get().trim_end();
                let body = text.strip_suffix('}').ok_or_else(|| Error::Internal("a sign-in record is not a JSON object".into()))?;
                out.extend_from_slice(body.as_bytes());
                if body.trim_end() != "{" {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"TenantId\":");
                out.extend_from_slice(tenant.as_bytes());
                out.extend_from_slice(b"}\n");
            }
            out
        }
        ExportFormat::Csv => {
            // A row holds a part of its record.
            let mut out = Vec::with_capacity(text / 2);
            let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(&mut out);
            for record in records {
                let record = super::page::fields(record);
                let row: Vec<String> = CSV_COLUMNS.iter().map(|c| if *c == "TenantId" { tenant_id.to_owned() } else { cell(lookup(&record, c)) }).collect();
                writer.write_record(&row).map_err(|e| Error::Internal(format!("a CSV row could not be written ({e})")))?;
            }
            writer.flush().map_err(|e| Error::Internal(format!("a CSV row could not be written ({e})")))?;
            drop(writer);
            out
        }
    };
    Ok(out)
}

/// The byte order mark, then the column names.
fn csv_header() -> Vec<u8> {
    let mut out = spreadsheet::UTF8_BOM.as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let _ = writer.write_record(CSV_COLUMNS);
        let _ = writer.flush();
    }
    out
}

/// The output file and checkpoint, ready to be written.
struct Prepared {
    file: File,
    checkpoint: Checkpoint,
    checkpoint_path: PathBuf,
    resumed: bool,
}

/// Decides between a fresh start and a resume, and refuses to overwrite anything unasked.
fn prepare(request: &ExportRequest, query: &SignInQuery, now: DateTime<Utc>) -> Result<Prepared> {
    let path = &request.path;
    if path.as_os_str().is_empty() {
        return Err(Error::invalid_input("Path", "it is empty"));
    }
    if path.is_dir() {
        return Err(Error::invalid_input("Path", format!("'{}' is a folder; name a file", path.display())));
    }
    let cp_path = checkpoint_path(path);
    let fingerprint = fingerprint(query, request.format);
    let has_checkpoint = cp_path.exists();
    let has_output = path.exists();

    if request.resume && has_checkpoint && !request.force {
        let checkpoint = load_checkpoint(&cp_path)?;
        if checkpoint.fingerprint != fingerprint || checkpoint.format != request.format {
            return Err(Error::invalid_input(
                "Resume",
                format!("the checkpoint '{}' belongs to an export with other parameters (filters, tenants, properties or format); rerun with the same parameters, or use -Force to start over", cp_path.display()),
            ));
        }
        let mut file = OpenOptions::new().write(true).open(path).map_err(|e| io_error(path, "opening the output", e))?;
        let length = file.metadata().map_err(|e| io_error(path, "reading the output", e))?.len();
        if length < checkpoint.file_length {
            return Err(Error::invalid_input("Resume", format!("'{}' is shorter ({length} bytes) than its checkpoint records ({} bytes): it was changed since; use -Force to start over", path.display(), checkpoint.file_length)));
        }
        // Whatever was written after the last checkpoint is written again.
        file.set_len(checkpoint.file_length).map_err(|e| io_error(path, "truncating the output", e))?;
        file.seek(SeekFrom::End(0)).map_err(|e| io_error(path, "opening the output", e))?;
        return Ok(Prepared { file, checkpoint, checkpoint_path: cp_path, resumed: true });
    }
    if !request.force {
        if has_checkpoint {
            return Err(Error::invalid_input("Path", format!("an interrupted export of '{}' exists (checkpoint '{}'); use -Resume to continue it or -Force to start over", path.display(), cp_path.display())));
        }
        if has_output {
            let why = if request.resume { "there is no checkpoint to resume from (the export finished, or the file was not written by an export)" } else { "it already exists" };
            return Err(Error::invalid_input("Path", format!("'{}': {why}; use -Force to overwrite it", path.display())));
        }
    }
    if has_checkpoint {
        std::fs::remove_file(&cp_path).map_err(|e| io_error(&cp_path, "removing the old checkpoint", e))?;
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(Error::invalid_input("Path", format!("the folder '{}' does not exist", parent.display())));
    }
    let file = OpenOptions::new().write(true).create(true).truncate(true).open(path).map_err(|e| io_error(path, "creating the output", e))?;
    start_fresh(file, path, cp_path, query, fingerprint, request.format, now).inspect_err(|_| {
        // Nothing was exported: a file this run created goes again, so that "run the command
        // again" (the advice of a full disk) does not meet "it already exists". Only a plain
        // file, never what a link points to or a device.
        if !has_output && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
            let _ = std::fs::remove_file(path);
        }
    })
}

/// The header (CSV), the plan and the first checkpoint of an export that starts from nothing.
fn start_fresh(mut file: File, path: &Path, cp_path: PathBuf, query: &SignInQuery, fingerprint: String, format: ExportFormat, now: DateTime<Utc>) -> Result<Prepared> {
    let header = if format == ExportFormat::Csv { csv_header() } else { Vec::new() };
    file.write_all(&header).map_err(|e| io_error(path, "writing the output", e))?;
    file.sync_data().map_err(|e| io_error(path, "writing the output", e))?;
    // A range without an end is pinned to now, so a resume reads the same sign-ins.
    let range = query.filter.range();
    let pinned = TimeRange { from: range.from, to: range.to.or(Some(Upper::Before(now.trunc_subsecs(0) + Span::seconds(1)))) };
    // One window per tenant; its first page cuts it further (`Event::Planned`).
    let windows = vec![WindowCheckpoint { window: WindowPlan::start(pinned), records: 0, pages: 0 }];
    let tenants: Vec<Option<String>> = if query.tenants.is_empty() { vec![None] } else { query.tenants.iter().cloned().map(Some).collect() };
    let checkpoint = Checkpoint {
        version: CHECKPOINT_VERSION,
        fingerprint,
        format,
        started_at: now,
        file_length: header.len() as u64,
        records: 0,
        pages: 0,
        tenants: tenants.into_iter().map(|tenant| TenantCheckpoint { tenant, windows: windows.clone() }).collect(),
    };
    save_checkpoint(&cp_path, &checkpoint)?;
    Ok(Prepared { file, checkpoint, checkpoint_path: cp_path, resumed: false })
}

/// A running export: counters to poll, a way to stop it, and its outcome.
pub struct ExportJob {
    records: AtomicU64,
    pages: AtomicU64,
    tenants_done: AtomicU64,
    tenants_failed: AtomicU64,
    cancel: CancellationToken,
    outcome: watch::Sender<Option<std::result::Result<ExportSummary, Arc<Error>>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ExportJob {
    /// Checks the request, prepares the files and starts writing in the background.
    /// Errors about the files (exists, nothing to resume, other query) come back here.
    pub fn start(ctx: Context, request: ExportRequest) -> Result<Arc<ExportJob>> {
        let query = request.query.clone().validated()?;
        let prepared = prepare(&request, &query, Utc::now())?;
        let (outcome, _) = watch::channel(None);
        let job = Arc::new(ExportJob {
            records: AtomicU64::new(prepared.checkpoint.records),
            pages: AtomicU64::new(prepared.checkpoint.pages),
            tenants_done: AtomicU64::new(0),
            tenants_failed: AtomicU64::new(0),
            cancel: CancellationToken::new(),
            outcome,
            task: Mutex::new(None),
        });
        let worker = job.clone();
        let handle = tokio::spawn(async move {
            let result = worker.run(ctx, request, query, prepared).await.map_err(Arc::new);
            worker.outcome.send_replace(Some(result));
        });
        *job.task.lock() = Some(handle);
        Ok(job)
    }

    pub fn progress(&self) -> ExportProgress {
        let outcome = self.outcome.borrow();
        ExportProgress {
            records: self.records.load(Ordering::Relaxed),
            pages: self.pages.load(Ordering::Relaxed),
            tenants_done: self.tenants_done.load(Ordering::Relaxed),
            tenants_failed: self.tenants_failed.load(Ordering::Relaxed),
            done: outcome.is_some(),
            error: outcome.as_ref().and_then(|o| o.as_ref().err().cloned()),
        }
    }

    /// Asks the export to stop after the page it is writing; the checkpoint stays consistent.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The outcome, once the export ended. Dropping the wait does not stop the export.
    pub async fn wait(&self) -> std::result::Result<ExportSummary, Arc<Error>> {
        let mut rx = self.outcome.subscribe();
        let value = rx.wait_for(|o| o.is_some()).await.map_err(|_| Arc::new(Error::Internal("the export ended without an outcome".into())))?;
        value.clone().unwrap_or_else(|| Err(Arc::new(Error::Internal("the export ended without an outcome".into()))))
    }

    async fn run(&self, ctx: Context, request: ExportRequest, query: SignInQuery, prepared: Prepared) -> Result<ExportSummary> {
        let started = Instant::now();
        let Prepared { file, checkpoint, checkpoint_path, resumed } = prepared;
        let plans: Vec<TenantPlan> = checkpoint.tenants.iter().map(|t| TenantPlan { tenant: t.tenant.clone(), windows: t.windows.iter().map(|w| w.window.clone()).collect() }).collect();
        // The files carry the PartnerCenter module's names, whatever the query asked for.
        let query = SignInQuery { names: RecordNames::Pascal, ..query };
        let mut run = fetch::start(ctx, Arc::new(query), plans, fetch::Order::Arrival);
        let mut output = Output { file, checkpoint, checkpoint_path, path: request.path.clone() };
        let mut failures: Vec<TenantFailure> = Vec::new();
        let mut records_this_run = 0u64;
        loop {
            let event = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return Err(Error::Cancelled),
                event = run.events.recv() => event,
            };
            let Some(event) = event else { break };
            // With it, whatever else has arrived: one flush and one checkpoint for all of it (the
            // checkpoint still only ever describes records that are on disk).
            let mut batch = vec![event];
            while batch.len() < MAX_EVENTS_PER_FLUSH {
                match run.events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
            let mut to_write = Vec::with_capacity(batch.len());
            for event in batch {
                match event {
                    Event::TenantDone { .. } => {
                        self.tenants_done.fetch_add(1, Ordering::Relaxed);
                    }
                    Event::Failed { tenant, error, .. } => {
                        self.tenants_failed.fetch_add(1, Ordering::Relaxed);
                        failures.push(TenantFailure { tenant, error: Arc::new(error) });
                    }
                    // Encoded here: the blocking pool's threads only write (their allocations
                    // would live in malloc arenas of their own).
                    Event::Page(page) => to_write.push(Chunk::Page { bytes: encode_page(request.format, &page.records, &page.tenant_id)?, records: page.records.len() as u64, tenant_index: page.tenant_index, window: page.window, position: page.position, closes: page.closes }),
                    Event::Planned { tenant_index, windows } => to_write.push(Chunk::Planned { tenant_index, windows }),
                }
            }
            if to_write.is_empty() {
                continue;
            }
            // Writes and fsyncs block: they run off the runtime's workers, which meanwhile keep
            // the requests going.
            let (back, written) = tokio::task::spawn_blocking(move || {
                let written = output.write(to_write);
                (output, written)
            })
            .await
            .map_err(|e| Error::Internal(format!("the export's writer stopped ({e})")))?;
            output = back;
            let (records, pages) = written?;
            records_this_run += records;
            self.records.fetch_add(records, Ordering::Relaxed);
            self.pages.fetch_add(pages, Ordering::Relaxed);
        }
        let Output { checkpoint, checkpoint_path, path, .. } = output;
        let kept = if failures.is_empty() {
            std::fs::remove_file(&checkpoint_path).map_err(|e| io_error(&checkpoint_path, "removing the checkpoint", e))?;
            None
        } else {
            Some(checkpoint_path)
        };
        Ok(ExportSummary {
            path,
            format: request.format,
            records: checkpoint.records,
            pages: checkpoint.pages,
            records_this_run,
            tenants: checkpoint.tenants.len(),
            failures,
            duration: started.elapsed(),
            resumed,
            checkpoint: kept,
        })
    }
}

/// What a batch writes: a page, encoded, or a new plan for a tenant's windows.
enum Chunk {
    Page { bytes: Vec<u8>, records: u64, tenant_index: usize, window: usize, position: Position, closes: Option<usize> },
    Planned { tenant_index: usize, windows: Vec<WindowPlan> },
}

/// The output file and its checkpoint, written together.
struct Output {
    file: File,
    checkpoint: Checkpoint,
    checkpoint_path: PathBuf,
    path: PathBuf,
}

impl Output {
    /// Writes the pages of `batch`, flushes once, then checkpoints once (also for new plans).
    /// Gives the records and pages written. Blocking.
    fn write(&mut self, batch: Vec<Chunk>) -> Result<(u64, u64)> {
        let (mut wrote, mut planned, mut records, mut pages) = (false, false, 0u64, 0u64);
        for chunk in batch {
            match chunk {
                Chunk::Page { bytes, records: n, tenant_index, window, position, closes } => {
                    if let Err(e) = self.file.write_all(&bytes) {
                        // The pages before this one stand: the checkpoint says so if it can.
                        if wrote && self.file.sync_data().is_ok() {
                            let _ = save_checkpoint(&self.checkpoint_path, &self.checkpoint);
                        }
                        return Err(resumable(io_error(&self.path, "writing the output", e)));
                    }
                    wrote = true;
                    let checkpoint = &mut self.checkpoint;
                    checkpoint.file_length += bytes.len() as u64;
                    checkpoint.records += n;
                    checkpoint.pages += 1;
                    let windows = &mut checkpoint.tenants[tenant_index].windows;
                    // The other end of a window read from both ends, met by this page.
                    if let Some(other) = closes.and_then(|w| windows.get_mut(w)) {
                        other.window.position = Position::Done;
                    }
                    let window = &mut windows[window];
                    window.window.position = position;
                    window.records += n;
                    window.pages += 1;
                    records += n;
                    pages += 1;
                }
                Chunk::Planned { tenant_index, windows } => {
                    self.checkpoint.tenants[tenant_index].windows = windows.into_iter().map(|window| WindowCheckpoint { window, records: 0, pages: 0 }).collect();
                    planned = true;
                }
            }
        }
        if wrote {
            self.file.sync_data().map_err(|e| resumable(io_error(&self.path, "writing the output", e)))?;
        }
        if wrote || planned {
            save_checkpoint(&self.checkpoint_path, &self.checkpoint).map_err(resumable)?;
        }
        Ok((records, pages))
    }
}

impl Drop for ExportJob {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(value: Value) -> Record {
        Record::from_json(value.to_string()).unwrap()
    }

    #[test]
    fn csv_rows_flatten_and_defuse_formulas() {
        let record = raw(json!({
            "Id": "1", "CreatedDateTime": "2024-05-01T10:00:00Z", "UserPrincipalName": "=HYPERLINK(\"x\")@contoso.com",
            "Status": {"ErrorCode": 50126, "FailureReason": "Invalid, \"quoted\"\nreason"}, "IsInteractive": true,
            "MfaDetail": null, "ClientAppUsed": "Browser"
        }));
        let bytes = encode_page(ExportFormat::Csv, &[record], "tid-1").unwrap();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice());
        let row = reader.records().next().unwrap().unwrap();
        let at = |c: &str| row.get(CSV_COLUMNS.iter().position(|x| *x == c).unwrap()).unwrap().to_owned();
        assert_eq!(at("UserPrincipalName"), "'=HYPERLINK(\"x\")@contoso.com");
        assert_eq!(at("Status.ErrorCode"), "50126");
        assert_eq!(at("Status.FailureReason"), "Invalid, \"quoted\"\nreason");
        assert_eq!(at("IsInteractive"), "True");
        assert_eq!(at("MfaDetail.AuthMethod"), "");
        assert_eq!(at("TenantId"), "tid-1");
        assert_eq!(at("Id"), "1");
    }

    #[test]
    fn jsonl_is_one_record_per_line_with_the_tenant() {
        let bytes = encode_page(ExportFormat::Jsonl, &[raw(json!({"Id": "1", "Note": "line\nbreak"})), raw(json!({}))], "t\"x").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count(), 2);
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first, json!({"Id": "1", "Note": "line\nbreak", "TenantId": "t\"x"}));
        let second: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(second, json!({"TenantId": "t\"x"}));
    }

    #[test]
    fn a_jsonl_page_is_written_into_exactly_the_room_reserved_for_it() {
        let page: Vec<Record> = (0..50).map(|i| raw(json!({"Id": i.to_string(), "UserPrincipalName": format!("user{i}@contoso.com")}))).collect();
        let bytes = encode_page(ExportFormat::Jsonl, &page, "5c000001-0000-4000-8000-000000000000").unwrap();
        // Neither grown (reserved too little) nor left with room (too much).
        assert_eq!(bytes.len(), bytes.capacity());
    }

    #[test]
    fn checkpoint_sits_next_to_the_output() {
        assert_eq!(checkpoint_path(Path::new("/tmp/x/signins.jsonl")), PathBuf::from("/tmp/x/signins.jsonl.checkpoint.json"));
    }
}
