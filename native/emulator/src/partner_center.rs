//! Partner Center REST API, mounted at `/partnercenter` (`{base}/partnercenter/v1/...`).
//!
//! First slice: `GET /v1/profiles/organization`. Customers, fraud events and the MFA reports
//! (api-contracts §5.5–5.8) are added here as handlers plus router lines.
//!
//! Behaviour reproduced:
//! - errors are `{code, description, data, source}` (§5.3); responses echo `MS-CorrelationId`
//!   and `MS-RequestId` (§5.2);
//! - App+User tokens (they carry `scp`) without `mfa` in `amr` are refused with
//!   `401 Unauthorized - MFA required` and `WWW-Authenticate: Bearer error="invalid_token"`
//!   (§5.4). The reason phrase is real on HTTP/1.1; the JSON body (code 900421 by default,
//!   configurable) is the documented-by-third-parties addition, since HTTP/2 has no reason
//!   phrase. App-only tokens are not subject to the check.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::bearer::{self, BearerError, ValidatedToken};
use crate::scenario::Tenant;
use crate::state::AppState;

/// Partner Center API first-party app id (api-contracts §5.1).
pub const PARTNER_CENTER_APP_ID: &str = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";

mod compliance;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/profiles/organization", get(organization_profile))
        .route("/v1/fraudEvents", get(compliance::fraud_events))
        .route("/v1/customers", get(compliance::customers))
        .route(
            "/v1/nonMfaCompliantPartnerPrincipals",
            get(compliance::non_mfa_compliant_principals),
        )
        .route(
            "/v1/applicationmfaadoptionstatus",
            get(compliance::application_mfa_adoption),
        )
        .fallback(not_found)
}

struct PcCall {
    correlation_id: String,
    request_id: String,
}

impl PcCall {
    fn new(headers: &HeaderMap) -> Self {
        let echo = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= 100)
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        };
        Self {
            correlation_id: echo("ms-correlationid"),
            request_id: echo("ms-requestid"),
        }
    }

    fn finish(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        for (name, value) in [
            ("MS-CorrelationId", &self.correlation_id),
            ("MS-RequestId", &self.request_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        response
    }

    fn error(&self, status: StatusCode, code: &str, description: &str) -> Response {
        let body =
            json!({"code": code, "description": description, "data": [], "source": "PartnerFD"});
        self.finish((status, Json(body)).into_response())
    }

    fn unauthorized(&self, st: &AppState, err: &BearerError) -> Response {
        let mut response = match err {
            BearerError::Missing => self.error(
                StatusCode::UNAUTHORIZED,
                "800001",
                "Partner Token missing in request context",
            ),
            _ => self.error(StatusCode::UNAUTHORIZED, "400", "Access denied"),
        };
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, bearer::challenge(st, err));
        response
    }

    fn mfa_required(&self, st: &AppState) -> Response {
        let mut response = self.error(
            StatusCode::UNAUTHORIZED,
            &st.scenario.partner_center.mfa_required_error_code,
            "MFA required",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        response
            .extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(
                b"Unauthorized - MFA required",
            ));
        response
    }
}

/// Why a request never reached its handler's logic.
enum Rejection {
    Bearer(BearerError),
    MfaRequired,
}

impl PcCall {
    fn reject(&self, st: &AppState, rejection: Rejection) -> Response {
        match rejection {
            Rejection::Bearer(e) => self.unauthorized(st, &e),
            Rejection::MfaRequired => self.mfa_required(st),
        }
    }
}

/// Bearer validation plus the App+User MFA rule; returns the token's tenant.
fn authorize<'s>(
    st: &'s AppState,
    headers: &HeaderMap,
) -> Result<(ValidatedToken, &'s Tenant), Rejection> {
    let token = bearer::validate(st, headers, PARTNER_CENTER_APP_ID).map_err(Rejection::Bearer)?;
    if !token.is_app_only() && !token.amr().contains(&"mfa") {
        tracing::info!("partner center refused an App+User token without mfa in amr");
        return Err(Rejection::MfaRequired);
    }
    let tenant = st
        .scenario
        .tenant(token.tenant_id())
        .ok_or(Rejection::Bearer(BearerError::WrongIssuer))?;
    Ok((token, tenant))
}

async fn organization_profile(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let call = PcCall::new(&headers);
    let (_, tenant) = match authorize(&st, &headers) {
        Ok(v) => v,
        Err(r) => return call.reject(&st, r),
    };
    let language = tenant.culture.split('-').next().unwrap_or("en").to_owned();
    let email = tenant
        .email
        .clone()
        .unwrap_or_else(|| format!("admin@{}", tenant.default_domain()));
    call.finish(
        Json(json!({
            "id": tenant.id,
            "companyName": tenant.display_name,
            "defaultAddress": {"country": tenant.country_code},
            "tenantId": tenant.id,
            "domain": tenant.default_domain(),
            "email": email,
            "language": language,
            "culture": tenant.culture,
            "links": {"self": {"uri": "/profiles/organization", "method": "GET", "headers": []}},
            "attributes": {"objectType": "OrganizationProfile"}
        }))
        .into_response(),
    )
}

async fn not_found(headers: HeaderMap) -> Response {
    PcCall::new(&headers).error(StatusCode::NOT_FOUND, "1000", "Not found")
}
