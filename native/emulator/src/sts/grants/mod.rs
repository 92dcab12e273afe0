//! One module per OAuth grant type. Each takes the approved request context and returns the
//! minted tokens or the AADSTS error Entra would return.
//!
//! Adding a grant (on-behalf-of next) means adding a module here and a match arm in
//! [`dispatch`]; client authentication (secret or certificate assertion), scope parsing and
//! issuance are shared.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod password;
pub mod refresh_token;

use chrono::{DateTime, Utc};

use crate::interactive::RequestedResource;
use crate::scenario::{GRAPH_APP_ID, Scenario, TenantSegment};
use crate::state::Emulator;
use crate::sts::errors::StsError;
use crate::sts::issue::Issued;
use crate::sts::request::{Endpoint, TokenRequest};
use crate::sts::scopes::{OidcScopes, Permissions, ResourceScope};

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
        "authorization_code" => authorization_code::grant(ctx),
        // RFC 8628 name; ADAL (v1) sends the short one.
        device_code::GRANT_TYPE | "device_code" => device_code::grant(ctx),
        // Later: "urn:ietf:params:oauth:grant-type:jwt-bearer" (on-behalf-of).
        other => Err(StsError::unsupported_grant_type(other)),
    }
}

/// The stored resource of an interactive flow (authorization code, device code) as a
/// [`ResourceScope`] again.
pub fn stored_resource<'s>(
    scenario: &'s Scenario,
    label: &str,
    stored: Option<&RequestedResource>,
) -> Result<Option<ResourceScope<'s>>, StsError> {
    stored
        .map(|r| {
            let resource = scenario
                .resource_by_app_id(&r.app_id)
                .ok_or_else(|| StsError::resource_not_found(&r.audience, label))?;
            Ok(ResourceScope {
                resource,
                audience: r.audience.clone(),
                permissions: r.permissions.clone(),
            })
        })
        .transpose()
}

/// What a user flow that named no resource gets: Graph (as Entra does for OIDC-only scopes),
/// with Graph's app id as audience.
pub fn graph_default<'s>(
    scenario: &'s Scenario,
    label: &str,
) -> Result<ResourceScope<'s>, StsError> {
    let graph = scenario
        .graph()
        .ok_or_else(|| StsError::resource_not_found(GRAPH_APP_ID, label))?;
    Ok(ResourceScope {
        resource: graph,
        audience: graph.app_id.clone(),
        permissions: Permissions::Default,
    })
}

/// Either flag set in either request.
pub fn merge_oidc(a: OidcScopes, b: OidcScopes) -> OidcScopes {
    OidcScopes {
        openid: a.openid || b.openid,
        profile: a.profile || b.profile,
        email: a.email || b.email,
        offline_access: a.offline_access || b.offline_access,
    }
}
