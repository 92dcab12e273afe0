//! The emulator clock: real time plus an offset that tests move forward.
//!
//! Every expiry decision (access-token `exp`/`nbf`, refresh-token inactivity, secret expiry)
//! reads this clock, so a test can jump 91 days ahead without waiting or touching the system
//! clock.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds())
    }

    /// Whole seconds since the epoch, the unit JWT claims use.
    pub fn now_epoch(&self) -> i64 {
        self.now().timestamp()
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }

    /// Moves the clock forward. Going backwards is not offered: expiry logic assumes time only
    /// grows, as it does in the real service.
    pub fn advance(&self, seconds: u64) -> DateTime<Utc> {
        let delta = i64::try_from(seconds).unwrap_or(i64::MAX);
        // The closure always returns Some, so fetch_update cannot fail; it is used (rather than
        // fetch_add) only to saturate instead of wrapping.
        let _ = self
            .offset_seconds
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_add(delta))
            });
        self.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::new();
        let before = clock.now();
        let after = clock.advance(86_400 * 91);
        assert!(after - before >= Duration::days(91));
        assert_eq!(clock.offset_seconds(), 86_400 * 91);
    }
}
