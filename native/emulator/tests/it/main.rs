//! Integration tests: each test starts its own emulator in-process (the signing key is shared
//! per process, so starting is cheap) and talks to it over HTTP like any client would.

mod common;

mod cli;
mod client_credentials;
mod control;
mod discovery;
mod password;
mod refresh_token;
mod resources;
mod tls;
