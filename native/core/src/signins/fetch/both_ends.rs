//! One window read from both ends under a tight budget (Graph's 5 requests per 10 s), for
//! exports and, where the read-ahead can hold the oldest-first end's pages, newest-first output.
//! Every window of a range cut into windows ends with a short page, and each costs a whole
//! request: 15 pages read in windows took 16 requests, and the 16th cannot go before 30 s. Two
//! nextLink chains over the same range, one newest first and one oldest first (`$orderby`), need
//! no density estimate to be cut by, start at once, and together cost at most one request more
//! than one chain: their pages tile the range from both ends, and only where they meet does a page
//! hold less than a page of new records. Two chains of 1-5 s pages keep 5 requests per 10 s busy.
//!
//! Each end records how far it has written ([`Reached`]: a second and the ids written in it); a
//! page drops what the other end has written, and a page that reaches past the other end's mark
//! (or a chain that runs out) closes the window, and drops the other end's page still on its way.
//! The oldest-first end stops early when what lies between the two marks, by the densest
//! estimate of the pages read, fits in the newest-first end's page in flight, so that the two do
//! not both read the last stretch; the newest-first end always reads on until it meets the
//! other, so nothing depends on the estimate but a request and time. The marks travel in the
//! pages' positions, so a resumed export knows them too.
//!
//! Two chains fill the budget only while a page takes less than two of the budget's request
//! intervals (4 s at 5 per 10 s). Where the first page in says pages take longer (with a fifth to
//! spare, timed from its send) and the stretch left holds more than two windows, the ends stop
//! after the pages they have in flight and hand the stretch between their marks over to windows
//! (as many as keep the budget busy at that page time), each edge window carrying the mark beside
//! it so that it drops what that end wrote ([`WrittenBeside`]). A resumed export reads those
//! windows.
//!
//! Newest first (the cmdlet), the newest-first end goes first for the budget and its pages are
//! handed out as they come; the oldest-first end's pages are held and handed out last, reversed.
//! The hold is bounded ([`hold_limit`]): an end that holds that many hands what is left between
//! the marks over to windows, or leaves it to the other end when that is less than two windows.

use super::*;
use tokio_util::sync::CancellationToken;

/// The newest-first end and the oldest-first end, as indexes into the tenant's two windows.
const NEWEST_FIRST: usize = 0;
const OLDEST_FIRST: usize = 1;

/// Whether a tenant's windows are read from both ends: under a tight budget, fresh, or (exports)
/// resumed from a checkpoint that was read so. Newest first too, where the read-ahead has room
/// to hold the oldest-first end's pages ([`hold_limit`]), handed out last, reversed
/// ([`Ended::held`]). Reading the first page alone to cut windows by made the budget's slots fall
/// a page time apart for the whole run, and the windows' short pages pushed the last request
/// into another window of the budget: 60 pages at 5 per 10 s took 127-137 s by seed, where the
/// two ends take 61 requests and 124-129 s.
pub(super) fn applies(options: &FetchOptions, order: Order, windows: &[WindowPlan]) -> bool {
    match windows {
        [only] => is_tight(options.budget) && only.position == Position::Start && (order == Order::Arrival || hold_limit(options) > 0),
        [newest, oldest] => !newest.ascending && oldest.ascending && newest.range == oldest.range,
        _ => false,
    }
}

#[derive(Default)]
struct End {
    reached: Option<Reached>,
    /// Records per second on the end's latest page.
    density: Option<f64>,
    /// Records on the end's pages in this run, and the seconds those pages spanned: their mean
    /// density.
    records_read: usize,
    seconds_read: f64,
    in_flight: bool,
    /// The oldest-first end stopped early, leaving the stretch between the marks to the other.
    stopped: bool,
    /// How long the end's first page in this run took (it never waits for the budget: the two
    /// ends' first requests are a run's first two).
    first_latency: Option<Duration>,
    /// Pages the end has handed on in this run.
    pages: usize,
}

