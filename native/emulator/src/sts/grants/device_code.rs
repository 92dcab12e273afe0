//! The device-code grant (RFC 8628, api-contracts §1.6): the client polls with the
//! `device_code` the devicecode endpoint gave it until the user approves on another device.
//!
//! Each poll, in order: unknown code or another client's → `bad_verification_code`
//! (AADSTS70018); the client authenticates like any grant (a confidential client without a
//! credential gets AADSTS7000218, as Entra answers the PartnerCenter module's issue #169);
//! already redeemed → `invalid_grant` 70000; past its lifetime on the emulator clock →
//! `expired_token` (70019); still pending and polled sooner than `interval` seconds after the
//! previous poll → `slow_down` (counted); an auto-approval whose poll count is reached is
//! applied; then pending → `authorization_pending` (70016), declined →
//! `authorization_declined` (70017), failed sign-in → its own error (50076, 50057, ...),
//! approved → tokens.

use chrono::Duration;

use crate::interactive::{DeviceCodeState, approve_device_code};
use crate::scenario::{Tenant, TenantSegment};
use crate::sts::client_auth::{authenticate, find_client};
use crate::sts::errors::StsError;
use crate::sts::grants::{GrantContext, graph_default, stored_resource};
use crate::sts::issue::{Issued, RefreshIssue, UserIssuance, user_tokens};
use crate::sts::request::Endpoint;
use crate::sts::scopes::delegated_grant;
use crate::tokens::UserTokenSubject;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn grant(ctx: &GrantContext<'_>) -> Result<Issued, StsError> {
    let scenario = &ctx.st.scenario;
    let client_id = ctx.client_id()?;
    // RFC 8628 says `device_code`; ADAL's v1 poll sends `code`.
    let device_code = ctx
        .request
        .get("device_code")
        .or_else(|| ctx.request.get("code"))
        .ok_or_else(|| StsError::missing_parameter("device_code"))?;
    let record = ctx
        .st
        .interactive
        .with_device_code(device_code, |r| r.map(|r| r.clone()))
        .filter(|r| r.client_id.eq_ignore_ascii_case(client_id))
        .ok_or_else(StsError::bad_verification_code)?;
    let record_tenant = record.tenant_id.as_deref().and_then(|t| scenario.tenant(t));
    let tenant: &Tenant = match (ctx.segment, record_tenant) {
        (TenantSegment::Tenant(path), Some(issued))
            if !path.id.eq_ignore_ascii_case(&issued.id) =>
        {
            return Err(StsError::bad_verification_code());
        }
        (TenantSegment::Tenant(path), _) => path,
        (_, Some(issued)) => issued,
        // Issued on common/organizations: the approving user's tenant, else any tenant that
        // knows the client.
        (_, None) => match &record.state {
            DeviceCodeState::Approved { tenant_id, .. } => scenario.tenant(tenant_id),
            _ => None,
        }
        .or_else(|| {
            scenario
                .tenants
                .iter()
                .find(|t| t.application(client_id).is_some())
        })
        .ok_or_else(StsError::bad_verification_code)?,
    };
    let app = find_client(tenant, client_id)?;
    let client_auth = authenticate(ctx, tenant, app)?;

    let now = ctx.now;
    let polled = ctx.st.interactive.with_device_code(device_code, |r| {
        let Some(code) = r else {
            return Err(StsError::bad_verification_code());
        };
        code.polls += 1;
        let previous = code.last_poll.replace(now);
        if matches!(code.state, DeviceCodeState::Redeemed) {
            return Err(StsError::device_code_redeemed());
        }
        if now >= code.expires_at {
            return Err(StsError::device_code_expired());
        }
        if !matches!(code.state, DeviceCodeState::Pending) {
            return Ok(code.state.clone());
        }
        if previous.is_some_and(|p| now - p < Duration::seconds(i64::from(code.interval_seconds))) {
            code.slow_downs += 1;
            return Err(StsError::slow_down(code.interval_seconds));
        }
        if let Some(rule) = code.auto_approve.clone()
            && code.pending_polls >= rule.after_polls
        {
            code.auto_approve = None;
            let _ = approve_device_code(scenario, code, &rule.sign_in(), now);
            return Ok(code.state.clone());
        }
        code.pending_polls += 1;
        Ok(DeviceCodeState::Pending)
    })?;

    let (tenant_id, user_id, mfa, auth_time) = match polled {
        DeviceCodeState::Pending => return Err(StsError::authorization_pending()),
        DeviceCodeState::Failed(e) => return Err(e),
        DeviceCodeState::Redeemed => return Err(StsError::device_code_redeemed()),
        DeviceCodeState::Approved {
            tenant_id,
            user_id,
            mfa,
            auth_time,
        } => (tenant_id, user_id, mfa, auth_time),
    };
    let home = scenario
        .tenant(&tenant_id)
        .ok_or_else(StsError::bad_verification_code)?;
    let label = home.default_domain();
    let user = home
        .user(&user_id)
        .ok_or_else(|| StsError::user_not_found(&user_id, label))?;
    let user_app = find_client(home, client_id)?;
    let requested = match stored_resource(scenario, label, record.resource.as_ref())? {
        Some(r) => r,
        None => graph_default(scenario, label)?,
    };
    let granted = delegated_grant(scenario, user_app, &requested)?;

    let spent = ctx
        .st
        .interactive
        .with_device_code(device_code, |r| match r {
            Some(code) if matches!(code.state, DeviceCodeState::Approved { .. }) => {
                code.state = DeviceCodeState::Redeemed;
                true
            }
            _ => false,
        });
    if !spent {
        return Err(StsError::device_code_redeemed());
    }
    let oidc = record.oidc;
    let v1 = ctx.endpoint == Endpoint::V1 || record.endpoint == Endpoint::V1;
    user_tokens(
        ctx.st,
        ctx.now,
        UserIssuance {
            subject: UserTokenSubject {
                tenant: home,
                user,
                app: user_app,
                client_auth,
                mfa,
                foreign: None,
            },
            requested: &requested,
            granted,
            oidc,
            id_token: v1 || oidc.openid,
            client_info: ctx.wants_client_info(),
            refresh: if v1 || oidc.offline_access {
                RefreshIssue::Fresh { auth_time }
            } else {
                RefreshIssue::None
            },
            nonce: None,
        },
    )
}
