//! Finding the calling app in a tenant and checking the credential it presents.
//!
//! Confidential clients must authenticate (secret now; certificate assertions later), public
//! clients must not send a credential at all.

use chrono::{DateTime, Utc};

use crate::scenario::{Application, Tenant};
use crate::sts::errors::StsError;
use crate::sts::request::TokenRequest;
use crate::tokens::ClientAuthMethod;

pub fn find_client<'t>(tenant: &'t Tenant, client_id: &str) -> Result<&'t Application, StsError> {
    tenant
        .application(client_id)
        .ok_or_else(|| StsError::unknown_client(client_id, tenant.default_domain()))
}

pub fn authenticate(
    app: &Application,
    request: &TokenRequest,
    now: DateTime<Utc>,
    loaded_at: DateTime<Utc>,
) -> Result<ClientAuthMethod, StsError> {
    let secret = request.client_secret();
    let assertion = request.has("client_assertion");
    if app.public_client {
        return if secret.is_some() || assertion {
            Err(StsError::public_client_sent_credential())
        } else {
            Ok(ClientAuthMethod::None)
        };
    }
    if assertion {
        return Err(StsError::client_assertion_not_supported());
    }
    let secret = secret.ok_or_else(StsError::client_secret_expected)?;
    let mut matched_expired = false;
    for candidate in &app.secrets {
        if !constant_time_eq(candidate.value.as_bytes(), secret.as_bytes()) {
            continue;
        }
        match candidate.expires_on.map(|t| t.resolve(loaded_at)) {
            Some(expiry) if expiry <= now => matched_expired = true,
            _ => return Ok(ClientAuthMethod::Secret),
        }
    }
    if matched_expired {
        Err(StsError::client_secret_expired(&app.app_id))
    } else {
        Err(StsError::invalid_client_secret(&app.app_id))
    }
}

/// Compares without an early exit, so response timing does not reveal how much of a guessed
/// secret was right (a habit worth keeping even in an emulator).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
