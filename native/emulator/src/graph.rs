//! Microsoft Graph, mounted at `/graph` (so `{base}/graph/v1.0/...` and `{base}/graph/beta/...`).
//!
//! `organization` and `me` prove token plumbing end to end; `auditLogs/signIns` (api-contracts
//! §3) lives in [`signins`] with its `$filter` parser in [`filter`]. The directory and policy
//! endpoints (§4) are added the same way: a handler plus a line in [`router`].
//!
//! Errors use Graph's envelope `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}` and every response carries `request-id` / `client-request-id`
//! headers (api-contracts §3.6).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::bearer::{self, BearerError, ValidatedToken};
use crate::scenario::{GRAPH_APP_ID, Tenant};
use crate::state::AppState;

pub mod applications;
pub mod collection;
pub mod directory;
pub mod filter;
pub mod gdap;
pub mod signins;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{version}/organization", get(organization))
        .route("/{version}/me", get(me))
        .route("/{version}/auditLogs/signIns", get(signins::list))
        .route("/{version}/auditLogs/signIns/{id}", get(signins::get_one))
        // Compliance endpoints (api-contracts §4).
        .route("/{version}/users", get(directory::users))
        .route(
            "/{version}/users/{id}/authentication/requirements",
            get(directory::per_user_mfa),
        )
        .route("/{version}/groups", get(directory::groups))
        .route(
            "/{version}/groups/{id}/members",
            get(directory::group_members),
        )
        .route(
            "/{version}/groups/{id}/transitiveMembers",
            get(directory::group_members),
        )
        .route(
            "/{version}/policies/identitySecurityDefaultsEnforcementPolicy",
            get(directory::security_defaults),
        )
        .route(
            "/{version}/identity/conditionalAccess/policies",
            get(directory::conditional_access_policies),
        )
        .route(
            "/{version}/reports/authenticationMethods/userRegistrationDetails",
            get(directory::registration_details),
        )
        .route("/{version}/subscribedSkus", get(directory::subscribed_skus))
        .route(
            "/{version}/roleManagement/directory/roleAssignments",
            get(directory::role_assignments),
        )
        .route(
            "/{version}/roleManagement/directory/roleEligibilitySchedules",
            get(directory::role_eligibility_schedules),
        )
        .route("/{version}/domains", get(directory::domains))
        .route(
            "/{version}/domains/{id}/federationConfiguration",
            get(directory::federation_configuration),
        )
        .route(
            "/{version}/tenantRelationships/delegatedAdminRelationships",
            get(gdap::relationships_list),
        )
        .route(
            "/{version}/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments",
            get(gdap::access_assignments),
        )
        .route("/{version}/applications", get(applications::list))
        .fallback(unknown_segment)
}

/// Per-request ids Graph reports in headers and error bodies.
struct GraphCall {
    request_id: String,
    client_request_id: String,
}

