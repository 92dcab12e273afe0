//! Integration tests: each test starts its own emulator in-process (the signing key is shared
//! per process, so starting is cheap) and talks to it over HTTP like any client would.

mod common;
mod flows;
mod signins_support;

mod authorization_code;
mod cli;
mod compliance;
mod client_assertion;
mod client_credentials;
mod control;
mod device_code;
mod discovery;
mod faults;
mod gdap;
mod key_vault;
mod mfa_policies;
mod password;
mod refresh_token;
mod resources;
mod signins;
mod signins_scale;
mod signins_throttle;
mod tls;
