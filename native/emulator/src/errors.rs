//! Errors that stop the emulator from starting. Errors a client provokes on purpose are not
//! here: they are protocol responses and live with the service that produces them
//! (`sts::errors`, `graph`, `partner_center`, `bearer`).
//!
//! Messages do not repeat their source; print with `{:#}` (anyhow) to see the whole chain.

use std::path::PathBuf;

use crate::keys::KeyError;
use crate::scenario::ScenarioError;
use crate::tls::TlsError;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot read scenario file {path}")]
    ReadScenario {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid scenario")]
    Scenario(#[from] ScenarioError),

    #[error("cannot bind {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },

    #[error("signing key")]
    Key(#[from] KeyError),

    #[error("TLS setup")]
    Tls(#[from] TlsError),

    #[error("I/O")]
    Io(#[from] std::io::Error),
}
