//! The Entra ID security token service: token endpoints (v1 and v2), authorize (scripted
//! sign-in) and devicecode endpoints, discovery, signing keys.
//!
//! Paths are those of `https://login.microsoftonline.com` relative to the emulator base; the
//! `{tenant}` segment is a tenant GUID, one of its domains, `common` or `organizations`.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod devicecode;
pub mod discovery;
pub mod errors;
pub mod grants;
pub mod issue;
pub mod request;
pub mod scopes;
pub mod token;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::state::AppState;
use errors::RequestMeta;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token_v2))
        .route("/{tenant}/oauth2/token", post(token::token_v1))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::authorize_v2),
        )
        .route("/{tenant}/oauth2/authorize", get(authorize::authorize_v1))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(devicecode::devicecode_v2),
        )
        .route(
            "/{tenant}/oauth2/devicecode",
            post(devicecode::devicecode_v1),
        )
        .route("/devicelogin", get(devicecode::devicelogin))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::openid_configuration_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys_v2))
        .route("/{tenant}/discovery/keys", get(discovery::keys_v1))
        // Only `common` answers; routed with a parameter so it does not shadow the key routes.
        .route(
            "/{tenant}/discovery/instance",
            get(discovery::instance_discovery),
        )
}

/// Correlation id (echo of `client-request-id` when the client sent a sane one), clock and
/// base URL for an STS response.
pub fn request_meta(st: &AppState, headers: &HeaderMap) -> RequestMeta {
    let correlation_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    RequestMeta {
        correlation_id,
        now: st.clock.now(),
        base_url: st.base_url.clone(),
    }
}
