//! A client-side throttle for Graph's identity and access reports: at most `requests` per
//! sliding `window` for each (tenant, application), Graph's documented 5 per 10 s by default
//! (api-contracts §3.8), so steady paging never draws a 429.
//!
//! Why not a token bucket (GCRA, the `governor` crate)? A bucket that allows a burst of N and
//! then one request every window/N lets N+1 requests into some sliding window, which Graph's
//! limiter answers with 429; without the burst it wastes most of the budget. This limiter keeps
//! N slots instead. A slot is taken when a request is sent and becomes usable again one window
//! after the server counted the request. Graph counts a request when it arrives, before the
//! page is built (the 1-5 s a sign-in page takes is spent after that), so the slot frees one
//! window after the send plus an arrival allowance, or one window after the answer if that came
//! sooner. Freeing a window after the answer instead would idle each slot for the page's
//! latency: 5 / (10 s + 3 s) is 77% of the budget, where this reaches 99%.
//!
//! The allowance only has to cover how much longer one request takes to arrive than the one
//! that reuses its slot (a new connection's handshake, jitter), not the whole way there. It
//! starts at [`INITIAL_ALLOWANCE`]; a `429` that still comes doubles it, up to
//! [`MAX_ALLOWANCE`], so a slow or uneven network costs one `Retry-After`, not one per window.
//! A `429` also pauses every slot for its `Retry-After` (another process using the same app,
//! a smaller server budget).
//!
//! Waiting requests go in order of their priority, first come first served among equals:
//! newest-first output needs the window being merged to page at its own pace, not behind every
//! window reading ahead (those fill the slots it leaves; when they had taken all the read-ahead,
//! the output waited on one page at a time of a window queued behind them).

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Allowed requests per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub requests: u32,
    pub window: Duration,
}

impl Default for Budget {
    /// Graph's limit for sign-in and other identity reports: 5 requests per 10 s per app and tenant.
    fn default() -> Self {
        Self { requests: 5, window: Duration::from_secs(10) }
    }
}

impl Budget {
    pub fn validated(self) -> crate::Result<Self> {
        if self.requests == 0 || self.requests > 10_000 || self.window.is_zero() || self.window > Duration::from_secs(3600) {
            return Err(crate::Error::invalid_input("ThrottleBudget", "it must allow 1 to 10000 requests per window of up to an hour"));
        }
        Ok(self)
    }
}

/// Added to each slot's wait: covers clock-rate differences, nothing else.
const MARGIN: Duration = Duration::from_millis(25);

/// How much later than the one reusing its slot a request is first assumed to reach the server.
pub const INITIAL_ALLOWANCE: Duration = Duration::from_millis(50);

/// The most that 429s can raise the allowance to: 5% of Graph's 10 s window. A network
/// more uneven than that costs a 429 and its `Retry-After` now and then, never a record.
pub const MAX_ALLOWANCE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Usable from this instant.
    FreeAt(Instant),
    /// A request sent at this instant is out.
    Busy { sent: Instant },
}

#[derive(Debug)]
struct State {
    slots: Vec<Slot>,
    paused_until: Option<Instant>,
    sent: u64,
    allowance: Duration,
    /// Requests waiting for a slot, by (priority, arrival): the first goes next.
    waiting: BTreeSet<(u32, u64)>,
    arrivals: u64,
}

#[derive(Debug)]
pub struct Limiter {
    budget: Budget,
    state: Mutex<State>,
    /// A slot was released or the first waiting request changed.
    changed: Notify,
}

enum Next {
    Take(usize),
    WaitUntil(Instant),
    WaitForChange,
}

impl Limiter {
    pub fn new(budget: Budget) -> Self {
        let now = Instant::now();
        Self {
            budget,
            state: Mutex::new(State {
                slots: vec![Slot::FreeAt(now); budget.requests.max(1) as usize],
                paused_until: None,
                sent: 0,
                allowance: INITIAL_ALLOWANCE,
                waiting: BTreeSet::new(),
                arrivals: 0,
            }),
            changed: Notify::new(),
        }
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Requests let through so far.
    pub fn sent(&self) -> u64 {
        self.state.lock().sent
    }

    /// Waits for a slot, first come first served. Hold the permit until the answer has
    /// arrived, then drop it. Cancel-safe: a dropped wait takes nothing.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        self.acquire_with(0).await
    }

