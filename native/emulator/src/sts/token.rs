//! `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/token`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::request_log::TokenRequestSummary;
use crate::state::AppState;
use crate::sts::errors::{JSON_UTF8, StsError};
use crate::sts::grants::{GrantContext, dispatch};
use crate::sts::issue::Issued;
use crate::sts::request::{Endpoint, TokenRequest};
use crate::sts::request_meta;

pub async fn token_v2(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&st, Endpoint::V2, &tenant, &headers, &body)
}

pub async fn token_v1(
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
        grant_type: request.get("grant_type").map(str::to_owned),
        client_id: request.client_id().map(str::to_owned),
    };
    let mut response = match run(st, endpoint, tenant, &request, &meta) {
        Ok(issued) => {
            let mut ok = Json(issued.render(endpoint)).into_response();
            // Token responses must never be cached by intermediaries (RFC 6749 §5.1).
            ok.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            ok.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache"),
            );
            ok.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            ok
        }
        Err(err) => {
            tracing::info!(code = err.code, error = err.error, "token request refused");
            err.render(&meta)
        }
    };
    response.extensions_mut().insert(summary);
    response
}

fn run(
    st: &AppState,
    endpoint: Endpoint,
    tenant: &str,
    request: &TokenRequest,
    meta: &crate::sts::errors::RequestMeta,
) -> Result<Issued, StsError> {
    let segment = st
        .scenario
        .tenant_segment(tenant)
        .ok_or_else(|| StsError::tenant_not_found(tenant))?;
    let grant_type = request
        .get("grant_type")
        .ok_or_else(|| StsError::missing_parameter("grant_type"))?;
    if endpoint == Endpoint::V2 && request.has("resource") {
        return Err(StsError::resource_parameter_not_supported());
    }
    let ctx = GrantContext {
        st,
        endpoint,
        segment,
        segment_text: tenant,
        request,
        now: meta.now,
    };
    dispatch(&ctx, grant_type)
}
