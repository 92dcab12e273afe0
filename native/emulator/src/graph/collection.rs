//! What the compliance endpoints share: admission (`admit`: token, permission, the directory
//! throttle, licence), Graph's collection paging (`$top`, `@odata.nextLink` with an opaque
//! `$skiptoken` that keeps the other query options, `$select`), and [`GraphRead`], the request
//! every compliance handler takes, which does both so a handler only makes its data.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::{GraphCall, authorize};
use crate::bearer::ValidatedToken;
use crate::scenario::Tenant;
use crate::signins::catalog::Premium;
use crate::state::AppState;

/// The licence an endpoint needs in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Licence {
    Free,
    /// Entra ID P1 (or P2): Conditional Access, the authentication-methods reports.
    P1,
    /// Entra ID P2: Privileged Identity Management.
    P2,
}

/// Who may call an endpoint: delegated scopes and application roles, least privileged first
/// (the first is the one an error names).
pub struct Gate {
    pub delegated: &'static [&'static str],
    pub application: &'static [&'static str],
    pub licence: Licence,
}

/// `$top` of a collection: the default page and the largest allowed.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub default_top: usize,
    pub max_top: usize,
}

/// Directory collections (`/users`, `/groups`…): 100 by default, at most 999 (api-contracts §4).
pub const DIRECTORY: Paging = Paging {
    default_top: 100,
    max_top: 999,
};

/// Authentication, permission, the directory throttle, then licence. Errors are Graph's: 403
/// `Authentication_MSGraphPermissionMissing` naming the permission, 429 `TooManyRequests` with
/// `Retry-After` over the per-(tenant, app) budget `graph.directoryThrottle` (off unless set;
/// refused requests use no budget), 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`
/// without P1, 400 `AadPremiumLicenseRequired` for PIM without P2 (api-contracts §3.6, §3.8; the
/// PIM body as observed in maester365/maester#1421).
fn admit<'s>(
    st: &'s AppState,
    call: &GraphCall,
    version: &str,
    headers: &HeaderMap,
    gate: &Gate,
) -> Result<(ValidatedToken, &'s Tenant), Box<Response>> {
    let (token, tenant) =
        authorize(st, version, headers).map_err(|r| Box::new(call.reject(st, r)))?;
    if !token.has_any_permission(gate.delegated, gate.application) {
        let wanted = if token.is_app_only() {
            gate.application
        } else {
            gate.delegated
        };
        return Err(Box::new(call.error(
            st,
            StatusCode::FORBIDDEN,
            "Authentication_MSGraphPermissionMissing",
            &format!(
                "Calling principal does not have required MSGraph permissions {}",
                wanted.first().copied().unwrap_or_default()
            ),
        )));
    }
    let now = st.clock.now().timestamp_millis();
    if let Err(retry_after) = st
        .signins
        .directory_throttle
        .admit(&tenant.id, token.app_id(), now)
    {
        tracing::info!(tenant = %tenant.id, app = %token.app_id(), retry_after, "directory read throttled");
        return Err(Box::new(call.too_many_requests(st, retry_after)));
    }
    let premium = crate::signins::premium_of(&tenant.licenses);
    match (gate.licence, premium) {
        (Licence::P1, Premium::None) => Err(Box::new(call.error(
            st,
            StatusCode::FORBIDDEN,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        ))),
        (Licence::P2, Premium::None | Premium::P1) => Err(Box::new(call.error(
            st,
            StatusCode::BAD_REQUEST,
            "AadPremiumLicenseRequired",
            "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
        ))),
        _ => Ok((token, tenant)),
    }
}

/// What a compliance handler gets: the state, the request's headers, its path parameters
/// (`version` and, under a parent, `id`) and raw query. `GraphRead::answer` and
/// `GraphRead::list` do everything but the data.
pub struct GraphRead {
    pub st: AppState,
    pub headers: HeaderMap,
    pub version: String,
    /// The `{id}` path parameter (a group, relationship, domain or user), if the route has one.
    pub id: String,
    pub query: Option<String>,
}

impl FromRequestParts<AppState> for GraphRead {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            st: st.clone(),
            headers: parts.headers.clone(),
            version: params.remove("version").unwrap_or_default(),
            id: params.remove("id").unwrap_or_default(),
            query: parts.uri.query().map(str::to_owned),
        })
    }
}

impl GraphRead {
    /// Admission ([`admit`]), then `respond` with the caller's tenant.
    pub(super) fn answer(
        &self,
        gate: &Gate,
        respond: impl FnOnce(&Tenant, &GraphCall) -> Response,
    ) -> Response {
        let call = GraphCall::new(&self.headers);
        match admit(&self.st, &call, &self.version, &self.headers, gate) {
            Ok((_, tenant)) => respond(tenant, &call),
            Err(response) => *response,
        }
    }

