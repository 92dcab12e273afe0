//! `POST /{tenant}/oauth2/v2.0/devicecode`, the v1 `POST /{tenant}/oauth2/devicecode`
//! (api-contracts §1.6) and a placeholder `GET /devicelogin` page.
//!
//! v2 takes `scope` and answers integers and `verification_uri`; v1 takes `resource` and
//! answers strings and `verification_url`, as ADAL expects. Lifetime and interval come from
//! the scenario (`deviceCodeLifetimeSeconds`, default 900; `deviceCodePollIntervalSeconds`,
//! default 5). Nobody visits the verification page: the code is approved through the control
//! plane (`/_emulator/device-codes/approve`) or automatically (`.../auto-approve`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Duration;
use serde_json::json;

use crate::interactive::{DeviceCode, DeviceCodeState, RequestedResource};
use crate::request_log::TokenRequestSummary;
use crate::scenario::{Application, TenantSegment};
use crate::state::AppState;
use crate::sts::client_auth::find_client;
use crate::sts::errors::{JSON_UTF8, StsError};
use crate::sts::request::{Endpoint, TokenRequest};
use crate::sts::request_meta;
use crate::sts::scopes::{OidcScopes, parse_v1_resource, parse_v2};
use crate::tokens::random_b64;

pub async fn devicecode_v2(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&st, Endpoint::V2, &tenant, &headers, &body)
}

pub async fn devicecode_v1(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&st, Endpoint::V1, &tenant, &headers, &body)
}

fn handle(
    st: &AppState,
    endpoint: Endpoint,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let meta = request_meta(st, headers);
    let request = TokenRequest::parse(headers, body);
    let summary = TokenRequestSummary {
        grant_type: None,
        client_id: request.client_id().map(str::to_owned),
    };
    let mut response = match run(st, endpoint, tenant, &request, meta.now) {
        Ok(body) => {
            let mut ok = Json(body).into_response();
            ok.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            ok.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache"),
            );
            ok
        }
        Err(err) => {
            tracing::info!(
                code = err.code,
                error = err.error,
                "devicecode request refused"
            );
            err.render(&meta)
        }
    };
    response.extensions_mut().insert(summary);
    response
}

fn run(
    st: &AppState,
    endpoint: Endpoint,
    tenant_text: &str,
    request: &TokenRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<serde_json::Value, StsError> {
    let scenario = &st.scenario;
    let segment = scenario
        .tenant_segment(tenant_text)
        .ok_or_else(|| StsError::tenant_not_found(tenant_text))?;
    let client_id = request
        .client_id()
        .ok_or_else(|| StsError::missing_parameter("client_id"))?;
    let (app, label): (&Application, &str) = match segment {
        TenantSegment::Tenant(t) => (find_client(t, client_id)?, t.default_domain()),
        _ => (
            scenario
                .tenants
                .iter()
                .find_map(|t| t.application(client_id))
                .ok_or_else(|| StsError::unknown_client(client_id, tenant_text))?,
            tenant_text,
        ),
    };
    let (resource, oidc) = match endpoint {
        Endpoint::V2 => {
            if request.has("resource") {
                return Err(StsError::resource_parameter_not_supported());
            }
            let raw = request
                .get("scope")
                .ok_or_else(|| StsError::missing_parameter("scope"))?;
            let parsed = parse_v2(scenario, label, raw)?;
            (parsed.resource, parsed.oidc)
        }
        Endpoint::V1 => {
            let resource = request
                .get("resource")
                .ok_or_else(|| StsError::missing_parameter("resource"))?;
            (
                Some(parse_v1_resource(scenario, label, resource)?),
                OidcScopes::default(),
            )
        }
    };

    let lifetime = scenario.device_code_lifetime_seconds;
    let interval = scenario.device_code_poll_interval_seconds;
    let device_code = format!("DAQABIQEAAAB{}", random_b64(96));
    st.ledger.record(&device_code);
    let user_code = st.interactive.store_device_code(
        device_code.clone(),
        DeviceCode {
            user_code: String::new(),
            client_id: app.app_id.clone(),
            tenant_id: segment.as_tenant().map(|t| t.id.clone()),
            endpoint,
            resource: resource.map(|r| RequestedResource {
                app_id: r.resource.app_id.clone(),
                audience: r.audience,
                permissions: r.permissions,
            }),
            oidc,
            created_at: now,
            expires_at: now + Duration::seconds(i64::from(lifetime)),
            interval_seconds: interval,
            last_poll: None,
            polls: 0,
            pending_polls: 0,
            slow_downs: 0,
            auto_approve: None,
            state: DeviceCodeState::Pending,
        },
        scenario.device_code_auto_approve.as_ref(),
    );
    let verification = format!("{}/devicelogin", st.base_url);
    let message = format!(
        "To sign in, use a web browser to open the page {verification} and enter the code {user_code} to authenticate."
    );
    tracing::info!(client_id = %app.app_id, "device code issued");
    Ok(match endpoint {
        Endpoint::V2 => json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification,
            "expires_in": lifetime,
            "interval": interval,
            "message": message,
        }),
        Endpoint::V1 => json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_url": verification,
            "expires_in": lifetime.to_string(),
            "interval": interval.to_string(),
            "message": message,
        }),
    })
}

/// The page the device-code message points at. Approval itself goes through the control plane.
pub async fn devicelogin() -> Response {
    Html(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Enter code</title></head><body>\
         <h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>\
         <p>partnersec-emulator: there is no real sign-in here. Approve a code with \
         <code>POST /_emulator/device-codes/approve {\"userCode\": \"...\", \"userId\": \"...\", \"mfa\": true}</code> \
         or set <code>POST /_emulator/device-codes/auto-approve</code>.</p></body></html>",
    )
    .into_response()
}
