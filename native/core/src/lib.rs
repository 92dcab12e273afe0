//! PartnerSecurity core library.
//!
//! Everything a CSP partner's automation needs to sign in the Secure Application Model way and
//! to prove it: environments (which cloud, which endpoints), token acquisition for every grant
//! (`auth`), a connected session that renews its own tokens (`session`), and typed errors whose
//! messages say what to do. The crate knows nothing about FFI or PowerShell; `native/ffi` wraps it.

pub mod auth;
pub mod checks;
pub mod client;
pub mod directory;
pub mod environment;
pub mod error;
pub mod http;
pub mod partner;
pub mod partner_reports;
pub mod report;
pub mod sam;
pub mod secret;
pub mod session;
pub mod signin;
pub mod signins;
pub mod spreadsheet;

pub use client::{AccessTokenRequest, IssuedToken, PartnerSecurity};
pub use error::{Error, ErrorKind, Result};