    /// A collection: admission, then the items `build` makes from the caller's tenant (or the
    /// error response it returns, e.g. for an unknown parent id; boxed, as `admit`'s), paged as
    /// `path`.
    pub(super) fn list(
        &self,
        gate: &Gate,
        paging: Paging,
        path: &str,
        build: impl FnOnce(&Tenant, &GraphCall) -> Result<Vec<Value>, Box<Response>>,
    ) -> Response {
        self.answer(gate, |tenant, call| match build(tenant, call) {
            Ok(items) => page(
                &self.st,
                call,
                &self.version,
                path,
                self.query.as_deref(),
                items,
                paging,
            ),
            Err(response) => *response,
        })
    }

    /// The `$select` option, when given.
    pub fn has_select(&self) -> bool {
        parse_query(self.query.as_deref()).is_ok_and(|q| q.select.is_some())
    }
}

/// The query options a collection understands.
#[derive(Debug, Default)]
pub struct Query {
    pub top: Option<String>,
    pub skiptoken: Option<String>,
    pub select: Option<String>,
}

/// Parses `raw`; options other than `$top`, `$skiptoken`, `$select` (and `$count`, accepted and
/// ignored) are refused as Graph refuses what a resource does not support.
fn parse_query(raw: Option<&str>) -> Result<Query, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| "The query string is not valid.".to_owned())?;
    let mut q = Query::default();
    for (name, value) in pairs {
        match name.to_ascii_lowercase().as_str() {
            "$top" => q.top = Some(value),
            "$skiptoken" => q.skiptoken = Some(value),
            "$select" => q.select = Some(value),
            "$count" => {}
            n if n.starts_with('$') => {
                return Err(format!(
                    "Query option '{name}' is not supported for this resource."
                ));
            }
            _ => {}
        }
    }
    Ok(q)
}

/// One page of `items` as a Graph collection at `path` (e.g. `users`), `$top` as `paging` allows.
fn page(
    st: &AppState,
    call: &GraphCall,
    version: &str,
    path: &str,
    raw_query: Option<&str>,
    items: Vec<Value>,
    paging: Paging,
) -> Response {
    let Paging {
        default_top,
        max_top,
    } = paging;
    let bad = |message: String| call.error(st, StatusCode::BAD_REQUEST, "BadRequest", &message);
    let query = match parse_query(raw_query) {
        Ok(q) => q,
        Err(m) => {
            return call.error(st, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", &m);
        }
    };
    let top = match query.top.as_deref().map(str::trim) {
        None => default_top,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=max_top).contains(&n) => n,
            _ => {
                return bad(format!(
                    "Invalid page size specified: '{t}'. Must be between 1 and {max_top} inclusive."
                ));
            }
        },
    };
    let start = match query.skiptoken.as_deref() {
        None => 0,
        Some(token) => match decode_skiptoken(token) {
            Some(n) if n <= items.len() => n,
            _ => {
                return bad(
                    "The $skiptoken is not valid; follow @odata.nextLink as returned.".into(),
                );
            }
        },
    };
    let selected: Option<Vec<String>> = query.select.as_deref().map(|s| {
        s.split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    });
    let end = (start + top).min(items.len());
    let value: Vec<Value> = items[start..end]
        .iter()
        .map(|item| project(item, selected.as_deref()))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/graph/{version}/$metadata#{path}", st.base_url)),
    );
    if end < items.len() {
        let mut params = vec![("$top".to_owned(), top.to_string())];
        if let Some(s) = &query.select {
            params.push(("$select".into(), s.clone()));
        }
        params.push(("$skiptoken".into(), encode_skiptoken(end)));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{}/graph/{version}/{path}?{qs}", st.base_url)),
        );
    }
    body.insert("value".into(), Value::Array(value));
    call.ok(Value::Object(body))
}

/// `$select`: the listed properties (plus `@odata.*` annotations and `id`).
fn project(item: &Value, selected: Option<&[String]>) -> Value {
    let (Some(selected), Some(map)) = (selected, item.as_object()) else {
        return item.clone();
    };
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| {
            k.starts_with("@odata.")
                || k.as_str() == "id"
                || selected.iter().any(|s| s.eq_ignore_ascii_case(k))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

fn encode_skiptoken(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("RFNwdAIAAQAAA:{offset}"))
}

fn decode_skiptoken(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("RFNwdAIAAQAAA:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(300)), Some(300));
        assert_eq!(decode_skiptoken("not-a-token"), None);
    }

    #[test]
    fn select_keeps_id_and_annotations() {
        let item = json!({"@odata.type": "#x", "id": "1", "displayName": "A", "mail": "m"});
        let shown = project(&item, Some(&["displayName".to_owned()]));
        assert_eq!(
            shown,
            json!({"@odata.type": "#x", "id": "1", "displayName": "A"})
        );
    }
}
