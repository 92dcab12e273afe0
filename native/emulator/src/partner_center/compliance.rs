//! Partner Center endpoints a partner-security assessment reads (api-contracts §5.5–5.8):
//! `GET /v1/fraudEvents` (bare array; `EventStatus` filter; App+User only),
//! `GET /v1/nonMfaCompliantPartnerPrincipals` (collection) and
//! `GET /v1/applicationmfaadoptionstatus` (bare array), both App+User only, and
//! `GET /v1/customers` (App-only or App+User; seek paging; each customer with its DAP flag
//! `allowDelegatedAccess`). Records come from the partner tenant's `compliance` section; their
//! date-times may be scenario times, served without offset as Partner Center writes them.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{PcCall, authorize};
use crate::compliance::{ComplianceSpec, resolve_times};
use crate::scenario::Tenant;
use crate::state::AppState;

/// The App+User gate shared by these endpoints: app-only tokens are refused (§5.1 table).
fn user_tenant<'s>(
    st: &'s AppState,
    call: &PcCall,
    headers: &HeaderMap,
) -> Result<&'s Tenant, Box<Response>> {
    let (token, tenant) = authorize(st, headers).map_err(|r| Box::new(call.reject(st, r)))?;
    if token.is_app_only() {
        tracing::info!("partner center refused an app-only token on an App+User endpoint");
        return Err(Box::new(call.error(
            StatusCode::UNAUTHORIZED,
            "400",
            "Access denied",
        )));
    }
    Ok(tenant)
}

fn spec(tenant: &Tenant) -> ComplianceSpec {
    tenant.compliance.clone().unwrap_or_default()
}

#[derive(Debug, Deserialize)]
pub struct FraudQuery {
    #[serde(rename = "EventStatus", alias = "eventStatus")]
    event_status: Option<String>,
    #[serde(rename = "SubscriptionId", alias = "subscriptionId")]
    subscription_id: Option<String>,
}

const FRAUD_TIMES: &[&str] = &[
    "eventTime",
    "firstOccurrence",
    "lastOccurrence",
    "resolvedOn",
    "firstObserved",
    "lastObserved",
];

pub async fn fraud_events(
    State(st): State<AppState>,
    Query(query): Query<FraudQuery>,
    headers: HeaderMap,
) -> Response {
    let call = PcCall::new(&headers);
    let tenant = match user_tenant(&st, &call, &headers) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if let Some(status) = &query.event_status
        && !["Active", "Resolved", "Investigating"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(status))
    {
        return call.error(
            StatusCode::BAD_REQUEST,
            "400",
            "EventStatus must be Active, Resolved or Investigating.",
        );
    }
    let matches = |e: &Value, key: &str, wanted: &Option<String>| {
        wanted.as_ref().is_none_or(|w| {
            e.get(key)
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(w))
        })
    };
    let events: Vec<Value> = spec(tenant)
        .fraud_events
        .iter()
        .filter(|e| {
            matches(e, "eventStatus", &query.event_status)
                && matches(e, "subscriptionId", &query.subscription_id)
        })
        .map(|e| resolve_times(e, FRAUD_TIMES, st.scenario.loaded_at, false))
        .collect();
    call.finish(Json(Value::Array(events)).into_response())
}

pub async fn non_mfa_compliant_principals(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let call = PcCall::new(&headers);
    let tenant = match user_tenant(&st, &call, &headers) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let items: Vec<Value> = spec(tenant)
        .non_mfa_compliant_principals
        .iter()
        .map(|p| {
            resolve_times(
                p,
                &["lastNonMfaCompliantRequestDateTime"],
                st.scenario.loaded_at,
                false,
            )
        })
        .collect();
    call.finish(Json(json!({"totalCount": items.len(), "items": items, "attributes": {"objectType": "Collection"}})).into_response())
}

pub async fn application_mfa_adoption(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let call = PcCall::new(&headers);
    let tenant = match user_tenant(&st, &call, &headers) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    call.finish(Json(Value::Array(spec(tenant).application_mfa_adoption)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CustomersQuery {
    size: Option<String>,
    #[serde(rename = "seekOperation", alias = "seekoperation")]
    seek_operation: Option<String>,
}

/// Largest and default `size` of a customers page (Partner Center documents no limit [U]).
const CUSTOMERS_MAX_SIZE: usize = 500;

fn encode_continuation(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("customers:{offset}"))
}

fn decode_continuation(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("customers:")?
        .parse()
        .ok()
}

/// `GET /v1/customers?size=N`; the next page is `?size=N&seekOperation=Next` with header
/// `MS-ContinuationToken`, as `links.next` says (api-contracts §5.7).
pub async fn customers(
    State(st): State<AppState>,
    Query(query): Query<CustomersQuery>,
    headers: HeaderMap,
) -> Response {
    let call = PcCall::new(&headers);
    let tenant = match authorize(&st, &headers) {
        Ok((_, t)) => t,
        Err(r) => return call.reject(&st, r),
    };
    let size = match query.size.as_deref().map(str::trim) {
        None => CUSTOMERS_MAX_SIZE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=CUSTOMERS_MAX_SIZE).contains(&n) => n,
            _ => {
                return call.error(
                    StatusCode::BAD_REQUEST,
                    "400",
                    &format!("size must be between 1 and {CUSTOMERS_MAX_SIZE}."),
                );
            }
        },
    };
    let start = match query.seek_operation.as_deref() {
        None => 0,
        Some(op) if op.eq_ignore_ascii_case("Next") => {
            let token = headers
                .get("MS-ContinuationToken")
                .and_then(|v| v.to_str().ok());
            match token.and_then(decode_continuation) {
                Some(offset) => offset,
                None => {
                    return call.error(
                        StatusCode::BAD_REQUEST,
                        "400",
                        "seekOperation=Next needs the MS-ContinuationToken header of links.next.",
                    );
                }
            }
        }
        Some(_) => {
            return call.error(
                StatusCode::BAD_REQUEST,
                "400",
                "seekOperation must be Next.",
            );
        }
    };
    let all = crate::compliance::customers(&st.scenario, tenant);
    let end = (start + size).min(all.len());
    let items: Vec<Value> = all
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({
                "id": c.tenant_id,
                "companyProfile": {
                    "tenantId": c.tenant_id,
                    "domain": c.domain,
                    "companyName": c.company_name,
                    "attributes": {"objectType": "CustomerCompanyProfile"}
                },
                "relationshipToPartner": "reseller",
                "allowDelegatedAccess": c.allow_delegated_access,
                "attributes": {"objectType": "Customer"}
            })
        })
        .collect();
    let mut links = json!({"self": {"uri": format!("/v1/customers?size={size}"), "method": "GET", "headers": []}});
    let mut body = json!({"totalCount": items.len(), "items": items});
    if end < all.len() {
        let token = encode_continuation(end);
        links["next"] = json!({
            "uri": format!("/v1/customers?size={size}&seekOperation=Next"),
            "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": token}]
        });
        body["continuationToken"] = json!(token);
    }
    body["links"] = links;
    body["attributes"] = json!({"objectType": "Collection"});
    call.finish(Json(body).into_response())
}
