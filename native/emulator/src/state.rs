//! Shared state of one running emulator.

use std::sync::Arc;

use crate::certificates::CertificateStore;
use crate::clock::Clock;
use crate::interactive::InteractiveStore;
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
    /// Authorization codes, device codes and scripted sign-ins.
    pub interactive: InteractiveStore,
    /// Certificate credentials (scenario and run time) and used assertion `jti`s.
    pub certificates: CertificateStore,
    /// Sign-in logs and the Graph run-time settings: the reports and directory throttles, page
    /// latency (`signins`).
    pub signins: crate::signins::SignInService,
    /// Fault injection on the data endpoints.
    pub faults: crate::faults::FaultInjector,
    /// Key Vault secrets (`key_vault`).
    pub key_vaults: crate::key_vault::VaultStore,
}

impl Emulator {
    pub fn new(base_url: String, scenario: Scenario, clock: Clock, keys: Arc<SigningKey>) -> Self {
        let refresh_tokens = RefreshTokenStore::new();
        refresh_tokens.seed(&scenario);
        let ledger = SecretLedger::new();
        for value in scenario.secret_values() {
            ledger.record(&value);
        }
        let certificates = CertificateStore::new();
        certificates.seed(&scenario);
        let signins = crate::signins::SignInService::new(&scenario);
        let faults = crate::faults::FaultInjector::new(scenario.faults.clone());
        let key_vaults = crate::key_vault::VaultStore::new(&scenario, &ledger);
        Self {
            base_url,
            scenario,
            clock,
            keys,
            refresh_tokens,
            ledger,
            requests: RequestLog::new(),
            interactive: InteractiveStore::new(),
            certificates,
            signins,
            faults,
            key_vaults,
        }
    }
}
