//! OpenID Connect discovery, signing keys and MSAL instance discovery (api-contracts §1.12,
//! §2.5, §2.6). Every URL points back at the emulator, because MSAL uses whatever the
//! discovery document says.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::scenario::TenantSegment;
use crate::state::AppState;
use crate::sts::errors::StsError;
use crate::sts::request_meta;
use crate::tokens::v1_issuer;

/// Resolves the tenant segment; unknown tenants get 400 AADSTS90002 as from Entra.
fn segment<'s>(st: &'s AppState, tenant: &str) -> Result<TenantSegment<'s>, StsError> {
    st.scenario
        .tenant_segment(tenant)
        .ok_or_else(|| StsError::tenant_not_found(tenant))
}

/// The tenant id for issuers; multi-tenant segments use Entra's literal `{tenantid}`
/// placeholder.
fn issuer_tenant(segment: &TenantSegment<'_>) -> String {
    segment
        .as_tenant()
        .map(|t| t.id.clone())
        .unwrap_or_else(|| "{tenantid}".to_owned())
}

/// A discovery document for the tenant segment (`build` gets the segment and the issuer's
/// tenant), or Entra's error for an unknown tenant.
fn document(
    st: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    build: impl FnOnce(&TenantSegment<'_>, &str) -> Value,
) -> Response {
    match segment(st, tenant) {
        Ok(seg) => Json(build(&seg, &issuer_tenant(&seg))).into_response(),
        Err(e) => e.render(&request_meta(st, headers)),
    }
}

pub async fn openid_configuration_v2(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = &st.base_url;
    document(&st, &tenant, &headers, |seg, tid| json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/graph/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
            "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{tenant}/kerberos"),
        "tenant_region_scope": seg.as_tenant().map(|_| "NA"),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    }))
}

pub async fn openid_configuration_v1(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = &st.base_url;
    document(&st, &tenant, &headers, |seg, tid| json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": v1_issuer(tid),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name",
            "family_name", "nickname"],
        "check_session_iframe": format!("{base}/{tenant}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/{tenant}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/{tenant}/kerberos"),
        "tenant_region_scope": seg.as_tenant().map(|_| "NA"),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    }))
}

pub async fn keys_v2(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let seg = match segment(&st, &tenant) {
        Ok(s) => s,
        Err(e) => return e.render(&request_meta(&st, &headers)),
    };
    let issuer = format!("{}/{}/v2.0", st.base_url, issuer_tenant(&seg));
    Json(json!({"keys": [st.keys.jwk(Some(&issuer))]})).into_response()
}

pub async fn keys_v1(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = segment(&st, &tenant) {
        return e.render(&request_meta(&st, &headers));
    }
    Json(json!({"keys": [st.keys.jwk(None)]})).into_response()
}

/// `GET /common/discovery/instance?authorization_endpoint=...&api-version=1.1`, which MSAL
/// calls for authority hosts it does not know.
pub async fn instance_discovery(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !tenant.eq_ignore_ascii_case("common") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let authority_tenant = query
        .get("authorization_endpoint")
        .and_then(|url| first_path_segment(url))
        .unwrap_or_else(|| "common".to_owned());
    let host = st
        .base_url
        .split_once("://")
        .map(|(_, h)| h)
        .unwrap_or(st.base_url.as_str())
        .to_owned();
    let body: Value = json!({
        "tenant_discovery_endpoint": format!("{}/{authority_tenant}/v2.0/.well-known/openid-configuration", st.base_url),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
    });
    Json(body).into_response()
}

fn first_path_segment(url: &str) -> Option<String> {
    let after_scheme = url.split_once("://").map(|(_, rest)| rest)?;
    let (_, path) = after_scheme.split_once('/')?;
    path.split('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