    /// [`acquire`](Self::acquire) ahead of every waiting request with a larger `priority`.
    pub async fn acquire_with(self: &Arc<Self>, priority: u32) -> Permit {
        let turn = Turn::new(self, priority);
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let next = {
                let mut state = self.state.lock();
                let now = Instant::now();
                let paused = state.paused_until.filter(|&p| p > now);
                let earliest = state.slots.iter().enumerate().filter_map(|(i, s)| if let Slot::FreeAt(t) = s { Some((i, *t)) } else { None }).min_by_key(|&(_, t)| t);
                match (earliest, paused) {
                    _ if state.waiting.first() != Some(&turn.key) => Next::WaitForChange,
                    (_, Some(until)) => Next::WaitUntil(until),
                    (Some((i, t)), None) if t <= now => {
                        state.slots[i] = Slot::Busy { sent: now };
                        state.sent += 1;
                        Next::Take(i)
                    }
                    (Some((_, t)), None) => Next::WaitUntil(t),
                    (None, None) => Next::WaitForChange,
                }
            };
            match next {
                // The turn passes on as it drops.
                Next::Take(slot) => return Permit { limiter: self.clone(), slot },
                Next::WaitUntil(t) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(t) => {}
                        _ = &mut changed => {}
                    }
                }
                Next::WaitForChange => changed.await,
            }
        }
    }

    /// The server said "too many requests": nothing is sent before `retry_after` has passed,
    /// and slots are held longer from now on (the server counted later than assumed).
    pub fn pause(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut state = self.state.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        state.allowance = (state.allowance * 2).min(MAX_ALLOWANCE);
    }

    /// How late after its send a request is assumed to be counted, at most.
    pub fn allowance(&self) -> Duration {
        self.state.lock().allowance
    }

    fn release(&self, slot: usize) {
        let now = Instant::now();
        let mut state = self.state.lock();
        // When the server counted the request: on arrival, at the latest by its answer.
        let counted = match state.slots[slot] {
            Slot::Busy { sent } => now.min(sent + state.allowance),
            Slot::FreeAt(_) => now,
        };
        state.slots[slot] = Slot::FreeAt(counted + self.budget.window + MARGIN);
        drop(state);
        self.changed.notify_waiters();
    }
}

/// A request's place among those waiting; leaving it (slot taken or wait dropped) lets the next go.
struct Turn<'a> {
    limiter: &'a Limiter,
    key: (u32, u64),
}

impl<'a> Turn<'a> {
    fn new(limiter: &'a Limiter, priority: u32) -> Self {
        let mut state = limiter.state.lock();
        state.arrivals += 1;
        let key = (priority, state.arrivals);
        state.waiting.insert(key);
        drop(state);
        // A new first in line must not wait for the next release.
        limiter.changed.notify_waiters();
        Self { limiter, key }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.limiter.state.lock().waiting.remove(&self.key);
        self.limiter.changed.notify_waiters();
    }
}

/// A slot held while one request is out.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    slot: usize,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.release(self.slot);
    }
}

/// One limiter per (Graph host, tenant, application), shared by every query of the process.
#[derive(Debug, Default)]
pub struct Limiters {
    map: Mutex<HashMap<String, Arc<Limiter>>>,
}

