//! Finding the calling app in a tenant and checking the credential it presents.
//!
//! Confidential clients must authenticate with a secret (body or HTTP Basic) or a certificate
//! client assertion (`sts::assertion`); public clients must not send a credential at all.
//! A multi-tenant app has one set of credentials, its home registration's, in every tenant
//! that holds a service principal for it.

use crate::scenario::{Application, Tenant};
use crate::sts::assertion::{self, JWT_BEARER};
use crate::sts::errors::StsError;
use crate::sts::grants::GrantContext;
use crate::tokens::ClientAuthMethod;

pub fn find_client<'t>(tenant: &'t Tenant, client_id: &str) -> Result<&'t Application, StsError> {
    tenant
        .application(client_id)
        .ok_or_else(|| StsError::unknown_client(client_id, tenant.default_domain()))
}

/// Whether the request carries any client credential (secret or assertion).
pub fn presents_credential(ctx: &GrantContext<'_>) -> bool {
    ctx.request.client_secret().is_some()
        || ctx.request.has("client_assertion")
        || ctx.request.has("client_assertion_type")
}

pub fn authenticate(
    ctx: &GrantContext<'_>,
    tenant: &Tenant,
    app: &Application,
) -> Result<ClientAuthMethod, StsError> {
    let request = ctx.request;
    let secret = request.client_secret();
    let assertion = request.get("client_assertion");
    let assertion_type = request.get("client_assertion_type");
    if app.public_client {
        return if presents_credential(ctx) {
            Err(StsError::public_client_sent_credential())
        } else {
            Ok(ClientAuthMethod::None)
        };
    }
    if assertion.is_some() || assertion_type.is_some() {
        if secret.is_some() {
            return Err(StsError::credentials_conflict());
        }
        let assertion_type =
            assertion_type.ok_or_else(|| StsError::missing_parameter("client_assertion_type"))?;
        let assertion = assertion.ok_or_else(|| StsError::missing_parameter("client_assertion"))?;
        if assertion_type != JWT_BEARER {
            return Err(StsError::unsupported_assertion_type(assertion_type));
        }
        assertion::verify(ctx, tenant, app, assertion)?;
        return Ok(ClientAuthMethod::Certificate);
    }
    let secret = secret.ok_or_else(StsError::client_secret_expected)?;
    let mut matched_expired = false;
    for candidate in &ctx.st.scenario.registration(app).secrets {
        if !constant_time_eq(candidate.value.as_bytes(), secret.as_bytes()) {
            continue;
        }
        match candidate
            .expires_on
            .map(|t| t.resolve(ctx.st.scenario.loaded_at))
        {
            Some(expiry) if expiry <= ctx.now => matched_expired = true,
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
