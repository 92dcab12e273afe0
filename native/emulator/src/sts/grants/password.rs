//! `grant_type=password` (ROPC, api-contracts §1.7). Included for its failures more than its
//! successes: Partner Center tells partners not to use it because MFA cannot be prompted, and
//! a tenant that requires MFA answers AADSTS50076.
//!
//! Order of checks follows Entra: the password is validated before MFA is demanded, so a
//! wrong password is AADSTS50126 even in an MFA tenant.

use crate::scenario::{Tenant, TenantSegment};
use crate::sts::client_auth::{authenticate, find_client};
use crate::sts::errors::StsError;
use crate::sts::grants::GrantContext;
use crate::sts::issue::{Issued, RefreshIssue, UserIssuance, user_tokens};
use crate::sts::request::Endpoint;
use crate::sts::scopes::{OidcScopes, delegated_grant, parse_v1_resource, parse_v2};
use crate::tokens::UserTokenSubject;

pub fn grant(ctx: &GrantContext<'_>) -> Result<Issued, StsError> {
    let scenario = &ctx.st.scenario;
    let client_id = ctx.client_id()?;
    let username = ctx.require("username")?;
    let password = ctx
        .request
        .get_raw("password")
        .ok_or_else(|| StsError::missing_parameter("password"))?;

    let tenant: &Tenant = match ctx.segment {
        TenantSegment::Tenant(t) => t,
        TenantSegment::Common | TenantSegment::Consumers => {
            return Err(StsError::grant_not_supported_on_common());
        }
        // /organizations: the user's home tenant comes from the UPN.
        TenantSegment::Organizations => scenario
            .tenants
            .iter()
            .find(|t| t.user_by_upn(username).is_some())
            .ok_or_else(|| StsError::user_not_found(username, ctx.segment_text))?,
    };
    let label = tenant.default_domain();
    let (requested, oidc) = match ctx.endpoint {
        Endpoint::V2 => {
            let raw = ctx.require("scope")?;
            let parsed = parse_v2(scenario, label, raw)?;
            let resource = parsed
                .resource
                .ok_or_else(|| StsError::invalid_scope(raw))?;
            (resource, parsed.oidc)
        }
        Endpoint::V1 => (
            parse_v1_resource(scenario, label, ctx.require("resource")?)?,
            OidcScopes::default(),
        ),
    };

    let app = find_client(tenant, client_id)?;
    let client_auth = authenticate(ctx, tenant, app)?;

    let user = tenant
        .user_by_upn(username)
        .ok_or_else(|| StsError::user_not_found(username, label))?;
    if !user.account_enabled {
        return Err(StsError::user_disabled());
    }
    let password_ok = user.password.as_deref().is_some_and(|p| p == password);
    if !password_ok {
        return Err(StsError::invalid_username_or_password());
    }
    if tenant.require_mfa {
        return Err(StsError::mfa_required(
            "invalid_grant",
            &requested.resource.app_id,
        ));
    }
    let granted = delegated_grant(scenario, app, &requested)?;

    let wants_refresh = ctx.endpoint == Endpoint::V1 || oidc.offline_access;
    user_tokens(
        ctx.st,
        ctx.now,
        UserIssuance {
            subject: UserTokenSubject {
                tenant,
                user,
                app,
                client_auth,
                mfa: false,
                foreign: None,
            },
            requested: &requested,
            granted,
            oidc,
            id_token: ctx.endpoint == Endpoint::V1 || oidc.openid,
            client_info: ctx.wants_client_info(),
            nonce: None,
            refresh: if wants_refresh {
                RefreshIssue::Fresh { auth_time: ctx.now }
            } else {
                RefreshIssue::None
            },
        },
    )
}
