//! The one answer type every call returns.

use interoptopus::ffi;
use partnersecurity_core::{Error, ErrorKind};
use serde::Serialize;

/// Outcome class of a call; `Ok` or the kind of failure. The C# side maps each to an
/// exception type and a PowerShell `ErrorCategory`.
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    InvalidInput,
    Authentication,
    PermissionDenied,
    NotFound,
    Throttled,
    Network,
    InvalidResponse,
    NotConnected,
    Cancelled,
    Storage,
    Internal,
}

/// A call's answer: `status`, a stable `code` (e.g. `AADSTS700082`, empty when none), a
/// user-readable `message` (empty on success; never contains a secret) and a JSON `json` payload.
#[ffi]
pub struct Reply {
    pub status: Status,
    pub code: ffi::String,
    pub message: ffi::String,
    pub json: ffi::String,
}

impl Reply {
    pub fn ok_json(json: String) -> Self {
        Self { status: Status::Ok, code: String::new().into(), message: String::new().into(), json: json.into() }
    }

    /// Serialises a payload; a serialisation failure is a bug and is reported as one.
    pub fn ok<T: Serialize>(value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(json) => Self::ok_json(json),
            Err(e) => Self::internal(format!("the answer could not be serialised ({e})")),
        }
    }

    pub fn error(error: &Error) -> Self {
        Self {
            status: status_of(error.kind()),
            code: error.code().unwrap_or_default().into(),
            message: error.to_string().into(),
            json: String::new().into(),
        }
    }

    pub fn internal(message: String) -> Self {
        Self::error(&Error::Internal(message))
    }
}

impl From<partnersecurity_core::Result<Reply>> for Reply {
    fn from(result: partnersecurity_core::Result<Reply>) -> Self {
        result.unwrap_or_else(|e| Reply::error(&e))
    }
}

pub fn status_of(kind: ErrorKind) -> Status {
    match kind {
        ErrorKind::InvalidInput => Status::InvalidInput,
        ErrorKind::Authentication => Status::Authentication,
        ErrorKind::PermissionDenied => Status::PermissionDenied,
        ErrorKind::NotFound => Status::NotFound,
        ErrorKind::Throttled => Status::Throttled,
        ErrorKind::Network => Status::Network,
        ErrorKind::InvalidResponse => Status::InvalidResponse,
        ErrorKind::NotConnected => Status::NotConnected,
        ErrorKind::Cancelled => Status::Cancelled,
        ErrorKind::Storage => Status::Storage,
        ErrorKind::Internal => Status::Internal,
    }
}
