//! Retrieval: a tenant's query starts as one window over the whole time range; its first page
//! shows how densely sign-ins lie in time and how long a page takes, and the rest of the range
//! is then cut into as many windows as keep the throttle budget busy (one for a small tenant,
//! up to `windows` for a large one: every window ends with a short page that costs a request).
//! Windows are paged concurrently, every request paced by the (tenant, application) throttle
//! budget. Pages come out per tenant either newest first (windows in order, each window's pages
//! in Graph's order: the same output on every run) or as they arrive (nothing waits; exports).
//! Newest first with room in the budget, a window whose own first page shows it holds more than
//! it was cut for is cut again into parts, read side by side and merged after it.
//! Memory stays bounded: each window buffers a few pages, and only a few windows run at once.
//! Exports under a tight budget read the range from both ends instead, handing the stretch between
//! the ends to windows where pages are too slow for two chains (see `fetch/both_ends.rs`).
//!
//! Failures that pass (5xx, a reset connection, a body cut short, broken JSON) are retried, each
//! attempt inside the budget; a 429 pauses the tenant's requests for its `Retry-After`. What does
//! not pass (licence, permission, a rejected filter) ends that tenant with an error that says
//! what to do; other tenants go on.

use super::filter::{ApiVersion, SignInFilter, TimeRange, Upper};
use super::limiter::{Budget, Limiter, Limiters};
use super::page::{self, Record, RecordNames};
use crate::auth::TokenResponse;
use crate::error::{Error, Result};
use crate::http::{self, HttpClients};
use crate::session::Session;
use chrono::{DateTime, Duration as Span, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::ops::Bound::Excluded;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

mod both_ends;

/// Graph's largest page.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Attempts for one page when failures pass (5xx, resets, cut bodies, broken JSON).
const MAX_ATTEMPTS: u32 = 8;
/// 429 answers accepted for one page before giving up.
const MAX_THROTTLED: u32 = 12;
/// Longest `Retry-After` obeyed; a longer one is capped (and the request then retried).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// How long Graph keeps sign-ins (Entra ID P1/P2): how far back a range without a start is cut
/// into windows, and the age of a start that gets a warning.
const RETENTION_DAYS: i64 = 30;

/// How a query runs. The defaults suit Graph's documented limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchOptions {
    /// `$top`: 1..=1000.
    pub page_size: u32,
    /// Most time windows a tenant's range is cut into (each adds at most one short page). At the
    /// budget's default or above, newest-first output may take more, up to 256, each small enough
    /// to be read ahead whole, and may cut a window into parts as it reads; a lower value holds
    /// for both orders (and no window is cut into parts).
    pub windows: u32,
    /// Windows of one tenant paged at the same time.
    pub concurrency: u32,
    /// Tenants queried at the same time.
    pub tenant_concurrency: u32,
    /// Requests per window per (tenant, application).
    pub budget: Budget,
    /// Pages a tenant's windows may read ahead of the newest-first merger, shared by the windows
    /// waiting their turn, nearest first. (As pages arrive, a tenant's pages wait in a channel of
    /// half as many, at most [`ARRIVAL_PAGES_WAITING`]: nothing there waits for a turn.) More than
    /// four tenants read at once share what four would hold (see `shared_among`).
    pub buffer_pages: u32,
}

impl Default for FetchOptions {
    /// Sized for Graph's documented budget (5 requests per 10 s).
    fn default() -> Self {
        Self::for_budget(Budget::default())
    }
}

impl FetchOptions {
    /// Defaults sized for `budget`: enough windows in flight that a page taking a few seconds
    /// does not leave a slot of the budget unused (at 5 per 10 s, 5 windows keep up with pages
    /// of up to 10 s), more for a larger budget, at most 16 (memory: each holds two pages).
    /// Every window ends with a short page that costs a request: a tight budget gets no more
    /// windows than it keeps in flight, a generous one twice as many, so that windows holding
    /// fewer sign-ins than others do not leave the rest idle.
    /// Windows waiting their turn in newest-first output read ahead up to 32 pages of a tenant in
    /// all, nearest window first (their requests are what fills the budget while the newest
    /// window pages alone, and the nearest are read next; with 16, 100 ms pages and a million
    /// sign-ins, the output waited on windows read one page at a time). A budget with room for
    /// more requests reads 64 ahead: the pages that wait for nearer windows' chains are as many as
    /// the pages per second times the time a chain takes, and at 100 ms pages and 16 requests in
    /// flight 32 held the output up (200,000 sign-ins: 4.3 -> 3.5 s), and 48 still did with
    /// windows of half a page (see [`split`]; core alone: 2.8-2.9 s with 48, 2.1-2.2 s with 64,
    /// 2.0-2.1 s with 96).
    /// Memory: 32 to 80 MB a tenant read at once under a tight budget, 64 to 160 MB otherwise
    /// (v1.0 to beta pages); beyond four tenants at once, what four would hold.
    pub fn for_budget(budget: Budget) -> Self {
        let concurrency = budget.requests.clamp(2, 16);
        let windows = if is_tight(budget) { concurrency } else { concurrency * 2 };
        let buffer_pages = if is_tight(budget) { 32 } else { 64 };
        Self { page_size: MAX_PAGE_SIZE, windows, concurrency, tenant_concurrency: 4, budget, buffer_pages }
    }

    pub fn validated(self) -> Result<Self> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(Error::invalid_input("PageSize", format!("it must be between 1 and {MAX_PAGE_SIZE}")));
        }
        if !(1..=256).contains(&self.windows) || !(1..=64).contains(&self.concurrency) || !(1..=256).contains(&self.tenant_concurrency) || !(1..=64).contains(&self.buffer_pages) {
            return Err(Error::invalid_input("ThrottleLimit", "windows (1-256), concurrency (1-64), tenant concurrency (1-256) and buffered pages (1-64) are out of range"));
        }
        Ok(Self { budget: self.budget.validated()?, ..self })
    }

    /// Whether the caller asked for fewer windows than the budget's default: a limit that holds
    /// (newest first then takes no more windows, nor cuts a window into parts).
    fn windows_limited(&self) -> bool {
        self.windows < Self::for_budget(self.budget).windows
    }
}

/// Requests per window up to which a budget is tight (Graph's is 5 per 10 s): every request
/// counts, and the run is shaped to waste none.
const TIGHT_BUDGET: u32 = 16;

fn is_tight(budget: Budget) -> bool {
    budget.requests <= TIGHT_BUDGET
}

/// Windows of one tenant a newest-first run reads at once under a tight budget: the one being
/// merged and the two after it. Three chains of 1-5 s pages fill 5 requests per 10 s; windows
/// further out only filled the read-ahead with far pages, and the merged window's chain then
/// paged alone (120 pages at 5 per 10 s: 89% of the budget used, 60 pages: 85%).
const TIGHT_NEWEST_FIRST_READING: usize = 3;

/// How many windows of one tenant read at once. Newest first with room in the budget, twice the
/// concurrency: the windows are cut to about a page each, so half the requests end a window with
/// a short page, and the merger waited a page time on a window's chain about 30 times in 200
/// pages (200,000 sign-ins at 100 ms a page, core alone: 4.1 -> 3.2 s, for 16 more requests in flight).
/// As pages arrive with room in the budget, twice the concurrency too, as far as the read-ahead
/// holds a page of each beside the pages waiting for the consumer (a window holds its page until
/// the consumer has room): with the default 32 windows, half of them waited for the other half's
/// nextLink chains, and the last ones paged alone (Export-PartnerSignInActivity, 200,000 sign-ins
/// at 100 ms a page: 2.3-2.6 -> 1.6-1.9 s, peak RSS unchanged within its noise).
fn windows_reading(options: &FetchOptions, order: Order) -> usize {
    let concurrency = options.concurrency.max(1) as usize;
    match order {
        Order::NewestFirst if is_tight(options.budget) => concurrency.min(TIGHT_NEWEST_FIRST_READING),
        Order::NewestFirst if !options.windows_limited() => concurrency * 2,
        Order::Arrival if !is_tight(options.budget) => {
            let room = (options.buffer_pages as usize).saturating_sub(arrival_pages_waiting(options));
            (concurrency * 2).min(room).max(concurrency)
        }
        _ => concurrency,
    }
}

/// What to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInQuery {
    pub filter: SignInFilter,
    pub version: ApiVersion,
    /// `$select` (Graph or PascalCase names); empty: every property.
    pub select: Vec<String>,
    /// Tenant ids or domains; empty: the session's own tenant.
    pub tenants: Vec<String>,
    pub options: FetchOptions,
    /// The names its records carry (exports always write PascalCase).
    #[serde(default)]
    pub names: RecordNames,
}

