//! `grant_type=authorization_code` with PKCE (api-contracts §1.4): redeems a code that
//! `/authorize` issued after a scripted sign-in.
//!
//! Checks, in order: the code exists (AADSTS70000), the path tenant is the code's tenant or
//! `common`/`organizations` (700005), the client is known and authenticates (confidential
//! clients: secret or certificate assertion), the code was issued to this client (70000), it
//! was not redeemed yet (54005) and has not expired (70008, ten minutes on the emulator clock),
//! `redirect_uri` is the one sent to `/authorize` (900144 when missing, 500112 when
//! different), and `code_verifier` matches the PKCE challenge when one was sent (900144 when
//! missing, 501481 when wrong). Failed redemptions leave the code usable; only a successful
//! one spends it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::interactive::ChallengeMethod;
use crate::scenario::TenantSegment;
use crate::sts::client_auth::{authenticate, find_client};
use crate::sts::errors::StsError;
use crate::sts::grants::{GrantContext, graph_default, merge_oidc, stored_resource};
use crate::sts::issue::{Issued, RefreshIssue, UserIssuance, user_tokens};
use crate::sts::request::Endpoint;
use crate::sts::scopes::{delegated_grant, parse_v1_resource, parse_v2};
use crate::tokens::UserTokenSubject;

pub fn grant(ctx: &GrantContext<'_>) -> Result<Issued, StsError> {
    let scenario = &ctx.st.scenario;
    let client_id = ctx.client_id()?;
    let code = ctx.require("code")?;
    let record = ctx
        .st
        .interactive
        .code(code)
        .ok_or_else(StsError::authorization_code_invalid)?;
    let tenant = scenario
        .tenant(&record.tenant_id)
        .ok_or_else(StsError::authorization_code_invalid)?;
    match ctx.segment {
        TenantSegment::Tenant(t) if !t.id.eq_ignore_ascii_case(&tenant.id) => {
            return Err(StsError::authorization_code_other_tenant());
        }
        TenantSegment::Consumers => return Err(StsError::authorization_code_other_tenant()),
        _ => {}
    }

    let app = find_client(tenant, client_id)?;
    let client_auth = authenticate(ctx, tenant, app)?;
    if !record.client_id.eq_ignore_ascii_case(&app.app_id) {
        return Err(StsError::authorization_code_other_client());
    }
    if record.redeemed {
        return Err(StsError::authorization_code_redeemed());
    }
    if ctx.now >= record.expires_at {
        return Err(StsError::authorization_code_expired());
    }
    let redirect_uri = ctx
        .request
        .get_raw("redirect_uri")
        .ok_or_else(|| StsError::missing_parameter("redirect_uri"))?;
    if redirect_uri != record.redirect_uri {
        return Err(StsError::reply_address_mismatch(
            redirect_uri,
            &record.redirect_uri,
        ));
    }
    if let Some((challenge, method)) = &record.code_challenge {
        let verifier = ctx
            .request
            .get_raw("code_verifier")
            .ok_or_else(|| StsError::missing_parameter("code_verifier"))?;
        if !pkce_matches(verifier, challenge, *method) {
            return Err(StsError::code_verifier_mismatch());
        }
    }

    let label = tenant.default_domain();
    let user = tenant
        .user(&record.user_id)
        .ok_or_else(|| StsError::user_not_found(&record.user_id, label))?;
    if !user.account_enabled {
        return Err(StsError::user_disabled());
    }

    // The redemption may name the resource again (v2 `scope`, v1 `resource`); otherwise the
    // authorize request's resource applies.
    let (named, oidc) = match ctx.endpoint {
        Endpoint::V2 => match ctx.request.get("scope") {
            Some(raw) => {
                let parsed = parse_v2(scenario, label, raw)?;
                (parsed.resource, merge_oidc(record.oidc, parsed.oidc))
            }
            None => (None, record.oidc),
        },
        Endpoint::V1 => (
            ctx.request
                .get("resource")
                .map(|r| parse_v1_resource(scenario, label, r))
                .transpose()?,
            record.oidc,
        ),
    };
    let requested = match named {
        Some(r) => r,
        None => match stored_resource(scenario, label, record.resource.as_ref())? {
            Some(r) => r,
            None if ctx.endpoint == Endpoint::V2 => graph_default(scenario, label)?,
            None => return Err(StsError::missing_parameter("resource")),
        },
    };
    let granted = delegated_grant(scenario, app, &requested)?;

    // Spend the code last, so a concurrent redemption cannot also win.
    if !ctx.st.interactive.redeem_code(code) {
        return Err(StsError::authorization_code_redeemed());
    }
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
                mfa: record.mfa,
                foreign: None,
            },
            requested: &requested,
            granted,
            oidc,
            id_token: ctx.endpoint == Endpoint::V1 || oidc.openid,
            client_info: ctx.wants_client_info(),
            refresh: if wants_refresh {
                RefreshIssue::Fresh {
                    auth_time: record.auth_time,
                }
            } else {
                RefreshIssue::None
            },
            nonce: record.nonce.as_deref(),
        },
    )
}

/// RFC 7636 §4.6: `S256` compares base64url(SHA-256(verifier)) without padding.
pub fn pkce_matches(verifier: &str, challenge: &str, method: ChallengeMethod) -> bool {
    match method {
        ChallengeMethod::S256 => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        }
        ChallengeMethod::Plain => verifier == challenge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge, ChallengeMethod::S256));
        assert!(!pkce_matches(challenge, challenge, ChallengeMethod::S256));
        assert!(pkce_matches(challenge, challenge, ChallengeMethod::Plain));
    }
}
