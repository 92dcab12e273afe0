//! `grant_type=refresh_token` (api-contracts §1.5): rolling, multi-resource refresh tokens.
//!
//! The tenant's `requireMfa` is not applied here: the grant carries the MFA state of the
//! original sign-in, and Partner Center (not Entra) is what rejects a non-MFA App+User token
//! (§5.4). A tenant with `requireMfaForRefreshTokens` behaves like a Conditional Access policy
//! evaluated on refresh: a grant whose sign-in did not do MFA gets AADSTS50076
//! `interaction_required` (suberror `basic_action`).
//!
//! A partner user's token redeemed at a customer tenant's authority (`/{customer}/...`) works
//! while the partner has an active GDAP relationship with that customer and the app has a
//! service principal there; the access token is the customer's (`tid`) and names the partner
//! user as a foreign principal (`idp` = the partner tenant, `wids` = the relationship's roles).
//! Without a relationship the answer is AADSTS90099.

use crate::gdap::delegated_access;
use crate::refresh_tokens::Unusable;
use crate::scenario::TenantSegment;
use crate::sts::client_auth::{authenticate, find_client};
use crate::sts::errors::StsError;
use crate::sts::grants::GrantContext;
use crate::sts::issue::{Issued, RefreshIssue, UserIssuance, user_tokens};
use crate::sts::request::Endpoint;
use crate::sts::scopes::{
    OidcScopes, Permissions, ResourceScope, delegated_grant, parse_v1_resource, parse_v2,
};
use crate::tokens::{ForeignPrincipal, UserTokenSubject};

pub fn grant(ctx: &GrantContext<'_>) -> Result<Issued, StsError> {
    let scenario = &ctx.st.scenario;
    let client_id = ctx.client_id()?;
    let token = ctx.require("refresh_token")?;

    // Unknown or garbage tokens look the same to Entra: a malformed grant.
    let record = ctx
        .st
        .refresh_tokens
        .get(token)
        .ok_or_else(StsError::malformed_grant)?;
    let home = scenario
        .tenant(&record.tenant_id)
        .ok_or_else(StsError::malformed_grant)?;
    // On /common and /organizations the token itself says which tenant it belongs to.
    let tenant = match ctx.segment {
        TenantSegment::Tenant(t) => t,
        _ => home,
    };

    let app = find_client(tenant, client_id)?;
    let client_auth = authenticate(ctx, tenant, app)?;

    let foreign = if tenant.id.eq_ignore_ascii_case(&home.id) {
        None
    } else {
        let access =
            delegated_access(home, &tenant.id, scenario.loaded_at, ctx.now).ok_or_else(|| {
                StsError::app_not_authorized_in_tenant(
                    &app.app_id,
                    &app.display_name,
                    tenant.default_domain(),
                )
            })?;
        Some(ForeignPrincipal {
            home,
            roles: access.roles,
        })
    };
    if !record.client_id.eq_ignore_ascii_case(&app.app_id) {
        return Err(StsError::refresh_token_for_other_client());
    }
    match ctx.st.refresh_tokens.check(&record, ctx.now) {
        Ok(()) => {}
        Err(Unusable::Revoked {
            auth_time,
            valid_from,
        }) => {
            return Err(StsError::refresh_token_revoked(auth_time, valid_from));
        }
        Err(Unusable::Inactive { issued_at }) => {
            return Err(StsError::refresh_token_inactive(issued_at));
        }
    }
    let user = home
        .user(&record.user_id)
        .ok_or_else(|| StsError::user_not_found(&record.user_id, home.default_domain()))?;
    if !user.account_enabled {
        return Err(StsError::user_disabled());
    }

    let label = tenant.default_domain();
    let original = || -> Result<ResourceScope<'_>, StsError> {
        let resource = scenario
            .resource_by_app_id(&record.resource_app_id)
            .ok_or_else(|| StsError::resource_not_found(&record.resource_identifier, label))?;
        Ok(ResourceScope {
            resource,
            audience: record.resource_identifier.clone(),
            permissions: Permissions::Default,
        })
    };
    let (requested, oidc) = match ctx.endpoint {
        Endpoint::V2 => match ctx.request.get("scope") {
            Some(raw) => {
                let parsed = parse_v2(scenario, label, raw)?;
                match parsed.resource {
                    Some(r) => (r, parsed.oidc),
                    None => (original()?, parsed.oidc),
                }
            }
            None => (original()?, OidcScopes::default()),
        },
        Endpoint::V1 => match ctx.request.get("resource") {
            Some(r) => (
                parse_v1_resource(scenario, label, r)?,
                OidcScopes::default(),
            ),
            None => (original()?, OidcScopes::default()),
        },
    };
    if home.require_mfa_for_refresh_tokens && !record.mfa {
        return Err(StsError::mfa_required(
            "interaction_required",
            &requested.resource.app_id,
        ));
    }
    let granted = delegated_grant(scenario, app, &requested)?;

    user_tokens(
        ctx.st,
        ctx.now,
        UserIssuance {
            subject: UserTokenSubject {
                tenant,
                user,
                app,
                client_auth,
                mfa: record.mfa,
                foreign,
            },
            requested: &requested,
            granted,
            oidc,
            // v1 user flows always return an ID token; v2 only when `openid` was asked for.
            id_token: ctx.endpoint == Endpoint::V1 || oidc.openid,
            client_info: ctx.wants_client_info(),
            nonce: None,
            refresh: RefreshIssue::Rotate {
                old: token,
                record: &record,
            },
        },
    )
}
