//! Graph's throttle for identity and access reports (api-contracts §3.8): a budget of N
//! requests per sliding window of W seconds for each (tenant, app) pair; by default 5 per 10 s,
//! as documented. A request over budget gets 429 with `Retry-After` = whole seconds until the
//! oldest admitted request leaves the window. Rejected requests do not use up budget, so a
//! client that waits `Retry-After` gets through.
//!
//! Time is the emulator clock (ms), so `POST /_emulator/clock/advance` also empties windows.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleSpec {
    pub requests: u32,
    pub window_seconds: u32,
}

impl ThrottleSpec {
    /// Graph's documented reports limit.
    pub const GRAPH_REPORTS: ThrottleSpec = ThrottleSpec {
        requests: 5,
        window_seconds: 10,
    };

    pub fn validate(&self) -> Result<(), String> {
        if self.requests == 0 || self.window_seconds == 0 || self.window_seconds > 3600 {
            return Err(
                "throttle: requests must be at least 1 and windowSeconds between 1 and 3600"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    spec: Mutex<Option<ThrottleSpec>>,
    /// Admission times (ms) per (tenant, app), oldest first.
    windows: Mutex<HashMap<(String, String), VecDeque<i64>>>,
}

impl Throttle {
    pub fn new(spec: Option<ThrottleSpec>) -> Self {
        Self {
            spec: Mutex::new(spec),
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn spec(&self) -> Option<ThrottleSpec> {
        *self.spec.lock()
    }

    /// Replaces the limit (`None` disables throttling) and forgets past requests.
    pub fn set(&self, spec: Option<ThrottleSpec>) {
        *self.spec.lock() = spec;
        self.windows.lock().clear();
    }

    /// Admits a request at `now_ms`, or says how many seconds to wait.
    pub fn admit(&self, tenant: &str, app: &str, now_ms: i64) -> Result<(), u64> {
        let Some(spec) = self.spec() else {
            return Ok(());
        };
        let window_ms = i64::from(spec.window_seconds) * 1000;
        let mut windows = self.windows.lock();
        let times = windows
            .entry((tenant.to_ascii_lowercase(), app.to_ascii_lowercase()))
            .or_default();
        while times.front().is_some_and(|&t| t <= now_ms - window_ms) {
            times.pop_front();
        }
        if times.len() < spec.requests as usize {
            times.push_back(now_ms);
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now_ms);
        let wait_ms = (oldest + window_ms - now_ms).max(1);
        Err(((wait_ms + 999) / 1000) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window() {
        let t = Throttle::new(Some(ThrottleSpec::GRAPH_REPORTS));
        for i in 0..5 {
            assert_eq!(t.admit("t", "a", 1000 + i), Ok(()));
        }
        assert_eq!(t.admit("t", "a", 2000), Err(9));
        // Another app or tenant has its own budget.
        assert_eq!(t.admit("t", "b", 2000), Ok(()));
        assert_eq!(t.admit("u", "a", 2000), Ok(()));
        // Rejections don't use budget; the window slides.
        assert_eq!(t.admit("t", "a", 10_999), Err(1));
        assert_eq!(t.admit("t", "a", 11_000), Ok(()));
        t.set(None);
        for _ in 0..100 {
            assert_eq!(t.admit("t", "a", 11_000), Ok(()));
        }
    }
}
