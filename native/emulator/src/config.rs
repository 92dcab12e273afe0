//! How to start an emulator: shared by the CLI and by tests that run it in-process.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::errors::EmulatorError;
use crate::keys::SigningKey;

#[derive(Debug, Clone)]
pub enum ScenarioSource {
    File(PathBuf),
    /// Scenario JSON text (tests build scenarios inline).
    Json(String),
}

impl ScenarioSource {
    pub fn read(&self) -> Result<String, EmulatorError> {
        match self {
            ScenarioSource::File(path) => {
                std::fs::read_to_string(path).map_err(|source| EmulatorError::ReadScenario {
                    path: path.clone(),
                    source,
                })
            }
            ScenarioSource::Json(text) => Ok(text.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub scenario: ScenarioSource,
    /// Loopback by default: the emulator hands out tokens to anyone who asks.
    pub bind: IpAddr,
    /// 0 lets the OS pick a free port.
    pub port: u16,
    pub tls: bool,
    /// Token-signing key; `None` uses the per-process key (see `SigningKey::process_default`).
    pub signing_key: Option<Arc<SigningKey>>,
}

impl EmulatorConfig {
    pub fn new(scenario: ScenarioSource) -> Self {
        Self {
            scenario,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls: false,
            signing_key: None,
        }
    }

    pub fn with_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }
}