impl End {
    /// Moves the mark past `records` (a page in the end's order, less what the other end wrote),
    /// created at `times`.
    fn passed(&mut self, records: &[Record], times: &[Option<DateTime<Utc>>]) {
        let Some(last) = times.last().copied().flatten() else { return };
        let tied = records.iter().zip(times).rev().take_while(|(_, t)| **t == Some(last));
        let mut ids: Vec<String> = tied.filter_map(|(r, _)| page::id(r)).collect();
        // A second that goes on from the page before keeps the ids written there.
        if let Some(before) = self.reached.take().filter(|r| r.second == last) {
            ids.extend(before.ids);
        }
        self.reached = Some(Reached { second: last, ids });
        if let Some(first) = times.first().copied().flatten() {
            let seconds = ((first - last).num_milliseconds().abs() as f64 / 1000.0).max(1.0);
            self.density = Some(records.len() as f64 / seconds);
            self.records_read += records.len();
            self.seconds_read += seconds;
        }
    }
}

#[derive(Default)]
struct Meeting {
    ends: [End; 2],
    /// The ends met (or a resumed window was read to the end): cancelled. Tells an end whose
    /// page is still on its way, or waiting for the budget, that the page is not needed.
    closed: CancellationToken,
    /// Pages are too slow for two chains to fill the budget, or the oldest-first end holds as
    /// many pages as it may: the ends stop after the pages they have in flight, and windows read
    /// the stretch between their marks.
    handing_over: bool,
    /// Newest first: the most pages the oldest-first end may hold back (see [`Ended::held`]).
    hold_limit: Option<usize>,
}

impl Meeting {
    /// The stretch between the two ends' marks, on whole seconds (as filters are written).
    fn between_marks(&self) -> Option<TimeRange> {
        let [newest, oldest] = &self.ends;
        let (top, bottom) = (newest.reached.as_ref()?, oldest.reached.as_ref()?);
        let from = bottom.second.trunc_subsecs(0);
        let to = top.second.trunc_subsecs(0) + Span::seconds(1);
        Some(TimeRange { from: Some(from), to: Some(Upper::Before(to)) })
    }

    /// The oldest-first end stops when the stretch between the marks fits in the newest-first
    /// end's page in flight, by the densest estimate at hand ([`Meeting::densest`]). Stopping
    /// early leaves the newest-first end to read on alone, a page time for each page; reading on
    /// too long costs a request, and no time: the first of the two last pages to land closes the
    /// window and drops the other ([`Meeting::closed`]). So the estimate leans high. It leaned
    /// low once (the sparser of the two latest pages, a fifth under): sign-ins by day and by
    /// night differ eightfold, a night page put 34 hours between the marks at 780 sign-ins where
    /// they held about 2,800, and the newest-first end read three pages alone (60 pages under
    /// Graph's budget: 127-128 s, where reading on took 124.7-124.8).
    fn oldest_first_should_stop(&self, page_size: u32) -> bool {
        let [newest, oldest] = &self.ends;
        let (Some(top), Some(bottom)) = (&newest.reached, &oldest.reached) else { return false };
        let Some(density) = self.densest() else { return false };
        let seconds = (top.second - bottom.second).num_milliseconds().max(0) as f64 / 1000.0;
        let pages_between = density * seconds / f64::from(page_size.max(1));
        pages_between < f64::from(u8::from(newest.in_flight))
    }

    /// The densest of the ends' latest pages and the mean of every page both ends read in this
    /// run (the mean covers days; a stretch of hours can be as dense as its densest page).
    /// `None`: no page read yet.
    fn densest(&self) -> Option<f64> {
        let (records, seconds) = self.ends.iter().fold((0, 0.0), |(r, s), end| (r + end.records_read, s + end.seconds_read));
        let mean = (seconds > 0.0).then(|| records as f64 / seconds);
        self.ends.iter().filter_map(|end| end.density).chain(mean).reduce(f64::max)
    }