impl SignInQuery {
    /// Checks the query; returns it with normalised values.
    pub fn validated(mut self) -> Result<Self> {
        self.filter = self.filter.validated()?;
        self.options = self.options.validated()?;
        let mut select: Vec<String> = Vec::new();
        for p in &self.select {
            let p = p.trim();
            if p.is_empty() || p.len() > 100 || !p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::invalid_input("Property", format!("'{}' is not a sign-in property name (letters, digits and '_', e.g. UserPrincipalName)", p.chars().take(60).collect::<String>())));
            }
            let graph = page::camel(p);
            if !select.iter().any(|s| s.eq_ignore_ascii_case(&graph)) {
                select.push(graph);
            }
        }
        if !select.is_empty() {
            // Every record keeps its identity and time (ordering, exports, de-duplication).
            for required in ["createdDateTime", "id"] {
                if !select.iter().any(|s| s.eq_ignore_ascii_case(required)) {
                    select.insert(0, required.to_owned());
                }
            }
        }
        self.select = select;
        let mut tenants: Vec<String> = Vec::new();
        for t in &self.tenants {
            let t = t.trim().to_owned();
            if !t.is_empty() && !tenants.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                tenants.push(t);
            }
        }
        self.tenants = tenants;
        Ok(self)
    }

    /// What the caller should be told before reading (see [`SignInQuery::warnings_at`]).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings_at(Utc::now())
    }

    /// A range that starts before Graph's retention returns nothing from before it, which reads
    /// like a quiet tenant (the old cmdlet said nothing either): say so, and what keeps more. A
    /// day's grace, so that `(Get-Date).Date.AddDays(-30)` is not told what it asked for.
    pub fn warnings_at(&self, now: DateTime<Utc>) -> Vec<String> {
        let kept_since = now - Span::days(RETENTION_DAYS);
        match self.filter.start {
            Some(start) if start < kept_since - Span::days(1) => vec![format!(
                "-StartDate {} is more than {RETENTION_DAYS} days ago: Microsoft Graph keeps sign-ins for {RETENTION_DAYS} days, so none from before {} come back. To keep sign-ins longer, export them regularly (Export-PartnerSignInActivity -Resume) or send them to a Log Analytics workspace with the tenant's Entra diagnostic settings.",
                start.format("%Y-%m-%d %H:%M UTC"),
                kept_since.format("%Y-%m-%d %H:%M UTC")
            )],
            _ => Vec::new(),
        }
    }

    /// `$filter` for one window.
    pub fn filter_for(&self, range: &TimeRange) -> Result<Option<String>> {
        self.filter.odata(self.version, range)
    }
}

/// Where a window's paging stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Position {
    /// Not begun.
    Start,
    /// Pages were read; `next` is the `@odata.nextLink` to continue from. A window read from
    /// both ends also says how far this end has written (see `fetch/both_ends.rs`).
    After {
        next: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reached: Option<Reached>,
    },
    Done,
}

/// How far one end of a window read from both ends has written: every record beyond `second`
/// (newer for the newest-first end, older for the oldest-first end), and the records of `second`
/// itself named in `ids` (a page can end inside a second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reached {
    pub second: DateTime<Utc>,
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowPlan {
    pub range: TimeRange,
    pub position: Position,
    /// Read oldest first: the second end of a window read from both ends (see `fetch/both_ends.rs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ascending: bool,
    /// A window cut out of the stretch between the two ends of a window read from both ends:
    /// what those ends wrote in the seconds it shares with them, dropped when read again.
    #[serde(default, skip_serializing_if = "WrittenBeside::is_empty")]
    pub written: WrittenBeside,
}

impl WindowPlan {
    /// A window over `range`, newest first, not begun.
    pub fn start(range: TimeRange) -> Self {
        Self { range, position: Position::Start, ascending: false, written: WrittenBeside::default() }
    }
}

/// The marks of the two ends of a window read from both ends, beside a window cut out of the
/// stretch between them (see `fetch/both_ends.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenBeside {
    /// The newest-first end's mark: it wrote everything newer, and the ids it names at its second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer: Option<Reached>,
    /// The oldest-first end's mark: it wrote everything older, and the ids it names at its second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older: Option<Reached>,
}

