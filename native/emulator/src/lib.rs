//! Local emulator of the Microsoft cloud endpoints PartnerSecurity talks to: the Entra ID
//! security token service, Microsoft Graph, Partner Center and Key Vault secrets.
//!
//! It is an independent implementation of Microsoft's documented contracts
//! (`shared/reference/api-contracts.md`) and deliberately shares no code with
//! `partnersecurity-core`: when one of the two misreads a contract, a test fails instead of
//! both agreeing with themselves.
//!
//! The binary (`partnersec-emulator`) and the integration tests both start the server through
//! [`serve`], so what the tests prove is what the binary runs.

pub mod bearer;
pub mod certificates;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod control;
pub mod control_interactive;
pub mod errors;
pub mod faults;
pub mod gdap;
pub mod graph;
pub mod interactive;
pub mod jwt;
pub mod key_vault;
pub mod keys;
pub mod ledger;
pub mod partner_center;
pub mod refresh_tokens;
pub mod request_log;
pub mod scenario;
pub mod server;
pub mod signins;
pub mod state;
pub mod sts;
pub mod throttle;
pub mod tls;
pub mod tokens;

pub use config::{EmulatorConfig, ScenarioSource};
pub use errors::EmulatorError;
pub use keys::SigningKey;
pub use scenario::Scenario;
pub use server::{RunningEmulator, serve};