    /// Whether the oldest-first end holds as many pages as it may (newest first, see [`hold_limit`]).
    fn holds_enough(&self) -> bool {
        self.hold_limit.is_some_and(|limit| self.ends[OLDEST_FIRST].pages >= limit)
    }

    /// Whether to hand the stretch between the marks over to windows: pages too slow for two
    /// chains to fill the budget, and a stretch long enough for more windows than two (two read
    /// it no sooner than the two ends do, and each ends with a short page: a customer of four
    /// pages was read a page time later, its windows one after the other).
    fn should_hand_over(&self, range: TimeRange, options: &FetchOptions, now: DateTime<Utc>) -> bool {
        self.too_slow_for_two_chains(options) && self.stretch_between(range, options, now).windows > 2
    }

    /// Whether the ends' first pages (those in so far) took too long for two chains to fill
    /// `options`' budget: two pages of the budget's request interval, and a fifth over, so that
    /// Graph's usual 1-5 s pages (against 2 s at 5 per 10 s) stay with two chains.
    fn too_slow_for_two_chains(&self, options: &FetchOptions) -> bool {
        self.first_latency().is_some_and(|latency| latency > 2.0 * request_interval(options) * 1.25)
    }

    /// The mean of the ends' first page times, in seconds.
    fn first_latency(&self) -> Option<f64> {
        let (sum, seen) = self.ends.iter().filter_map(|e| e.first_latency).fold((0.0, 0u32), |(sum, seen), d| (sum + d.as_secs_f64(), seen + 1));
        (seen > 0).then(|| sum / f64::from(seen))
    }

    /// Windows for what is left of `range` between the marks (an end without a mark has read
    /// nothing: its side of `range` is left too), to hand over to: as many as keep the budget busy
    /// at the ends' page time ([`chains_to_fill`]), each of at least two pages by the sparser end's
    /// density, cut on whole seconds ([`cut`]); at least one.
    fn windows_between(&self, range: TimeRange, options: &FetchOptions, now: DateTime<Utc>) -> Vec<TimeRange> {
        let stretch = self.stretch_between(range, options, now);
        cut(stretch.range, stretch.top, stretch.seconds, stretch.windows)
    }

    /// What is left of `range` between the marks, and how many windows
    /// [`windows_between`](Self::windows_between) cuts it into.
    fn stretch_between(&self, range: TimeRange, options: &FetchOptions, now: DateTime<Utc>) -> Stretch {
        let [newest, oldest] = &self.ends;
        let from = oldest.reached.as_ref().map(|mark| mark.second.trunc_subsecs(0)).or(range.from);
        let to = newest.reached.as_ref().map(|mark| Upper::Before(mark.second.trunc_subsecs(0) + Span::seconds(1))).or(range.to);
        let top = to.map(Upper::time).unwrap_or(now);
        let seconds = (top - from.unwrap_or(now - Span::days(RETENTION_DAYS))).num_seconds().max(1);
        let density = newest.density.into_iter().chain(oldest.density).fold(f64::INFINITY, f64::min);
        let pages_between = density * seconds as f64 / f64::from(options.page_size.max(1));
        let chains = chains_to_fill(options.budget, self.first_latency().unwrap_or(0.0));
        let count = chains.min(f64::from(options.windows)).min((pages_between / 2.0).floor()).min(seconds as f64);
        let windows = if count.is_finite() { count.max(1.0) as i64 } else { 1 };
        Stretch { range: TimeRange { from, to }, top, seconds, windows }
    }
}

/// The stretch between the two ends' marks (see [`Meeting::stretch_between`]).
struct Stretch {
    range: TimeRange,
    /// Its upper end in time (now, for a range open at the top).
    top: DateTime<Utc>,
    /// Its length in whole seconds, at least one.
    seconds: i64,
    /// Windows to cut it into, at least one.
    windows: i64,
}

