//! One module per OAuth grant type. Each takes the approved request context and returns the
//! minted tokens or the AADSTS error Entra would return.
//!
//! Adding a grant (authorization_code + PKCE, device_code, certificate assertions for client
//! credentials) means adding a module here and a match arm in [`dispatch`]; client
//! authentication, scope parsing and issuance are shared.

pub mod client_credentials;
pub mod password;
pub mod refresh_token;

use chrono::{DateTime, Utc};

use crate::scenario::TenantSegment;
use crate::state::Emulator;
use crate::sts::errors::StsError;
use crate::sts::issue::Issued;
use crate::sts::request::{Endpoint, TokenRequest};

pub struct GrantContext<'a> {
    pub st: &'a Emulator,
    pub endpoint: Endpoint,
    pub segment: TenantSegment<'a>,
    /// The tenant path segment as sent (used in messages when no tenant resolved).
    pub segment_text: &'a str,
    pub request: &'a TokenRequest,
    pub now: DateTime<Utc>,
}

impl GrantContext<'_> {
    pub fn require(&self, name: &str) -> Result<&str, StsError> {
        self.request
            .get(name)
            .ok_or_else(|| StsError::missing_parameter(name))
    }

    pub fn client_id(&self) -> Result<&str, StsError> {
        self.request
            .client_id()
            .ok_or_else(|| StsError::missing_parameter("client_id"))
    }

    /// MSAL sends `client_info=1` and needs `client_info` back to build its cache key.
    pub fn wants_client_info(&self) -> bool {
        self.request.get("client_info") == Some("1")
    }
}

pub fn dispatch(ctx: &GrantContext<'_>, grant_type: &str) -> Result<Issued, StsError> {
    match grant_type {
        "client_credentials" => client_credentials::grant(ctx),
        "refresh_token" => refresh_token::grant(ctx),
        "password" => password::grant(ctx),
        // Later: "authorization_code", "urn:ietf:params:oauth:grant-type:device_code" (v1:
        // "device_code"), "urn:ietf:params:oauth:grant-type:jwt-bearer" (on-behalf-of).
        other => Err(StsError::unsupported_grant_type(other)),
    }
}
