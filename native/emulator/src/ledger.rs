//! Every secret value the emulator knows or hands out (client secrets, passwords, seeded and
//! issued refresh tokens, access and ID tokens). Exposed to tests through
//! `GET /_emulator/issued-tokens` so they can scan pwsh output, logs and files and prove none
//! of these values leaked.
//!
//! It grows for the life of the process; a run issues thousands of tokens at most, which is a
//! few megabytes.

use std::collections::HashSet;

use parking_lot::Mutex;

#[derive(Debug, Default)]
pub struct SecretLedger {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    ordered: Vec<String>,
    seen: HashSet<String>,
}

impl SecretLedger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.seen.insert(value.to_owned()) {
            inner.ordered.push(value.to_owned());
        }
    }

    /// All values, in the order they were first recorded.
    pub fn snapshot(&self) -> Vec<String> {
        self.inner.lock().ordered.clone()
    }
}