/// Seconds between two requests when the budget is used evenly.
fn request_interval(options: &FetchOptions) -> f64 {
    options.budget.window.as_secs_f64() / f64::from(options.budget.requests.max(1))
}

/// Whether a window cut out of the stretch between two ends has `record` from them already.
pub(super) fn written_beside(written: &WrittenBeside, record: &Record) -> bool {
    record.created().is_some_and(|t| written_by_either(written.newer.as_ref(), written.older.as_ref(), record, t))
}

/// Whether the newest-first end (its mark `newer`) or the oldest-first end (`older`) has written
/// `record`, created at `t`.
fn written_by_either(newer: Option<&Reached>, older: Option<&Reached>, record: &Record, t: DateTime<Utc>) -> bool {
    newer.is_some_and(|mark| written_by(mark, NEWEST_FIRST, record, t)) || older.is_some_and(|mark| written_by(mark, OLDEST_FIRST, record, t))
}

/// Whether `other` (the mark of end `other_end`) has written `record`, created at `t`. The id is
/// read only for a record created at the mark's own second.
fn written_by(other: &Reached, other_end: usize, record: &Record, t: DateTime<Utc>) -> bool {
    past(other, other_end, t) || (t == other.second && page::id(record).is_some_and(|id| other.ids.contains(&id)))
}

/// Whether a record created at `t` lies past `other`'s second, in the other end's stretch.
fn past(other: &Reached, other_end: usize, t: DateTime<Utc>) -> bool {
    if other_end == NEWEST_FIRST { t > other.second } else { t < other.second }
}

/// Newest first, the most pages the oldest-first end may hold: the tenant's read-ahead, less the
/// least that its windows keep ([`LEAST_READ_AHEAD`]). Zero when many tenants share the
/// read-ahead down to that least: 50 tenants at once, each holding its oldest pages until its
/// ends met, took the cmdlet to 349 MB, where windows took it to 216-226 MB.
fn hold_limit(options: &FetchOptions) -> usize {
    (options.buffer_pages as usize).saturating_sub(LEAST_READ_AHEAD as usize)
}

/// What reading a tenant from both ends left to do.
pub(super) struct Ended {
    /// `Some`: the ends handed over (see [`Meeting::handing_over`]), and the tenant's windows are
    /// now these (the ends done, windows between their marks to read; already handed out as
    /// `Event::Planned`).
    pub middle: Option<Vec<WindowPlan>>,
    /// Newest first: the oldest-first end's pages, in the order read, to hand out after every
    /// newer record ([`hand_out_held`]). At most [`hold_limit`]: an end that holds that many
    /// hands the stretch between the marks over to windows, which read ahead what is left.
    pub held: Vec<PageEvent>,
}

/// Hands out `held` (see [`Ended::held`]) newest first: the last page read first, each reversed.
pub(super) async fn hand_out_held(held: Vec<PageEvent>, out: &mpsc::Sender<Event>) -> Result<()> {
    for mut page in held.into_iter().rev() {
        page.records.reverse();
        out.send(Event::Page(page)).await.map_err(|_| Error::Cancelled)?;
    }
    Ok(())
}