impl Limiters {
    /// The limiter for `key`; a new one when the budget asked for differs from the current one.
    pub fn get(&self, key: &str, budget: Budget) -> Arc<Limiter> {
        let mut map = self.map.lock();
        match map.get(key) {
            Some(l) if l.budget == budget => l.clone(),
            _ => {
                let l = Arc::new(Limiter::new(budget));
                map.insert(key.to_owned(), l.clone());
                l
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `n` requests that each take `latency`, `concurrency` at a time; returns the
    /// (send, answer) instants relative to the start.
    async fn run(budget: Budget, n: usize, concurrency: usize, latency: Duration) -> Vec<(Duration, Duration)> {
        let limiter = Arc::new(Limiter::new(budget));
        let start = Instant::now();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (limiter, log, sem) = (limiter.clone(), log.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let _c = sem.acquire().await.unwrap();
                let permit = limiter.acquire().await;
                let sent = start.elapsed();
                tokio::time::sleep(latency).await;
                let answered = start.elapsed();
                drop(permit);
                log.lock().push((sent, answered));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut log = log.lock().clone();
        log.sort();
        log
    }

    /// The server counts each request on arrival, within the allowance after its send (or by
    /// its answer); in the worst case late for early ones and at the send for later ones. No
    /// window may hold more than N.
    fn never_over_budget(log: &[(Duration, Duration)], budget: Budget) {
        let n = budget.requests as usize;
        for i in n..log.len() {
            let (earlier_send, earlier_answer) = log[i - n];
            let counted = earlier_answer.min(earlier_send + INITIAL_ALLOWANCE);
            let later_send = log[i].0;
            assert!(later_send >= counted + budget.window, "request {i} sent at {later_send:?}, only {:?} after request {} was counted", later_send - counted, i - n);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn fills_the_budget_and_never_more() {
        let budget = Budget { requests: 5, window: Duration::from_secs(10) };
        let log = run(budget, 23, 4, Duration::from_millis(300)).await;
        never_over_budget(&log, budget);
        // The first five go at once; then five per window (+ latency) after.
        assert!(log[4].0 < Duration::from_millis(1000), "{log:?}");
        let last = log[22].0;
        assert!(last < Duration::from_secs(44), "23 requests at 5 per ~10.3 s should start within 4 windows, took {last:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn slow_pages_do_not_idle_the_budget() {
        // Pages that take 3 s (Graph's sign-in pages take 1-5 s): the slots still turn over once
        // per window, so 5 requests per 10 s minus the allowance: at least 99% of the budget.
        let budget = Budget { requests: 5, window: Duration::from_secs(10) };
        let log = run(budget, 50, 8, Duration::from_secs(3)).await;
        never_over_budget(&log, budget);
        let span = log[49].0 - log[0].0;
        // 45 requests after the first five need 9 windows at the budget's exact rate.
        let ideal = budget.window * 9;
        assert!(span.as_secs_f64() <= ideal.as_secs_f64() / 0.99, "50 requests took {span:?}, the budget allows them in {ideal:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_uneven_network_costs_a_few_429s_then_none() {
        // Graph's sliding window, counting each request on arrival: every other request takes
        // 300 ms longer to get there (a new connection's handshake), more than the first allowance.
        let budget = Budget { requests: 5, window: Duration::from_secs(10) };
        let limiter = Arc::new(Limiter::new(budget));
        let arrivals = Arc::new(Mutex::new(std::collections::VecDeque::<Instant>::new()));
        let rejected = Arc::new(Mutex::new(Vec::<usize>::new()));
        let sem = Arc::new(tokio::sync::Semaphore::new(3));
        let mut tasks = Vec::new();
        for i in 0..60usize {
            let (limiter, arrivals, rejected, sem) = (limiter.clone(), arrivals.clone(), rejected.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let _c = sem.acquire().await.unwrap();
                let mut attempt = 0;
                loop {
                    let permit = limiter.acquire().await;
                    let way_there = if (i + attempt) % 2 == 0 { Duration::from_millis(300) } else { Duration::ZERO };
                    tokio::time::sleep(way_there).await;
                    let admitted = {
                        let now = Instant::now();
                        let mut window = arrivals.lock();
                        while window.front().is_some_and(|&t| t + budget.window <= now) {
                            window.pop_front();
                        }
                        if window.len() < budget.requests as usize {
                            window.push_back(now);
                            true
                        } else {
                            false
                        }
                    };
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if admitted {
                        drop(permit);
                        return;
                    }
                    rejected.lock().push(i);
                    limiter.pause(Duration::from_secs(1));
                    drop(permit);
                    attempt += 1;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let rejected = rejected.lock().clone();
        // 50 ms, 100, 200, then 400 ms covers the 300 ms: at most three 429s, all early.
        assert!(rejected.len() <= 3, "429s for requests {rejected:?}");
        assert!(rejected.iter().all(|&i| i < 30), "429s for requests {rejected:?}");
        assert!(limiter.allowance() >= Duration::from_millis(300) - MARGIN && limiter.allowance() <= MAX_ALLOWANCE);
        assert_eq!(limiter.sent(), 60 + rejected.len() as u64);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_raises_the_allowance_up_to_its_maximum() {
        let limiter = Limiter::new(Budget::default());
        assert_eq!(limiter.allowance(), INITIAL_ALLOWANCE);
        for _ in 0..10 {
            limiter.pause(Duration::from_millis(1));
        }
        assert_eq!(limiter.allowance(), MAX_ALLOWANCE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let limiter = Arc::new(Limiter::new(Budget { requests: 5, window: Duration::from_secs(10) }));
        drop(limiter.acquire().await);
        limiter.pause(Duration::from_secs(7));
        let start = Instant::now();
        drop(limiter.acquire().await);
        assert!(start.elapsed() >= Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_nearer_request_goes_before_farther_ones_waiting_longer() {
        let limiter = Arc::new(Limiter::new(Budget { requests: 1, window: Duration::from_secs(5) }));
        drop(limiter.acquire().await);
        let start = Instant::now();
        let (order, sent) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let spawn = |name: &'static str, priority: u32| {
            let (limiter, order, sent) = (limiter.clone(), order.clone(), sent.clone());
            tokio::spawn(async move {
                let permit = limiter.acquire_with(priority).await;
                order.lock().push(name);
                sent.lock().push(start.elapsed());
                drop(permit);
            })
        };
        // Two far requests wait for the slot; a near one comes later and still goes first; the
        // far ones then keep their order of arrival.
        let far = spawn("far", 7);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let farther_later = spawn("far, later", 7);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let near = spawn("near", 1);
        for task in [far, farther_later, near] {
            task.await.unwrap();
        }
        assert_eq!(*order.lock(), vec!["near", "far", "far, later"]);
        // One request per window all the same.
        let sent = sent.lock().clone();
        assert!(sent.windows(2).all(|p| p[1] - p[0] >= Duration::from_secs(5)), "{sent:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_takes_no_slot() {
        let limiter = Arc::new(Limiter::new(Budget { requests: 1, window: Duration::from_secs(5) }));
        drop(limiter.acquire().await);
        // Waiting for the slot, then giving up.
        let waited = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(waited.is_err());
        assert_eq!(limiter.sent(), 1);
        let start = Instant::now();
        drop(limiter.acquire().await);
        assert!(start.elapsed() <= Duration::from_secs(5));
        assert_eq!(limiter.sent(), 2);
    }
}