impl WrittenBeside {
    pub fn is_empty(&self) -> bool {
        self.newer.is_none() && self.older.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantPlan {
    /// As the caller named it; `None`: the session's tenant.
    pub tenant: Option<String>,
    pub windows: Vec<WindowPlan>,
}

/// The plan of a fresh query: every tenant, one window over the whole range (cut further once
/// its first page is in, see [`split`]).
pub fn fresh_plans(query: &SignInQuery) -> Vec<TenantPlan> {
    let window = WindowPlan::start(query.filter.range());
    let tenants: Vec<Option<String>> = if query.tenants.is_empty() { vec![None] } else { query.tenants.iter().cloned().map(Some).collect() };
    tenants.into_iter().map(|tenant| TenantPlan { tenant, windows: vec![window.clone()] }).collect()
}

/// What a window's first page showed, for [`split`].
#[derive(Debug, Clone, Copy)]
pub struct FirstPage {
    /// Records on it (a full page: it had a nextLink).
    pub records: usize,
    /// The oldest record's `createdDateTime` (pages are newest first: the last record).
    pub oldest: DateTime<Utc>,
    /// How long the request took.
    pub latency: Duration,
}

/// Cuts what is left of `range` after its first page into windows, newest first: the first keeps
/// the page's nextLink and reads down to the first cut (records older than that are left to the
/// next window), the others start fresh. As many windows as keep the budget busy while pages take
/// `latency`, but never more than `options.windows`, nor more than half the pages left (each
/// window ends with a short page that costs a request). Cuts fall on whole seconds, as filters do.
pub fn split(range: TimeRange, first: FirstPage, options: &FetchOptions, order: Order, now: DateTime<Utc>) -> Vec<TimeRange> {
    let newest = range.to.map(Upper::time).unwrap_or(now).max(first.oldest);
    let low = range.from.unwrap_or(now - Span::days(RETENTION_DAYS));
    let covered = ((newest - first.oldest).num_milliseconds() as f64 / 1000.0).max(1.0);
    let remaining = (first.oldest - low).num_seconds();
    if remaining < 2 {
        return vec![range];
    }
    let pages_left = first.records as f64 / covered * remaining as f64 / f64::from(options.page_size.max(1));
    let budget = options.budget;
    let mut in_flight = chains_to_fill(budget, first.latency.as_secs_f64());
    if pages_left > f64::from(budget.requests) {
        // More pages than one budget window: a fast first page does not promise fast pages
        // after it (Graph's take 1-5 s), and one window alone would then leave the budget half
        // used. A second window costs at most one short page.
        in_flight = in_flight.max(2.0);
    }
    // One sample of the page time can mislead (a fast first page, slow ones after): a large
    // range gets a window per 20 pages anyway, whose short pages cost at most 2.5% more requests.
    let per_twenty = in_flight.max((pages_left / 20.0).floor());
    let wanted = match order {
        // Under a tight budget only the window being merged and the two after it read
        // ([`TIGHT_NEWEST_FIRST_READING`]), and the limiter serves the merged one first: the two
        // fill the read-ahead slowly, with what the budget leaves. Every window ends with a short
        // page that costs a request, so windows as long as the whole read-ahead by the first
        // page's density. At 5 per 10 s and 1-5 s a page, half that length and a window per 20
        // pages took 66 requests and 134 s for 60 pages, 127 and 261 s for 120; these took 61-63
        // and 126-129 s (126 s also where the first page showed a third of the average density,
        // so that windows held three times what was meant), 123-124 and 257-270 s.
        Order::NewestFirst if is_tight(budget) => in_flight.max((pages_left / f64::from(options.buffer_pages)).ceil()),
        // With room in the budget, pages too slow for one window to fill it: later windows wait
        // for the newest, and only what they read ahead fills the budget meanwhile, so windows
        // small enough to be read ahead whole, by twice the first page's density: the first page
        // covers the last hours of one day, which may hold half the day's average.
        Order::NewestFirst if in_flight > 1.0 => per_twenty.max((2.0 * pages_left / f64::from(options.buffer_pages + 1)).ceil()),
        _ => per_twenty,
    };
    // Newest first, a window longer than the read-ahead makes the output wait on its nextLink
    // chain (one page per page time): more windows then, each costing one short page, when the
    // limit is the budget's default. A lower limit is the caller's and holds.
    let most = match order {
        Order::NewestFirst if !options.windows_limited() => options.windows.max(NEWEST_FIRST_WINDOWS),
        _ => options.windows,
    };
    // Each window ends with a short page: a tight budget pays for it in time, so windows of at
    // least two pages. A budget with room for every page and a short page each pays nothing, and
    // newest first then gets windows of a page, or of half a page beyond a tight budget: the
    // first page's density (one part of one day) can be a third of the range's (a page read at
    // night showed 200,000 sign-ins over 28 days as 60 pages), and a window longer than meant
    // is read one page after another once merged (core alone, 100 ms pages: 3.2-3.3 s with
    // windows of a page, 2.1-2.2 s with half a page and 64 pages read ahead).
    let room_for_short_pages = f64::from(budget.requests) >= 2.0 * pages_left;
    let per_window = match order {
        Order::NewestFirst if room_for_short_pages && !is_tight(budget) => 0.5,
        Order::NewestFirst if room_for_short_pages => 1.0,
        _ => 2.0,
    };
    let count = wanted.min(f64::from(most)).min((pages_left / per_window).ceil()).min(remaining as f64).max(1.0) as i64;
    cut(range, first.oldest, remaining, count)
}

/// Request chains that keep `budget` busy while a page takes `latency` seconds: a chain sends
/// one request per page time, the budget allows `requests` per `window`. Half as many again, for
/// pages slower than the one timed.
pub(super) fn chains_to_fill(budget: Budget, latency: f64) -> f64 {
    (f64::from(budget.requests) * latency / budget.window.as_secs_f64().max(0.001) * 1.5).ceil()
}

/// Cuts `range` into `count` windows, newest first: the first from the range's upper end down to
/// `remaining` seconds / `count` below `oldest`, then equal steps. Cuts fall on whole seconds, as
/// filters do.
pub(super) fn cut(range: TimeRange, oldest: DateTime<Utc>, remaining: i64, count: i64) -> Vec<TimeRange> {
    if count <= 1 {
        return vec![range];
    }
    let step = remaining / count;
    let mut windows = Vec::with_capacity(count as usize);
    let mut upper = range.to;
    for k in 1..count {
        let cut = (oldest - Span::seconds(step * k)).trunc_subsecs(0);
        windows.push(TimeRange { from: Some(cut), to: upper });
        upper = Some(Upper::Before(cut));
    }
    windows.push(TimeRange { from: range.from, to: upper });
    windows
}

/// Pages a part of a newest-first window is cut to hold (see [`parts_of`]).
const PART_PAGES: f64 = 2.0;
/// Most parts a window is cut into.
const MAX_PARTS: usize = 16;

/// Cuts what is left of a newest-first window after its first page into parts of about
/// [`PART_PAGES`] pages each, by that page's density; the first part keeps the page's nextLink.
/// The tenant's windows are cut by its first page's density, but sign-ins come in waves (day and
/// night): a window may hold seven pages where two were meant, and its nextLink chain, one page
/// after another, then holds up the output (at 100 ms a page, a window of 7 pages made the
/// output wait 0.3 s, 4 s of 5 in all for 200 pages). Only with room in the budget: each part
/// ends with a short page that costs a request, which a tight budget pays for in time.
fn parts_of(range: TimeRange, page: &[Record], options: &FetchOptions, now: DateTime<Utc>) -> Vec<TimeRange> {
    let (Some(newest), Some(oldest)) = (page.first().and_then(Record::created), page.last().and_then(Record::created)) else {
        return vec![range];
    };
    if is_tight(options.budget) || options.windows_limited() {
        return vec![range];
    }
    let low = range.from.unwrap_or(now - Span::days(RETENTION_DAYS));
    let covered = ((newest - oldest).num_milliseconds() as f64 / 1000.0).max(1.0);
    let remaining = (oldest - low).num_seconds();
    if remaining < 2 {
        return vec![range];
    }
    let pages_left = page.len() as f64 / covered * remaining as f64 / f64::from(options.page_size.max(1));
    let count = (pages_left / PART_PAGES).ceil().min(MAX_PARTS as f64).min(remaining as f64).max(1.0) as i64;
    cut(range, oldest, remaining, count)
}

/// Most windows for newest-first output (the largest `windows` allowed): at 17 pages each,
/// 4,352 pages, 4.3 million sign-ins a tenant read ahead whole.
const NEWEST_FIRST_WINDOWS: u32 = 256;

/// How a run hands out each tenant's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first overall: windows in order, later windows reading ahead only a few pages.
    /// What a person reading the cmdlet's output expects.
    NewestFirst,
    /// As pages arrive: no window waits for an earlier one (exports, assessments).
    Arrival,
}

/// What a run hands out, in order per tenant.
#[derive(Debug)]
pub enum Event {
    /// A tenant's windows were cut anew (after the first page of a fresh window): these replace
    /// its windows, all at their start; the page events that follow index into them.
    Planned { tenant_index: usize, windows: Vec<WindowPlan> },
    Page(PageEvent),
    /// A tenant ended early; its earlier pages stand.
    Failed { tenant_index: usize, tenant: String, error: Error },
    TenantDone { tenant_index: usize, tenant: String },
}

#[derive(Debug)]
pub struct PageEvent {
    pub tenant_index: usize,
    /// As named by the caller, or the session's tenant id.
    pub tenant: String,
    /// The tenant id from the access token (`tid`).
    pub tenant_id: String,
    pub window: usize,
    pub records: Vec<Record>,
    /// Where the window stands after this page: what an export's checkpoint keeps. (Newest
    /// first, a window may be cut into parts as it reads, see `parts_of`; a part's page gives
    /// the part's position. Such runs are not resumed.)
    pub position: Position,
    /// A window read from both ends whose ends met with this page: the other end's window, done
    /// as well (its pages still on the way hold nothing new).
    pub closes: Option<usize>,
}

/// Everything a run needs from the connected session.
#[derive(Clone)]
pub struct Context {
    pub http: Arc<HttpClients>,
    pub session: Arc<Session>,
    pub limiters: Arc<Limiters>,
}

/// A running query. Dropping it stops every request it has out.
pub struct Run {
    pub events: mpsc::Receiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Run {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Events a run holds for a consumer that is busy (writing, making objects).
const EVENTS_WAITING: usize = 4;

/// Pages of a tenant that arrived and wait for the consumer (exports): a writer keeps up, so a
/// few cover the moments it flushes (16 were no faster, and a 200,000-sign-in export peaked 1-2 MB
/// higher, about the runs' noise). At most half the tenant's read-ahead (see `shared_among`).
pub const ARRIVAL_PAGES_WAITING: usize = 4;

/// Tenants read at once that each keep the whole read-ahead ([`FetchOptions::buffer_pages`]);
/// more share what this many would hold.
const TENANTS_WITH_WHOLE_READ_AHEAD: usize = 4;
/// The least read-ahead a tenant keeps when many are read at once.
const LEAST_READ_AHEAD: u32 = 4;

/// The query as each tenant of a run over `tenants` reads it. Up to four tenants at once, each
/// keeps the whole read-ahead; beyond that, each keeps its share of four tenants' (at least
/// [`LEAST_READ_AHEAD`] pages), so that a larger -ThrottleLimit does not multiply memory: 50
/// tenants at once held up to 32 pages each, 1,600 pages (4 GB of beta sign-ins), whenever the
/// pipeline read slower than Graph answered.
fn shared_among(query: Arc<SignInQuery>, tenants: usize) -> Arc<SignInQuery> {
    let at_once = (query.options.tenant_concurrency.max(1) as usize).min(tenants.max(1));
    if at_once <= TENANTS_WITH_WHOLE_READ_AHEAD {
        return query;
    }
    let whole = query.options.buffer_pages;
    let share = u32::try_from(whole as usize * TENANTS_WITH_WHOLE_READ_AHEAD / at_once).unwrap_or(whole);
    let mut shared = (*query).clone();
    shared.options.buffer_pages = share.max(LEAST_READ_AHEAD.min(whole));
    Arc::new(shared)
}

/// Pages of a tenant that may wait for the consumer as they arrive.
fn arrival_pages_waiting(options: &FetchOptions) -> usize {
    ARRIVAL_PAGES_WAITING.min((options.buffer_pages.max(2) / 2) as usize)
}

/// Starts `plans` of `query` (validated). Must be called inside a tokio runtime.
pub fn start(ctx: Context, query: Arc<SignInQuery>, plans: Vec<TenantPlan>, order: Order) -> Run {
    // Memory: per tenant, newest first, `buffer_pages` read ahead (pages an oldest-first end
    // holds count in it) plus what the window being merged has fetched; as pages arrive, at most
    // as many (pages waiting, and a page of each window reading; see `windows_reading`); this
    // channel a few more. A page is compact JSON (~1.2 MB at 1,000 v1.0 sign-ins, ~2.5 MB beta).
    // Many tenants at once share what four would hold.
    let query = shared_among(query, plans.len());
    let (tx, rx) = mpsc::channel(EVENTS_WAITING);
    let task = tokio::spawn(async move {
        let slots = Arc::new(tokio::sync::Semaphore::new(query.options.tenant_concurrency.max(1) as usize));
        let mut tenants = JoinSet::new();
        for (index, plan) in plans.into_iter().enumerate() {
            let (ctx, query, tx, slots) = (ctx.clone(), query.clone(), tx.clone(), slots.clone());
            tenants.spawn(async move {
                let Ok(_slot) = slots.acquire_owned().await else { return };
                let label = plan.tenant.clone().unwrap_or_else(|| ctx.session.tenant().to_owned());
                let event = match run_tenant(&ctx, &query, index, &label, plan, order, &tx).await {
                    Ok(()) => Event::TenantDone { tenant_index: index, tenant: label },
                    Err(error) => Event::Failed { tenant_index: index, tenant: label, error },
                };
                let _ = tx.send(event).await;
            });
        }
        drop(tx);
        while tenants.join_next().await.is_some() {}
    });
    Run { events: rx, task }
}

/// One tenant's requests: its token, its budget, its Graph endpoint.
struct Tenant {
    http: Arc<HttpClients>,
    session: Arc<Session>,
    /// `None`: the session's own tenant.
    tenant: Option<String>,
    label: String,
    tenant_id: String,
    scopes: Vec<String>,
    client: reqwest::Client,
    graph_endpoint: String,
    base: Url,
    limiter: Arc<Limiter>,
    names: RecordNames,
}

impl Tenant {
    /// A page of window `window` as the run hands it out; `closes` names the other end of a
    /// window read from both ends when this page met it (that end is done too).
    fn page_event(&self, tenant_index: usize, window: usize, records: Vec<Record>, position: Position, closes: Option<usize>) -> Event {
        Event::Page(PageEvent { tenant_index, tenant: self.label.clone(), tenant_id: self.tenant_id.clone(), window, records, position, closes })
    }

    async fn token(&self) -> Result<TokenResponse> {
        match &self.tenant {
            None => self.session.access_token(&self.http, &self.scopes).await,
            Some(t) => self.session.access_token_for_tenant(&self.http, t, &self.scopes).await,
        }
    }

    fn first_url(&self, query: &SignInQuery, range: &TimeRange) -> Result<(Url, Option<String>)> {
        self.first_url_in_order(query, range, false)
    }

    /// The first page's URL, oldest first when `ascending` (Graph's `$orderby` on createdDateTime).
    fn first_url_in_order(&self, query: &SignInQuery, range: &TimeRange, ascending: bool) -> Result<(Url, Option<String>)> {
        let filter = query.filter_for(range)?;
        let mut text = format!("{}/{}/auditLogs/signIns?", self.graph_endpoint, query.version.segment());
        let mut parts = Vec::new();
        if let Some(f) = &filter {
            parts.push(format!("$filter={}", encode(f)));
        }
        if ascending {
            parts.push(format!("$orderby={}", encode("createdDateTime asc")));
        }
        parts.push(format!("$top={}", query.options.page_size));
        if !query.select.is_empty() {
            parts.push(format!("$select={}", encode(&query.select.join(","))));
        }
        text.push_str(&parts.join("&"));
        let url = Url::parse(&text).map_err(|e| Error::invalid_input("Environment", format!("the Graph endpoint '{}' does not form a URL ({e})", self.graph_endpoint)))?;
        Ok((url, filter))
    }

    /// One page (its records and its `@odata.nextLink` as sent), retried while failures pass,
    /// every attempt inside the budget, ahead of waiting requests with a larger `priority`; and
    /// its page time: from the answered attempt's send to its page read. What a plan goes by,
    /// without the waits for the budget or a token (a tenant's first request also waits for its
    /// token, many at once for many tenants).
    async fn fetch(&self, url: &Url, filter: Option<&str>, priority: u32) -> Result<(Vec<Record>, Option<String>, Duration)> {
        let mut attempt = 0u32;
        let mut throttled = 0u32;
        // A refused token (expired by Graph's clock, revoked mid-run) is replaced once; a
        // second refusal of a fresh token is an authentication error.
        let mut renewed = false;
        loop {
            attempt += 1;
            let token = self.token().await?;
            http::confine(url, &self.graph_endpoint, token.claims.audience.as_deref())?;
            let secret = &token.access_token;
            let (outcome, sent) = {
                let _permit = self.limiter.acquire_with(priority).await;
                let sent = Instant::now();
                let outcome = http::send_once(url, &[secret], || {
                    self.client
                        .get(url.clone())
                        .bearer_auth(secret.expose())
                        .header("Accept", "application/json")
                        .header("client-request-id", uuid::Uuid::new_v4().to_string())
                })
                .await;
                (outcome, sent)
            };
            let wait = match outcome {
                Ok(answer) if (200..300).contains(&answer.status) => match page::read(&answer.body, url, self.names) {
                    Ok((records, next)) => return Ok((records, next, sent.elapsed())),
                    // A page cut short or garbled on the way: read it again.
                    Err(_) if attempt < MAX_ATTEMPTS => {
                        tracing::debug!(attempt, "sign-in page unreadable, retrying");
                        http::retry_delay(attempt)
                    }
                    Err(e) => return Err(retries_ran_out(e)),
                },
                Ok(answer) if answer.status == 429 && throttled < MAX_THROTTLED => {
                    throttled += 1;
                    attempt -= 1;
                    let wait = answer.retry_after.unwrap_or_else(|| http::retry_delay(throttled)).min(MAX_RETRY_AFTER);
                    tracing::debug!(tenant = %self.label, wait_ms = wait.as_millis() as u64, "sign-in request throttled");
                    self.limiter.pause(wait);
                    Duration::ZERO
                }
                Ok(answer) if answer.is_invalid_token() && !renewed => {
                    renewed = true;
                    attempt -= 1;
                    tracing::debug!(tenant = %self.label, "access token refused (invalid_token); getting a fresh one");
                    self.session.forget_access_token(self.tenant.as_deref(), &self.scopes, secret).await;
                    Duration::ZERO
                }
                Ok(answer) if http::is_transient(answer.status) && answer.status != 429 && attempt < MAX_ATTEMPTS => {
                    answer.retry_after.unwrap_or_else(|| http::retry_delay(attempt)).min(MAX_RETRY_AFTER)
                }
                Ok(answer) => {
                    let error = page::error(answer.status, &answer.body, answer.request_id.as_deref(), &self.label, filter);
                    return Err(if http::is_transient(answer.status) { retries_ran_out(error) } else { error });
                }
                Err(Error::Network { .. }) if attempt < MAX_ATTEMPTS => http::retry_delay(attempt),
                Err(e @ Error::Network { .. }) => return Err(retries_ran_out(e)),
                Err(e) => return Err(e),
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The last failure of a page whose attempts all failed, saying so: the export can be resumed
/// once the service recovers.
fn retries_ran_out(error: Error) -> Error {
    const GAVE_UP: &str = "the retries ran out (the page failed on every attempt); run the export again with -Resume once the service answers";
    match error {
        Error::Network { url, reason } => Error::Network { url, reason: format!("{reason}; {GAVE_UP}") },
        Error::InvalidResponse { url, reason } => Error::InvalidResponse { url, reason: format!("{reason}; {GAVE_UP}") },
        Error::Service { service, status, code, message } => Error::Service { service, status, code, message: format!("{message} ({GAVE_UP})") },
        other => other,
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters; a space is %20).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a page stands in newest-first output: its window, then its part of the window (0: the
/// window's own nextLink chain; see [`parts_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    window: usize,
    part: usize,
}

impl Place {
    fn window(window: usize) -> Self {
        Self { window, part: 0 }
    }

    /// The limiter's priority: nearer places go first.
    fn priority(self) -> u32 {
        u32::try_from(self.window * (MAX_PARTS + 1) + self.part.min(MAX_PARTS)).unwrap_or(u32::MAX)
    }
}

/// A window's (or part's) pages on their way to the tenant's merger.
type PagesOf = mpsc::Receiver<Result<WindowPage>>;
/// A part of a newest-first window and its pages.
type Part = (Place, PagesOf);

/// What a window of a newest-first run reads with, besides its channel.
struct Ahead {
    pool: Arc<ReadAhead>,
    place: Place,
    /// Counts the window as reading until its own pages are read (its parts count for themselves).
    _reading: ReadingWindow,
    /// Where the window says, after its first page, which parts it was cut into; `None` for a part.
    parts: Option<tokio::sync::oneshot::Sender<Vec<Part>>>,
}

/// A window's page on its way to the tenant's merger.
struct WindowPage {
    window: usize,
    records: Vec<Record>,
    position: Position,
    /// Held while the page waits for the merger (newest-first windows reading ahead).
    _read_ahead: Option<ReadAheadPermit>,
}

/// The pages a tenant's windows may read ahead of the newest-first merger, shared by all of them
/// and handed to the nearest window first: the window read next is the one whose pages keep
/// the output moving, so it should find them already there. A window leaves a permit free for
/// each nearer window still reading, which may be between two pages (its next page is worth
/// more than any page behind it: without the reserve, the far windows' first pages took every
/// permit and each window's later pages were read one by one once it was merged). The window
/// being merged reads without a permit (its pages are taken as they come, and waiting on pages
/// that later windows hold would never end).
struct ReadAhead {
    state: parking_lot::Mutex<ReadAheadState>,
    changed: tokio::sync::Notify,
}

struct ReadAheadState {
    free: usize,
    /// The window (or part) being merged; those before it are done.
    current: Place,
    /// Windows (and parts) waiting for a permit.
    waiting: std::collections::BTreeSet<Place>,
    /// Windows (and parts) started and not finished.
    reading: std::collections::BTreeSet<Place>,
}

struct ReadAheadPermit(Arc<ReadAhead>);

impl Drop for ReadAheadPermit {
    fn drop(&mut self) {
        self.0.state.lock().free += 1;
        self.0.changed.notify_waiters();
    }
}

impl ReadAhead {
    fn new(pages: usize) -> Arc<Self> {
        Arc::new(Self { state: parking_lot::Mutex::new(ReadAheadState { free: pages.max(1), current: Place::window(0), waiting: Default::default(), reading: Default::default() }), changed: tokio::sync::Notify::new() })
    }

    /// A permit for one page of `window`, or none once `window` is the one being merged.
    async fn reserve(self: &Arc<Self>, window: Place) -> Option<ReadAheadPermit> {
        struct Waiting<'a>(&'a ReadAhead, Place);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.state.lock().waiting.remove(&self.1);
                self.0.changed.notify_waiters();
            }
        }
        let _waiting = Waiting(self, window);
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut state = self.state.lock();
                if window <= state.current {
                    return None;
                }
                state.waiting.insert(window);
                let nearer = state.reading.range((Excluded(state.current), Excluded(window))).count();
                if state.free > nearer && state.waiting.first() == Some(&window) {
                    state.free -= 1;
                    return Some(ReadAheadPermit(self.clone()));
                }
            }
            changed.await;
        }
    }

    /// The merger has moved on to `window`.
    fn merging(&self, window: Place) {
        self.state.lock().current = window;
        self.changed.notify_waiters();
    }

    /// `window` starts reading; it counts as reading until the guard is dropped.
    fn reading(self: &Arc<Self>, window: Place) -> ReadingWindow {
        self.state.lock().reading.insert(window);
        ReadingWindow(self.clone(), window)
    }
}

/// A window of a newest-first run that has pages left to read (see [`ReadAhead::reading`]).
struct ReadingWindow(Arc<ReadAhead>, Place);

impl Drop for ReadingWindow {
    fn drop(&mut self) {
        self.0.state.lock().reading.remove(&self.1);
        self.0.changed.notify_waiters();
    }
}

async fn run_tenant(ctx: &Context, query: &Arc<SignInQuery>, index: usize, label: &str, plan: TenantPlan, order: Order, out: &mpsc::Sender<Event>) -> Result<()> {
    if plan.windows.iter().all(|w| w.position == Position::Done) {
        // A resumed export whose tenant was finished before: nothing to ask for.
        return Ok(());
    }
    let session = &ctx.session;
    let environment = session.environment();
    let graph_endpoint = environment.graph_endpoint.trim_end_matches('/').to_owned();
    let base = Url::parse(&format!("{graph_endpoint}/")).map_err(|e| Error::invalid_input("Environment", format!("the Graph endpoint '{graph_endpoint}' is not a URL ({e})")))?;
    http::require_secure_endpoint(&base)?;
    let scopes = vec![format!("{graph_endpoint}/.default")];
    let mut tenant = Tenant {
        http: ctx.http.clone(),
        session: session.clone(),
        tenant: plan.tenant.clone().filter(|t| !session.is_own_tenant(t)),
        label: label.to_owned(),
        tenant_id: String::new(),
        scopes,
        client: ctx.http.client(environment.trusted_certificate_pem.as_deref())?,
        graph_endpoint,
        base,
        limiter: Arc::new(Limiter::new(query.options.budget)),
        names: query.names,
    };
    // The first token says which tenant this really is (a domain or id as typed may differ).
    let token = tenant.token().await?;
    tenant.tenant_id = token.claims.tenant_id.clone().unwrap_or_else(|| label.to_owned());
    let key = format!("{}|{}|{}", tenant.base.host_str().unwrap_or_default(), tenant.tenant_id.to_ascii_lowercase(), session.application_id().to_ascii_lowercase());
    tenant.limiter = ctx.limiters.get(&key, query.options.budget);
    let tenant = Arc::new(tenant);

    let mut windows = plan.windows;
    let mut held = Vec::new();
    if both_ends::applies(&query.options, order, &windows) {
        let ended = both_ends::run(&tenant, query, index, windows, order, out).await?;
        held = ended.held;
        match ended.middle {
            Some(middle) => windows = middle,
            None => return both_ends::hand_out_held(held, out).await,
        }
    }
    if let [only] = windows.as_slice()
        && only.position == Position::Start
    {
        windows = first_page_then_split(&tenant, query, index, only.range, order, out).await?;
    }
    // The permit a read-ahead page holds is released here, as the page is handed on.
    let send = |page: WindowPage| out.send(tenant.page_event(index, page.window, page.records, page.position, None));
    let concurrency = windows_reading(&query.options, order);
    // What the oldest-first end holds counts against the read-ahead (it leaves the least).
    let buffer = (query.options.buffer_pages as usize).saturating_sub(held.len()).max(1);
    // The launcher runs beside the merger; dropping `background` (the merger failed, or this
    // tenant's task was aborted) aborts it and, with its own set, every window task.
    let mut background = JoinSet::new();
    match order {
        Order::NewestFirst => {
            let (queue_tx, mut queue_rx) = mpsc::channel::<(usize, PagesOf, tokio::sync::oneshot::Receiver<Vec<Part>>)>(concurrency.saturating_sub(1).max(1));
            let (tenant, query) = (tenant.clone(), query.clone());
            let read_ahead = ReadAhead::new(buffer);
            let pool = read_ahead.clone();
            background.spawn(async move {
                let mut running = JoinSet::new();
                for (w, plan) in windows.into_iter().enumerate().filter(|(_, p)| p.position != Position::Done) {
                    // Room for every page the window may hold: the permits are what limit it.
                    let (tx, rx) = mpsc::channel(buffer + 1);
                    let (parts_tx, parts_rx) = tokio::sync::oneshot::channel();
                    if queue_tx.send((w, rx, parts_rx)).await.is_err() {
                        break;
                    }
                    let ahead = Ahead { _reading: pool.reading(Place::window(w)), pool: pool.clone(), place: Place::window(w), parts: Some(parts_tx) };
                    running.spawn(run_window(tenant.clone(), query.clone(), w, plan, tx, Some(ahead)));
                }
                drop(queue_tx);
                while running.join_next().await.is_some() {}
            });
            while let Some((w, rx, parts)) = queue_rx.recv().await {
                read_ahead.merging(Place::window(w));
                // The window's own pages, then its parts' in order (none when it was not cut): the
                // window says which once its first page is in.
                let parts = parts.await.unwrap_or_default();
                for (place, mut rx) in std::iter::once((Place::window(w), rx)).chain(parts) {
                    read_ahead.merging(place);
                    while let Some(page) = rx.recv().await {
                        send(page?).await.map_err(|_| Error::Cancelled)?;
                    }
                }
            }
        }
        Order::Arrival => {
            let (tx, mut rx) = mpsc::channel::<Result<WindowPage>>(arrival_pages_waiting(&query.options));
            let (tenant, query) = (tenant.clone(), query.clone());
            background.spawn(async move {
                let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
                let mut running = JoinSet::new();
                for (w, plan) in windows.into_iter().enumerate().filter(|(_, p)| p.position != Position::Done) {
                    let Ok(slot) = slots.clone().acquire_owned().await else { break };
                    if tx.is_closed() {
                        break;
                    }
                    let (tenant, query, tx) = (tenant.clone(), query.clone(), tx.clone());
                    running.spawn(async move {
                        let _slot = slot;
                        run_window(tenant, query, w, plan, tx, None).await;
                    });
                }
                drop(tx);
                while running.join_next().await.is_some() {}
            });
            while let Some(page) = rx.recv().await {
                send(page?).await.map_err(|_| Error::Cancelled)?;
            }
        }
    }
    both_ends::hand_out_held(held, out).await
}

/// Reads the first page of a fresh window over `range`, then cuts the rest of the range (see
/// [`split`]). Hands out the new plan, then the page; returns the windows still to read (the
/// first continuing from the page's nextLink), none when the page was the last.
async fn first_page_then_split(tenant: &Tenant, query: &SignInQuery, index: usize, range: TimeRange, order: Order, out: &mpsc::Sender<Event>) -> Result<Vec<WindowPlan>> {
    let (url, filter) = tenant.first_url(query, &range)?;
    let (records, next, latency) = tenant.fetch(&url, filter.as_deref(), 0).await?;
    let Some(next) = next else {
        out.send(tenant.page_event(index, 0, records, Position::Done, None)).await.map_err(|_| Error::Cancelled)?;
        return Ok(Vec::new());
    };
    let ranges = match records.last().and_then(Record::created) {
        Some(oldest) => split(range, FirstPage { records: records.len(), oldest, latency }, &query.options, order, Utc::now()),
        None => vec![range],
    };
    let mut windows: Vec<WindowPlan> = ranges.into_iter().map(WindowPlan::start).collect();
    // The plan first, every window at its start: stopped between the two, a resume reads the
    // first window again from its start, and nothing is lost.
    out.send(Event::Planned { tenant_index: index, windows: windows.clone() }).await.map_err(|_| Error::Cancelled)?;
    let position = Position::After { next: next.clone(), reached: None };
    out.send(tenant.page_event(index, 0, records, position.clone(), None)).await.map_err(|_| Error::Cancelled)?;
    // The page's records stand; a link to another host ends the tenant with an error.
    page::follow(&next, &url)?;
    windows[0].position = position;
    Ok(windows)
}

/// Reads a window's pages into `tx`, then waits for the parts it was cut into, if any (see
/// [`parts_of`]): dropping the task stops them too.
async fn run_window(tenant: Arc<Tenant>, query: Arc<SignInQuery>, window: usize, plan: WindowPlan, tx: mpsc::Sender<Result<WindowPage>>, mut ahead: Option<Ahead>) {
    let mut parts = JoinSet::new();
    read_pages(&tenant, &query, window, plan, &tx, ahead.as_mut(), &mut parts).await;
    // The window's own pages are all out: the merger moves on to its parts.
    drop((tx, ahead));
    while parts.join_next().await.is_some() {}
}

/// A part of a newest-first window, read as a window of its own (a part is not cut again). Boxed
/// behind a named type: `run_window` spawns its parts, so its future would otherwise depend on
/// its own opaque type (a cycle the compiler rejects).
fn read_part(tenant: Arc<Tenant>, query: Arc<SignInQuery>, window: usize, range: TimeRange, tx: mpsc::Sender<Result<WindowPage>>, ahead: Ahead) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(run_window(tenant, query, window, WindowPlan::start(range), tx, Some(ahead)))
}

/// A window's own nextLink chain. Newest first, its first page may show that it holds more than
/// its windows were cut for: what is left below that page is then cut into parts, spawned into
/// `parts`, and the chain ends where the first part begins.
async fn read_pages(tenant: &Arc<Tenant>, query: &Arc<SignInQuery>, window: usize, mut plan: WindowPlan, tx: &mpsc::Sender<Result<WindowPage>>, mut ahead: Option<&mut Ahead>, parts: &mut JoinSet<()>) {
    let written = std::mem::take(&mut plan.written);
    let filter = match query.filter_for(&plan.range) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    let first = match plan.position {
        Position::Start => tenant.first_url(query, &plan.range).map(|(u, _)| u),
        Position::After { next, .. } => page::follow(&next, &tenant.base),
        Position::Done => return,
    };
    let mut url = match first {
        Ok(u) => u,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    let mut lower = plan.range.from;
    // Newest first, nearer windows' requests go first: the output waits on them sooner.
    let priority = ahead.as_ref().map_or(0, |a| a.place.priority());
    loop {
        let permit = match &ahead {
            Some(a) => a.pool.reserve(a.place).await,
            None => None,
        };
        let (mut records, mut next) = match tenant.fetch(&url, filter.as_deref(), priority).await {
            Ok((records, next, _page_time)) => (records, next),
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        if let Some(a) = ahead.as_deref_mut()
            && let Some(say) = a.parts.take()
            && next.is_some()
        {
            let ranges = parts_of(TimeRange { from: lower, to: plan.range.to }, &records, &query.options, Utc::now());
            if let [own, rest @ ..] = ranges.as_slice()
                && !rest.is_empty()
            {
                lower = own.from;
                // Every part counts as reading before any asks for a permit (see `ReadAhead`).
                let places: Vec<(Place, ReadingWindow)> = (1..=rest.len()).map(|part| Place { window, part }).map(|p| (p, a.pool.reading(p))).collect();
                let mut handed = Vec::with_capacity(rest.len());
                for ((place, reading), range) in places.into_iter().zip(rest) {
                    // Room for every page the part may hold, as for a window: the permits limit it.
                    let (part_tx, part_rx) = mpsc::channel(query.options.buffer_pages.max(1) as usize + 1);
                    let part = Ahead { pool: a.pool.clone(), place, _reading: reading, parts: None };
                    parts.spawn(read_part(tenant.clone(), query.clone(), window, *range, part_tx, part));
                    handed.push((place, part_rx));
                }
                let _ = say.send(handed);
            }
        }
        if !written.is_empty() {
            records.retain(|r| !both_ends::written_beside(&written, r));
        }
        // A window continuing a page's link reads a wider range than its own: it ends at its
        // lower bound, where the next window (or part) begins.
        if let Some(from) = lower
            && records.last().and_then(Record::created).is_some_and(|oldest| oldest < from)
        {
            records.retain(|r| r.created().is_none_or(|t| t >= from));
            next = None;
        }
        let position = match &next {
            Some(next) => Position::After { next: next.clone(), reached: None },
            None => Position::Done,
        };
        if tx.send(Ok(WindowPage { window, records, position, _read_ahead: permit })).await.is_err() {
            return;
        }
        // The page's records stand; a link to another host ends the window with an error (and
        // a resume from the checkpointed link is refused the same way).
        match next.as_deref().map(|link| page::follow(link, &url)) {
            Some(Ok(next)) => url = next,
            Some(Err(e)) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 10, h, 0, 0).unwrap()
    }

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, d, 0, 0, 0).unwrap()
    }

    fn first(records: usize, oldest: DateTime<Utc>, latency_ms: u64) -> FirstPage {
        FirstPage { records, oldest, latency: Duration::from_millis(latency_ms) }
    }

    fn graph_options() -> FetchOptions {
        FetchOptions::default()
    }

    fn assert_contiguous(range: TimeRange, windows: &[TimeRange]) {
        assert_eq!(windows[0].to, range.to, "the first window keeps the range's upper end");
        assert_eq!(windows.last().unwrap().from, range.from, "the last window keeps the range's lower end");
        for pair in windows.windows(2) {
            let cut = pair[0].from.expect("every window but the last has a lower end");
            assert_eq!(pair[1].to, Some(Upper::Before(cut)), "windows meet without gap or overlap: {windows:?}");
            assert_eq!(cut.nanosecond(), 0, "cuts fall on whole seconds");
        }
    }

    #[test]
    fn fast_pages_keep_one_window_while_the_budget_holds_them() {
        // Three pages left: one budget window holds them all, so one window; more would only
        // add short pages.
        let short = TimeRange { from: Some(day(5)), to: Some(Upper::AtOrBefore(day(9))) };
        assert_eq!(split(short, first(1000, day(8), 100), &graph_options(), Order::Arrival, day(20)), vec![short]);
        // Seven pages left: at 100 ms a page one window would outrun 5 requests per 10 s, but the
        // pages after a fast first one may be slow; a second window costs one short page at most.
        let range = TimeRange { from: Some(day(1)), to: Some(Upper::AtOrBefore(day(9))) };
        let w = split(range, first(1000, day(8), 100), &graph_options(), Order::Arrival, day(20));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_contiguous(range, &w);
        // Slow pages, but about one page left: one window.
        let w = split(range, first(1000, day(1) + Span::hours(1), 5000), &graph_options(), Order::Arrival, day(20));
        assert_eq!(w, vec![range]);
        // Slow pages and seven left: more.
        let w = split(range, first(1000, day(8), 5000), &graph_options(), Order::Arrival, day(20));
        assert_eq!(w.len(), 4, "{w:?}");
        assert_contiguous(range, &w);
    }

    #[test]
    fn slow_pages_get_enough_windows_to_fill_the_budget() {
        // 3 s pages, 5 requests per 10 s: 1.5 pages in flight on average, half again: 3 windows
        // (about 47 pages left).
        let range = TimeRange { from: Some(day(1)), to: Some(Upper::Before(day(21))) };
        let w = split(range, first(1000, day(21) - Span::hours(10), 3000), &graph_options(), Order::Arrival, day(22));
        assert_eq!(w.len(), 3, "{w:?}");
        assert_contiguous(range, &w);
        // A fast first page of a large range (about 470 pages left): the most windows allowed,
        // in case later pages are slower.
        let w = split(range, first(1000, day(21) - Span::hours(1), 100), &graph_options(), Order::Arrival, day(22));
        assert_eq!(w.len(), graph_options().windows as usize, "{w:?}");
        // About 79 pages: three windows, though one would keep up with the first page's pace.
        let w = split(range, first(1000, day(21) - Span::hours(6), 100), &graph_options(), Order::Arrival, day(22));
        assert_eq!(w.len(), 3, "{w:?}");
        // A generous budget and fast pages: as many windows as allowed.
        let generous = FetchOptions::for_budget(Budget { requests: 10_000, window: Duration::from_secs(10) });
        let w = split(range, first(1000, day(21) - Span::hours(1), 100), &generous, Order::Arrival, day(22));
        assert_eq!(w.len(), generous.windows as usize);
        assert_contiguous(range, &w);
    }

    #[tokio::test]
    async fn read_ahead_goes_to_the_nearest_window_and_never_holds_up_the_merged_one() {
        let pool = ReadAhead::new(2);
        // Windows 3 and 2 take the two permits; window 1 then waits, and so does window 4.
        let held = [pool.reserve(Place::window(3)).await.expect("a permit"), pool.reserve(Place::window(2)).await.expect("a permit")];
        let (near, far) = (tokio::spawn({ let p = pool.clone(); async move { p.reserve(Place::window(1)).await } }), tokio::spawn({ let p = pool.clone(); async move { p.reserve(Place::window(4)).await } }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!near.is_finished() && !far.is_finished(), "no permit is free");
        // A permit comes back: the nearer window gets it, the farther one still waits.
        let [third, second] = held;
        drop(third);
        let near = near.await.unwrap();
        assert!(near.is_some(), "window 1 got the permit");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!far.is_finished());
        // The merger reaches window 4 while every permit is held: window 4 reads on without one.
        pool.merging(Place::window(4));
        assert!(far.await.unwrap().is_none(), "the merged window reads without a permit");
        assert!(pool.reserve(Place::window(4)).await.is_none() && pool.reserve(Place::window(0)).await.is_none());
        drop((second, near));
        let both = [pool.reserve(Place::window(5)).await, pool.reserve(Place::window(6)).await];
        assert!(both.iter().all(Option::is_some), "both permits came back");
    }

    #[tokio::test]
    async fn read_ahead_keeps_a_permit_for_each_nearer_window_still_reading() {
        let pool = ReadAhead::new(2);
        let (one, _two, _three) = (pool.reading(Place::window(1)), pool.reading(Place::window(2)), pool.reading(Place::window(3)));
        // Window 3 would take what windows 1 and 2 need for their next pages: it waits.
        let far = tokio::spawn({
            let p = pool.clone();
            async move { p.reserve(Place::window(3)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!far.is_finished(), "window 3 leaves both permits to windows 1 and 2");
        // Window 2 takes one and leaves one for window 1.
        let second = pool.reserve(Place::window(2)).await.expect("window 2 gets a permit");
        let first = pool.reserve(Place::window(1)).await.expect("window 1 gets the one kept for it");
        // Window 1 ends; its permit comes back, and window 2 may still need one: window 3 waits.
        drop((first, one));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!far.is_finished(), "one permit free, kept for window 2");
        drop(second);
        assert!(far.await.unwrap().is_some(), "two free, one kept for window 2: window 3 gets the other");
    }

    #[test]
    fn newest_first_output_gets_windows_small_enough_to_read_ahead() {
        let range = TimeRange { from: Some(day(1)), to: Some(Upper::Before(day(21))) };
        let options = graph_options();
        // Slow pages, about 47 left: three windows either way.
        let slow = first(1000, day(21) - Span::hours(10), 3000);
        assert_eq!(split(range, slow, &options, Order::Arrival, day(22)).len(), 3);
        assert_eq!(split(range, slow, &options, Order::NewestFirst, day(22)).len(), 3);
        // About 95 left: a window per 20 pages as pages arrive; newest first under a tight
        // budget, windows as long as the read-ahead (32) by the first page's density, and
        // enough to fill the budget (three).
        let slow = first(1000, day(21) - Span::hours(5), 3000);
        assert_eq!(split(range, slow, &options, Order::Arrival, day(22)).len(), 4);
        assert_eq!(split(range, slow, &options, Order::NewestFirst, day(22)).len(), 3);
        // About 190 left: as pages arrive, at most `windows`; newest first, beyond it.
        let slow = first(1000, day(21) - Span::minutes(150), 3000);
        assert_eq!(split(range, slow, &options, Order::Arrival, day(22)).len(), options.windows as usize);
        let w = split(range, slow, &options, Order::NewestFirst, day(22));
        assert_eq!(w.len(), 6, "{w:?}");
        assert!(w.len() > options.windows as usize);
        assert_contiguous(range, &w);
        // A limit below the default holds.
        let three = FetchOptions { windows: 3, ..options };
        assert_eq!(split(range, slow, &three, Order::NewestFirst, day(22)).len(), 3);
        // A budget with room for a short page after each page: newest first, windows of half a
        // page (the first page's density may be a third of the range's), here as many as keep
        // 150 requests in flight; as pages arrive, at most `windows`.
        let generous = FetchOptions::for_budget(Budget { requests: 10000, window: Duration::from_secs(10) });
        let fast = first(1000, day(21) - Span::hours(6), 100);
        let w = split(range, fast, &generous, Order::NewestFirst, day(22));
        assert_eq!(w.len(), 150, "about 79 pages left, two windows a page, as many as fill the budget");
        let sparse = first(1000, day(21) - Span::hours(18), 100);
        let w = split(range, sparse, &generous, Order::NewestFirst, day(22));
        assert!((52..=54).contains(&w.len()), "about 26 pages left, two windows a page: {}", w.len());
        assert_contiguous(range, &w);
        assert_eq!(split(range, fast, &generous, Order::Arrival, day(22)).len(), generous.windows as usize);
        // Fast pages, fewer than the budget's requests left: one window; more, two (as above).
        let range = TimeRange { from: Some(day(5)), to: Some(Upper::AtOrBefore(day(9))) };
        assert_eq!(split(range, first(1000, day(8), 100), &options, Order::NewestFirst, day(20)), vec![range]);
        let range = TimeRange { from: Some(day(1)), to: Some(Upper::AtOrBefore(day(9))) };
        assert_eq!(split(range, first(1000, day(8), 100), &options, Order::NewestFirst, day(20)).len(), 2);
    }

    #[test]
    fn windows_read_at_once_follow_the_budget_and_the_order() {
        let graph = graph_options();
        assert_eq!(windows_reading(&graph, Order::NewestFirst), 3, "the merged window and the two after it");
        assert_eq!(windows_reading(&graph, Order::Arrival), graph.concurrency as usize, "as pages arrive, nothing waits on a merger");
        let generous = FetchOptions::for_budget(Budget { requests: 10_000, window: Duration::from_secs(10) });
        assert_eq!(windows_reading(&generous, Order::NewestFirst), 2 * generous.concurrency as usize, "a generous budget reads far ahead");
        let arriving = windows_reading(&generous, Order::Arrival);
        assert_eq!(arriving, 2 * generous.concurrency as usize, "as pages arrive too, when the read-ahead holds a page of each");
        assert!(arriving + arrival_pages_waiting(&generous) <= generous.buffer_pages as usize, "pages held stay within the read-ahead");
        let shared = FetchOptions { buffer_pages: generous.buffer_pages / 4, ..generous };
        assert_eq!(windows_reading(&shared, Order::Arrival), generous.concurrency as usize, "a shared read-ahead keeps the concurrency");
        let limited = FetchOptions { windows: 4, ..generous };
        assert_eq!(windows_reading(&limited, Order::NewestFirst), generous.concurrency as usize, "not when the caller lowered the windows");
        assert!(generous.buffer_pages > graph.buffer_pages, "and keeps more pages read ahead, as pages come faster");
        let two = FetchOptions { concurrency: 2, ..graph };
        assert_eq!(windows_reading(&two, Order::NewestFirst), 2, "a lower limit holds");
    }

    #[test]
    fn many_tenants_at_once_share_what_four_would_read_ahead() {
        let query = |tenants: usize, at_once: u32| {
            let tenants = (0..tenants).map(|i| format!("t{i}.example")).collect();
            Arc::new(SignInQuery { tenants, options: FetchOptions { tenant_concurrency: at_once, ..graph_options() }, ..Default::default() })
        };
        let whole = graph_options().buffer_pages;
        let read_ahead = |tenants: usize, at_once: u32| shared_among(query(tenants, at_once), tenants).options.buffer_pages;
        assert_eq!(read_ahead(4, 4), whole, "four tenants keep the whole read-ahead");
        assert_eq!(read_ahead(1, 50), whole, "a limit above the tenants read counts the tenants");
        assert_eq!(read_ahead(8, 8), whole / 2, "eight share four tenants' pages");
        assert_eq!(read_ahead(50, 50), LEAST_READ_AHEAD, "never below the least");
        assert_eq!(read_ahead(50, 8), whole / 2, "the tenants read at once count, not all of them");
        // Run-wide, what is read ahead stays near four tenants' worth however many run at once.
        for at_once in [5u32, 8, 16, 32] {
            assert!(read_ahead(256, at_once) as usize * at_once as usize <= whole as usize * TENANTS_WITH_WHOLE_READ_AHEAD, "{at_once} tenants");
        }
        // As pages arrive, half the read-ahead waits, at most the usual queue.
        let options = |buffer_pages| FetchOptions { buffer_pages, ..graph_options() };
        assert_eq!(arrival_pages_waiting(&options(whole)), ARRIVAL_PAGES_WAITING);
        assert_eq!(arrival_pages_waiting(&options(LEAST_READ_AHEAD)), 2);
        assert_eq!(arrival_pages_waiting(&options(1)), 1);
    }

    #[test]
    fn open_ends_stay_open() {
        let generous = FetchOptions::for_budget(Budget { requests: 1000, window: Duration::from_secs(10) });
        let w = split(TimeRange::default(), first(1000, t(12) - Span::minutes(5), 200), &generous, Order::Arrival, t(12));
        assert!(w.len() > 2, "{w:?}");
        assert_eq!(w[0].to, None, "the newest window has no upper bound");
        assert_eq!(w.last().unwrap().from, None, "the oldest window has no lower bound");
        assert_contiguous(TimeRange::default(), &w);
        // Nothing older than the page within the range: one window.
        let short = TimeRange { from: Some(t(1)), to: Some(Upper::Before(t(2))) };
        assert_eq!(split(short, first(1000, t(1), 200), &generous, Order::Arrival, t(3)), vec![short]);
    }

    #[test]
    fn a_start_older_than_graph_keeps_sign_ins_gets_a_warning() {
        let now = day(31);
        let query = |start: Option<DateTime<Utc>>| SignInQuery { filter: SignInFilter { start, ..Default::default() }, ..Default::default() };
        let warnings = query(Some(now - Span::days(45))).warnings_at(now);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("keeps sign-ins for 30 days"), "{}", warnings[0]);
        assert!(warnings[0].contains(&(now - Span::days(30)).format("%Y-%m-%d %H:%M UTC").to_string()), "{}", warnings[0]);
        assert!(query(Some(now - Span::days(29))).warnings_at(now).is_empty());
        assert!(query(Some(now - Span::hours(30 * 24 + 23))).warnings_at(now).is_empty(), "a day's grace");
        assert!(query(None).warnings_at(now).is_empty(), "no start: Graph's own 30 days");
    }

    #[test]
    fn fresh_plans_are_one_window_per_tenant() {
        let query = SignInQuery { tenants: vec!["a.example".into(), "b.example".into()], ..Default::default() };
        let plans = fresh_plans(&query);
        assert_eq!(plans.len(), 2);
        assert!(plans.iter().all(|p| p.windows.len() == 1 && p.windows[0].position == Position::Start));
    }

    #[test]
    fn select_is_normalised_and_keeps_id_and_time() {
        let q = SignInQuery { select: vec!["UserPrincipalName".into(), "status".into(), "userPrincipalName".into()], ..Default::default() }.validated().unwrap();
        assert_eq!(q.select, vec!["id", "createdDateTime", "userPrincipalName", "status"]);
        let e = SignInQuery { select: vec!["userId,id".into()], ..Default::default() }.validated().unwrap_err();
        assert!(e.to_string().contains("'Property'"), "{e}");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("userPrincipalName eq 'a+b&c#d'"), "userPrincipalName%20eq%20%27a%2Bb%26c%23d%27");
    }

    /// A page of `n` records spread evenly from `newest` down to `oldest`.
    fn page_between(n: usize, newest: DateTime<Utc>, oldest: DateTime<Utc>) -> Vec<Record> {
        let step = (newest - oldest) / (n.max(2) as i32 - 1);
        (0..n)
            .map(|k| {
                let at = if k + 1 == n { oldest } else { newest - step * k as i32 };
                Record::from_json(format!(r#"{{"Id":"{k}","CreatedDateTime":"{}"}}"#, at.to_rfc3339())).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_window_denser_than_meant_is_cut_into_parts_of_two_pages() {
        // An 8-hour window whose first page of 1000 covered its newest 30 minutes: about 15 pages
        // left, so 8 parts, the first continuing the page's link down to the first cut.
        let window = TimeRange { from: Some(t(2)), to: Some(Upper::Before(t(10))) };
        let page = page_between(1000, t(10) - Span::seconds(1), t(9) + Span::minutes(30));
        let generous = FetchOptions::for_budget(Budget { requests: 10_000, window: Duration::from_secs(10) });
        let parts = parts_of(window, &page, &generous, day(20));
        assert_eq!(parts.len(), 8, "{parts:?}");
        assert_contiguous(window, &parts);
        assert!(parts[0].from.unwrap() < t(9) + Span::minutes(30), "the first part takes in the page and below it");
        // The densest waves are cut finer, up to a limit.
        let dense = page_between(1000, t(10) - Span::seconds(1), t(10) - Span::seconds(60));
        assert_eq!(parts_of(window, &dense, &generous, day(20)).len(), MAX_PARTS);
        // Little left below the page: the window stays whole.
        let last = page_between(1000, t(3), t(2) + Span::minutes(5));
        assert_eq!(parts_of(window, &last, &generous, day(20)), vec![window]);
        // A tight budget pays a short page per part in time: never cut. Nor when the caller set
        // fewer windows than the default.
        assert_eq!(parts_of(window, &page, &graph_options(), day(20)), vec![window]);
        assert_eq!(parts_of(window, &page, &FetchOptions { windows: 4, ..generous }, day(20)), vec![window]);
        // A page past the window's lower end (a first window continuing the tenant's first page).
        let past = page_between(1000, t(3), t(1));
        assert_eq!(parts_of(window, &past, &generous, day(20)), vec![window]);
    }

    #[tokio::test]
    async fn a_window_s_parts_come_between_it_and_the_next_window() {
        assert!(Place::window(3) < Place { window: 3, part: 1 } && Place { window: 3, part: 16 } < Place::window(4));
        assert!(Place::window(3).priority() < Place { window: 3, part: 1 }.priority() && Place { window: 3, part: 16 }.priority() < Place::window(4).priority());
        // Window 2 is merged; its part 1 is nearer than window 3 and keeps a permit for itself.
        let pool = ReadAhead::new(2);
        pool.merging(Place::window(2));
        let (_part, _three) = (pool.reading(Place { window: 2, part: 1 }), pool.reading(Place::window(3)));
        let held = pool.reserve(Place::window(3)).await.expect("window 3 gets the permit not kept for the part");
        let blocked = tokio::time::timeout(Duration::from_millis(50), pool.reserve(Place::window(3))).await;
        assert!(blocked.is_err(), "the last permit is kept for the part still reading");
        let mine = pool.reserve(Place { window: 2, part: 1 }).await.expect("the part gets the permit kept for it");
        // Merged, the part reads without one.
        pool.merging(Place { window: 2, part: 1 });
        assert!(pool.reserve(Place { window: 2, part: 1 }).await.is_none());
        drop((held, mine));
    }
}
