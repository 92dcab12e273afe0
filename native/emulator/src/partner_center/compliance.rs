//! Partner Center endpoints a partner-security assessment reads (api-contracts §5.5, §5.6):
//! `GET /v1/fraudEvents` (bare array; `EventStatus` filter; App+User only),
//! `GET /v1/nonMfaCompliantPartnerPrincipals` (collection) and
//! `GET /v1/applicationmfaadoptionstatus` (bare array), both App+User only. Records come from
//! the partner tenant's `compliance` section; their date-times may be scenario times, served
//! without offset as Partner Center writes them.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
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