impl GraphCall {
    fn new(headers: &HeaderMap) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 100)
            .map(str::to_owned)
            .unwrap_or_else(|| request_id.clone());
        Self {
            request_id,
            client_request_id,
        }
    }

    fn finish(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"),
        );
        for (name, value) in [
            ("request-id", &self.request_id),
            ("client-request-id", &self.client_request_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        response
    }

    fn ok(&self, body: Value) -> Response {
        self.finish(Json(body).into_response())
    }

    fn error(&self, st: &AppState, status: StatusCode, code: &str, message: &str) -> Response {
        let body = json!({
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": st.clock.now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": self.request_id,
                    "client-request-id": self.client_request_id,
                }
            }
        });
        self.finish((status, Json(body)).into_response())
    }

    fn unauthorized(&self, st: &AppState, err: &BearerError) -> Response {
        // Messages as Graph words them (api-contracts §3.6).
        let message = match err {
            BearerError::Missing => "Access token is empty.",
            BearerError::Malformed => "CompactToken parsing failed with error code: 80049217",
            BearerError::Expired | BearerError::NotYetValid => {
                "Access token has expired or is not yet valid."
            }
            BearerError::WrongAudience => "Access token validation failure. Invalid audience.",
            BearerError::BadSignature => "Access token validation failure. Invalid signature.",
            BearerError::WrongIssuer => "Access token validation failure. Invalid issuer.",
        };
        let mut response = self.error(
            st,
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, bearer::challenge(st, err));
        response
    }

    /// Graph's throttled answer (api-contracts §3.8): 429 `TooManyRequests` with `Retry-After`.
    fn too_many_requests(&self, st: &AppState, retry_after: u64) -> Response {
        let mut response = self.error(
            st,
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests.",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        response
    }

    fn forbidden(&self, st: &AppState) -> Response {
        self.error(
            st,
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }
}

/// Why a request never reached its handler's logic.
enum Rejection {
    Version(String),
    Bearer(BearerError),
}

impl GraphCall {
    fn reject(&self, st: &AppState, rejection: Rejection) -> Response {
        match rejection {
            Rejection::Version(v) => self.error(
                st,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Invalid version: {v}"),
            ),
            Rejection::Bearer(e) => self.unauthorized(st, &e),
        }
    }
}

/// Version check, bearer validation and tenant lookup shared by every handler.
fn authorize<'s>(
    st: &'s AppState,
    version: &str,
    headers: &HeaderMap,
) -> Result<(ValidatedToken, &'s Tenant), Rejection> {
    if version != "v1.0" && version != "beta" {
        return Err(Rejection::Version(version.to_owned()));
    }
    let token = bearer::validate(st, headers, GRAPH_APP_ID).map_err(Rejection::Bearer)?;
    let tenant = st
        .scenario
        .tenant(token.tenant_id())
        .ok_or(Rejection::Bearer(BearerError::WrongIssuer))?;
    Ok((token, tenant))
}

async fn organization(
    State(st): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = GraphCall::new(&headers);
    let (token, tenant) = match authorize(&st, &version, &headers) {
        Ok(v) => v,
        Err(r) => return call.reject(&st, r),
    };
    if !token.has_any_permission(
        &[
            "User.Read",
            "User.Read.All",
            "Directory.Read.All",
            "Organization.Read.All",
            "Directory.ReadWrite.All",
        ],
        &[
            "Organization.Read.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ) {
        return call.forbidden(&st);
    }
    let initial = tenant
        .domains
        .iter()
        .position(|d| d.to_ascii_lowercase().ends_with(".onmicrosoft.com"));
    let domains: Vec<Value> = tenant
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": i == 0,
                "isInitial": Some(i) == initial,
                "name": d,
                "type": "Managed"
            })
        })
        .collect();
    call.ok(json!({
        "@odata.context": format!("{}/graph/{version}/$metadata#organization", st.base_url),
        "value": [{
            "id": tenant.id,
            "deletedDateTime": null,
            "displayName": tenant.display_name,
            "countryLetterCode": tenant.country_code,
            "preferredLanguage": tenant.culture,
            "tenantType": "AAD",
            "verifiedDomains": domains
        }]
    }))
}

async fn me(
    State(st): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    let call = GraphCall::new(&headers);
    let (token, tenant) = match authorize(&st, &version, &headers) {
        Ok(v) => v,
        Err(r) => return call.reject(&st, r),
    };
    if token.is_app_only() {
        return call.error(
            &st,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        );
    }
    if !token.has_any_permission(
        &[
            "User.Read",
            "User.ReadWrite",
            "User.Read.All",
            "Directory.Read.All",
        ],
        &[],
    ) {
        return call.forbidden(&st);
    }
    let Some(user) = tenant.user(token.object_id()) else {
        return call.error(
            &st,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{}' does not exist or one of its queried reference-property objects are not present.", token.object_id()),
        );
    };
    call.ok(json!({
        "@odata.context": format!("{}/graph/{version}/$metadata#users/$entity", st.base_url),
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": null,
        "mail": user.mail,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "id": user.id
    }))
}

async fn unknown_segment(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let call = GraphCall::new(&headers);
    let segment = uri
        .path()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    call.error(
        &st,
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}
