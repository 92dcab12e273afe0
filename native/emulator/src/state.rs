//! Shared state of one running emulator.

use std::sync::Arc;

use crate::clock::Clock;
use crate::keys::SigningKey;
use crate::ledger::SecretLedger;
use crate::refresh_tokens::RefreshTokenStore;
use crate::request_log::RequestLog;
use crate::scenario::Scenario;

pub type AppState = Arc<Emulator>;

#[derive(Debug)]
pub struct Emulator {
    /// `http(s)://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    /// Immutable after start-up; what changes at run time (tokens, clock, revocations) lives
    /// in the fields below.
    pub scenario: Scenario,
    pub clock: Clock,
    pub keys: Arc<SigningKey>,
    pub refresh_tokens: RefreshTokenStore,
    pub ledger: SecretLedger,
    pub requests: RequestLog,
}

impl Emulator {
    pub fn new(base_url: String, scenario: Scenario, clock: Clock, keys: Arc<SigningKey>) -> Self {
        let refresh_tokens = RefreshTokenStore::new();
        refresh_tokens.seed(&scenario);
        let ledger = SecretLedger::new();
        for value in scenario.secret_values() {
            ledger.record(&value);
        }
        Self {
            base_url,
            scenario,
            clock,
            keys,
            refresh_tokens,
            ledger,
            requests: RequestLog::new(),
        }
    }
}
