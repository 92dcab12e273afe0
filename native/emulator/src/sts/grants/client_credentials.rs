//! `grant_type=client_credentials` with a client secret or a certificate assertion
//! (api-contracts §1.2, §1.3). App-only tokens carry the app's application permissions on the
//! resource as `roles`; no refresh token, no ID token.

use crate::scenario::TenantSegment;
use crate::sts::client_auth::{authenticate, find_client, presents_credential};
use crate::sts::errors::StsError;
use crate::sts::grants::GrantContext;
use crate::sts::issue::{Issued, app_token};
use crate::sts::request::Endpoint;
use crate::sts::scopes::{parse_client_credentials_v2, parse_v1_resource};

pub fn grant(ctx: &GrantContext<'_>) -> Result<Issued, StsError> {
    let scenario = &ctx.st.scenario;
    let client_id = ctx.client_id()?;
    let tenant = match ctx.segment {
        TenantSegment::Tenant(t) => t,
        // No user and no token to say which tenant: Entra needs it in the path.
        _ => {
            let registered = scenario.tenants.iter().find_map(|t| {
                t.applications
                    .iter()
                    .find(|a| a.app_id.eq_ignore_ascii_case(client_id))
            });
            return Err(match registered {
                Some(app) if !app.is_multi_tenant() => {
                    StsError::single_tenant_app_on_common(&app.app_id, &app.display_name)
                }
                _ => StsError::no_tenant_identifying_information(),
            });
        }
    };
    let label = tenant.default_domain();
    let requested = match ctx.endpoint {
        Endpoint::V2 => parse_client_credentials_v2(scenario, label, ctx.require("scope")?)?,
        Endpoint::V1 => parse_v1_resource(scenario, label, ctx.require("resource")?)?,
    };
    let app = find_client(tenant, client_id)?;
    if app.public_client {
        // A public client has no credential to prove it is the app.
        return Err(if presents_credential(ctx) {
            StsError::public_client_sent_credential()
        } else {
            StsError::client_secret_expected()
        });
    }
    let client_auth = authenticate(ctx, tenant, app)?;
    app_token(ctx.st, ctx.now, tenant, app, client_auth, &requested)
}