/// Reads `windows` (a fresh window, or the two ends of a resumed one) from both ends.
pub(super) async fn run(tenant: &Arc<Tenant>, query: &Arc<SignInQuery>, index: usize, mut windows: Vec<WindowPlan>, order: Order, out: &mpsc::Sender<Event>) -> Result<Ended> {
    if let [only] = windows.as_slice() {
        let range = only.range;
        windows = vec![WindowPlan::start(range), WindowPlan { ascending: true, ..WindowPlan::start(range) }];
        out.send(Event::Planned { tenant_index: index, windows: windows.clone() }).await.map_err(|_| Error::Cancelled)?;
    }
    let range = windows[0].range;
    let holding = order == Order::NewestFirst;
    let meeting = Arc::new(tokio::sync::Mutex::new(Meeting::default()));
    {
        let mut m = meeting.lock().await;
        m.hold_limit = holding.then(|| hold_limit(&query.options));
        for (end, plan) in windows.iter().enumerate() {
            match &plan.position {
                Position::After { reached, .. } => m.ends[end].reached = reached.clone(),
                Position::Done => m.closed.cancel(),
                Position::Start => {}
            }
        }
        if m.closed.is_cancelled() {
            return Ok(Ended { middle: None, held: Vec::new() });
        }
    }
    let (tx, mut rx) = mpsc::channel::<Result<Event>>(arrival_pages_waiting(&query.options));
    let mut chains = JoinSet::new();
    for (end, plan) in windows.into_iter().enumerate() {
        let (tenant, query, meeting, tx) = (tenant.clone(), query.clone(), meeting.clone(), tx.clone());
        chains.spawn(async move {
            if let Err(e) = read_end(&tenant, &query, index, end, plan, &meeting, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
    }
    drop(tx);
    let mut held = Vec::new();
    while let Some(event) = rx.recv().await {
        match event? {
            Event::Page(page) if holding && page.window == OLDEST_FIRST => held.push(page),
            event => out.send(event).await.map_err(|_| Error::Cancelled)?,
        }
    }
    let m = meeting.lock().await;
    if m.closed.is_cancelled() || !m.handing_over {
        return Ok(Ended { middle: None, held });
    }
    // The ends moved on by the pages they had in flight: cut what is left between their marks now.
    let ranges = m.windows_between(range, &query.options, Utc::now());
    let (top, bottom) = (m.ends[NEWEST_FIRST].reached.clone(), m.ends[OLDEST_FIRST].reached.clone());
    drop(m);
    let last = ranges.len() - 1;
    let mut plans = vec![WindowPlan { position: Position::Done, ..WindowPlan::start(range) }, WindowPlan { position: Position::Done, ascending: true, ..WindowPlan::start(range) }];
    plans.extend(ranges.into_iter().enumerate().map(|(k, r)| WindowPlan {
        written: WrittenBeside { newer: top.clone().filter(|_| k == 0), older: bottom.clone().filter(|_| k == last) },
        ..WindowPlan::start(r)
    }));
    // Stopped before the plan is written, a resume reads from both ends again, from the marks.
    out.send(Event::Planned { tenant_index: index, windows: plans.clone() }).await.map_err(|_| Error::Cancelled)?;
    Ok(Ended { middle: Some(plans), held })
}

/// One end's nextLink chain, until the ends meet (or, oldest first, until the rest is left to
/// the other end).
async fn read_end(tenant: &Tenant, query: &SignInQuery, index: usize, end: usize, plan: WindowPlan, meeting: &tokio::sync::Mutex<Meeting>, tx: &mpsc::Sender<Result<Event>>) -> Result<()> {
    let mut filter = query.filter_for(&plan.range)?;
    let mut url = match &plan.position {
        Position::Start => tenant.first_url_in_order(query, &plan.range, plan.ascending)?.0,
        Position::After { next, .. } => page::follow(next, &tenant.base)?,
        Position::Done => return Ok(()),
    };
    let other_end = 1 - end;
    let mut between_marks = false;
    loop {
        let (closed, priority) = {
            let mut m = meeting.lock().await;
            if m.closed.is_cancelled() || m.handing_over {
                return Ok(());
            }
            if end == OLDEST_FIRST && (m.oldest_first_should_stop(query.options.page_size) || m.holds_enough()) {
                m.ends[OLDEST_FIRST].stopped = true;
                return Ok(());
            }
            // The rest lies between the marks: a query for just that stretch ends where the other
            // end's pages begin, where the nextLink chain would ask for a page of them once more
            // whenever its last page ended right above them.
            if end == NEWEST_FIRST
                && !between_marks
                && m.ends[OLDEST_FIRST].stopped
                && let Some(range) = m.between_marks()
            {
                filter = query.filter_for(&range)?;
                url = tenant.first_url_in_order(query, &range, false)?.0;
                between_marks = true;
            }
            m.ends[end].in_flight = true;
            // Newest first, the newest-first end goes first for the budget: its pages are
            // handed out as they come, the other end's wait for the end (and, fewer, stay under
            // the hold limit for longer).
            (m.closed.clone(), u32::from(end == OLDEST_FIRST && m.hold_limit.is_some()))
        };
        let fetched = tokio::select! {
            fetched = tenant.fetch(&url, filter.as_deref(), priority) => fetched,
            // The other end met this one: the page would be dropped unread (below), and waiting
            // for it, or for the budget to send it (a sixth request of a five-request budget),
            // only kept the export open.
            () = closed.cancelled() => return Ok(()),
        };
        // Held until the page is handed on, so that pages reach the writer in the order their
        // marks were taken: a checkpoint never holds a mark of a page that is not written.
        let mut m = meeting.lock().await;
        m.ends[end].in_flight = false;
        if m.closed.is_cancelled() {
            // The other end met this one first: everything here is written already (and this
            // page's failure, if it failed, lost nothing).
            return Ok(());
        }
        let (records, next, took) = fetched?;
        let first_in = m.ends[end].first_latency.is_none();
        if first_in {
            m.ends[end].first_latency = Some(took);
        }
        let times: Vec<Option<DateTime<Utc>>> = records.iter().map(Record::created).collect();
        let mut met = next.is_none();
        if let Some(other) = &m.ends[other_end].reached {
            met |= times.iter().flatten().any(|t| past(other, other_end, *t));
        }
        // A query between the marks starts and ends on whole seconds: it reads again what
        // either end wrote in the seconds it shares with them.
        let (newer, older) = (m.ends[NEWEST_FIRST].reached.as_ref(), m.ends[OLDEST_FIRST].reached.as_ref());
        let (records, times): (Vec<Record>, Vec<Option<DateTime<Utc>>>) =
            records.into_iter().zip(times).filter(|(r, t)| !t.is_some_and(|t| written_by_either(newer, older, r, t))).unzip();
        let event = match &next {
            Some(link) if !met => {
                let own = &mut m.ends[end];
                own.passed(&records, &times);
                own.pages += 1;
                let reached = own.reached.clone();
                // Newest first, the oldest-first end holds what it reads, up to a limit: windows
                // read what is left between the marks, or the other end alone if that is less
                // than two windows' worth (each window ends with a short page).
                if end == OLDEST_FIRST && m.holds_enough() {
                    m.handing_over |= m.stretch_between(plan.range, &query.options, Utc::now()).windows > 1;
                }
                tenant.page_event(index, end, records, Position::After { next: link.clone(), reached }, None)
            }
            _ => {
                m.closed.cancel();
                tenant.page_event(index, end, records, Position::Done, Some(other_end))
            }
        };
        if first_in && !m.closed.is_cancelled() {
            // Decided on the first page in (by its mark and density), so that the other end,
            // whose first page is still on the way, is the only one to read on (a second page of
            // this end would wait as long).
            m.handing_over |= m.should_hand_over(plan.range, &query.options, Utc::now());
        }
        tx.send(Ok(event)).await.map_err(|_| Error::Cancelled)?;
        drop(m);
        match next {
            Some(link) if !met => url = page::follow(&link, &url)?,
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn slow_pages(newest: Option<Reached>, oldest: Option<Reached>) -> Meeting {
        let mut m = Meeting::default();
        m.ends[NEWEST_FIRST] = End { reached: newest, density: Some(10.0), first_latency: Some(Duration::from_secs(7)), ..End::default() };
        m.ends[OLDEST_FIRST] = End { reached: oldest, density: Some(10.0), ..End::default() };
        m
    }

    /// Windows between the ends tile what is left: contiguous, on whole seconds, from the oldest
    /// mark (or the range's start) up to just past the newest mark's second (or the range's end).
    fn assert_tiles(windows: &[TimeRange], from: Option<DateTime<Utc>>, to: Option<Upper>) {
        assert_eq!(windows.first().unwrap().to, to);
        assert_eq!(windows.last().unwrap().from, from);
        for pair in windows.windows(2) {
            let cut = pair[1].to.map(Upper::time).unwrap();
            assert_eq!((pair[0].from, pair[1].to), (Some(cut), Some(Upper::Before(cut))));
            assert_eq!(cut, cut.trunc_subsecs(0));
        }
    }

    #[test]
    fn the_oldest_first_end_stops_where_the_other_end_s_page_in_flight_holds_the_rest_by_the_densest_estimate() {
        let mark = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
        // Each end read 5,000 sign-ins over `mean_seconds`; its latest page showed `latest` a second.
        let meeting = |seconds: i64, newest_in_flight: bool, latest: [f64; 2], mean_seconds: f64| {
            let mut m = Meeting::default();
            let end = |second, density| End { reached: Some(Reached { second, ids: Vec::new() }), density: Some(density), records_read: 5000, seconds_read: mean_seconds, ..End::default() };
            m.ends[NEWEST_FIRST] = End { in_flight: newest_in_flight, ..end(mark, latest[0]) };
            m.ends[OLDEST_FIRST] = end(mark - Span::seconds(seconds), latest[1]);
            m
        };
        let between = |seconds: i64, newest_in_flight: bool| meeting(seconds, newest_in_flight, [10.0, 10.0], 500.0).oldest_first_should_stop(1000);
        // 10 sign-ins a second, pages of 1,000: 60 s between the marks is 600, 150 s is 1,500.
        assert!(between(60, true), "the newest-first end's page on its way holds the rest");
        assert!(!between(60, false), "no page on its way: this end's next page is as good as the other's");
        assert!(!between(150, true), "more than that page: both ends read on");
        // 1.5 a second on both latest pages (night), 10 on average: 150 s hold 225 by the pages,
        // 1,500 by the mean (2.5 on average: 375). One end's page at 20 a second: 60 s may hold
        // 1,200.
        assert!(!meeting(150, true, [1.5, 1.5], 500.0).oldest_first_should_stop(1000), "the mean is denser than the night's pages");
        assert!(meeting(150, true, [1.5, 1.5], 2000.0).oldest_first_should_stop(1000), "2.5 a second on average: 375");
        assert!(!meeting(60, true, [1.5, 20.0], 2000.0).oldest_first_should_stop(1000), "the denser page rules");
        let mut m = Meeting::default();
        m.ends[NEWEST_FIRST].in_flight = true;
        assert!(!m.oldest_first_should_stop(1000), "an end without a mark has read nothing yet");
        // Marks from a checkpoint, no page read in this run: nothing to estimate by, read on.
        let mut m = meeting(1, true, [1.0, 1.0], 1.0);
        for end in &mut m.ends {
            (end.density, end.records_read, end.seconds_read) = (None, 0, 0.0);
        }
        assert!(!m.oldest_first_should_stop(1000));
    }

    #[test]
    fn slow_pages_hand_over_what_lies_between_the_marks_or_beside_an_end_without_one() {
        let options = FetchOptions { page_size: 50, ..FetchOptions::for_budget(Budget { requests: 5, window: Duration::from_secs(10) }) };
        let mark = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap() + Span::milliseconds(500);
        let reached = |second| Reached { second, ids: vec!["a".into()] };
        let range = TimeRange { from: Some(mark - Span::hours(1)), to: None };
        let now = mark + Span::hours(1);
        let m = slow_pages(Some(reached(mark)), None);
        assert!(m.too_slow_for_two_chains(&options), "7 s pages against 2 s between requests");
        let windows = m.windows_between(range, &options, now);
        // 7 s pages at 5 per 10 s keep about 5 chains busy; the budget's default is 5 windows.
        assert_eq!(windows.len(), 5);
        assert!(m.should_hand_over(range, &options, now));
        assert_tiles(&windows, range.from, Some(Upper::Before(Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 1).unwrap())));
        // The oldest-first end read nothing yet: the range's start stays the lower end.
        let m = slow_pages(None, Some(reached(mark - Span::minutes(30))));
        let windows = m.windows_between(range, &options, now);
        assert_tiles(&windows, Some(Utc.with_ymd_and_hms(2024, 5, 1, 9, 30, 0).unwrap()), None);
        // A stretch of one second is one window: the ends read it, however slow their pages.
        let m = slow_pages(Some(reached(mark)), Some(reached(mark)));
        assert_eq!(m.windows_between(range, &options, now).len(), 1);
        assert!(m.too_slow_for_two_chains(&options) && !m.should_hand_over(range, &options, now));
        // Five pages between the marks (10 sign-ins a second for 25 s, 50 a page): two windows of
        // two pages or more, no more, and the ends go on.
        let m = slow_pages(Some(reached(mark)), Some(reached(mark - Span::seconds(25))));
        assert_eq!(m.windows_between(range, &options, now).len(), 2);
        assert!(!m.should_hand_over(range, &options, now));
        // Graph's usual pages stay with two chains.
        let mut m = slow_pages(Some(reached(mark)), None);
        m.ends[NEWEST_FIRST].first_latency = Some(Duration::from_secs(5));
        assert!(!m.too_slow_for_two_chains(&options));
    }

    #[test]
    fn newest_first_reads_from_both_ends_only_where_the_read_ahead_can_hold_the_oldest_end() {
        let tight = FetchOptions::default();
        let fresh = [WindowPlan::start(TimeRange::default())];
        assert!(applies(&tight, Order::Arrival, &fresh));
        assert!(applies(&tight, Order::NewestFirst, &fresh), "one tenant keeps the whole read-ahead: {}", hold_limit(&tight));
        // Many tenants at once share the read-ahead down to the least each keeps: windows then.
        let shared = FetchOptions { buffer_pages: LEAST_READ_AHEAD, ..tight };
        assert_eq!(hold_limit(&shared), 0);
        assert!(!applies(&shared, Order::NewestFirst, &fresh));
        assert!(applies(&shared, Order::Arrival, &fresh), "an export holds nothing back");
        // With room in the budget, windows.
        let generous = FetchOptions::for_budget(Budget { requests: 1000, window: Duration::from_secs(10) });
        assert!(!applies(&generous, Order::NewestFirst, &fresh) && !applies(&generous, Order::Arrival, &fresh));
    }

    #[test]
    fn held_pages_come_out_newest_first() {
        let (out, mut rx) = mpsc::channel(8);
        // The oldest-first end read [1, 2] then [3, 4].
        let page = |ids: [u32; 2]| PageEvent {
            tenant_index: 0,
            tenant: "t".into(),
            tenant_id: "t".into(),
            window: OLDEST_FIRST,
            records: ids.iter().map(|id| Record::from_json(format!(r#"{{"Id":"{id}"}}"#)).unwrap()).collect(),
            position: Position::Done,
            closes: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(hand_out_held(vec![page([1, 2]), page([3, 4])], &out)).unwrap();
        drop(out);
        let mut ids = Vec::new();
        while let Ok(Event::Page(page)) = rx.try_recv() {
            ids.extend(page.records.iter().map(|r| page::id(r).unwrap()));
        }
        assert_eq!(ids, ["4", "3", "2", "1"]);
    }
}
