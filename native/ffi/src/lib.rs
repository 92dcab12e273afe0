//! FFI layer of PartnerSecurity: interoptopus services over `partnersecurity-core`.
//!
//! Deliberately thin. Requests cross as JSON documents (UTF-8), answers as a [`Reply`](reply::Reply): a typed
//! status, a stable code, a readable message and a JSON payload. Domain logic lives in the core;
//! this crate only translates, runs futures on one tokio runtime, and makes sure no panic ever
//! unwinds into the .NET host.

use interoptopus::inventory::RustInventory;
use interoptopus::{guard, service};

pub mod assessment;
mod guarded;
pub mod reply;
pub mod requests;
pub mod runtime;
pub mod sam;
pub mod service;
pub mod signins;
pub mod strings;

/// Everything the C# bindings are generated from.
pub fn ffi_inventory() -> RustInventory {
    RustInventory::new()
        .register(strings::register)
        .register(guard!(ffi_inventory))
        .register(service!(service::PartnerSecurityNative))
        .validate()
}
