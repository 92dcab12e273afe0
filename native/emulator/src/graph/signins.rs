//! `GET /graph/{v1.0|beta}/auditLogs/signIns[/{id}]` (api-contracts §3).
//!
//! Order of checks: API version and bearer token (401), permission (403
//! `Authorization_RequestDenied`), the reports throttle per (tenant, app) (429 with
//! `Retry-After`), the tenant's Entra ID P1/P2 licence (403
//! `Authentication_RequestFromNonPremiumTenantOrB2CTenant`), then the query options (400).
//! Pages are computed on a blocking thread: a selective filter over a huge generated tenant
//! scans records, and that must not stall other requests.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::filter::Filter;
use super::{GraphCall, authorize};
use crate::request_log::TokenRequestSummary;
use crate::signins::catalog::{Cursor, Order, Plan, Premium};
use crate::signins::props::{self, PropId};
use crate::signins::{self, ApiVersion, draft, skiptoken};
use crate::state::AppState;

/// Largest and default `$top` (api-contracts §3.1).
pub const MAX_PAGE: usize = 1000;

/// Delegated scopes and app roles that may read sign-in logs.
const DELEGATED: &[&str] = &["AuditLog.Read.All", "Directory.Read.All"];
const APPLICATION: &[&str] = &["AuditLog.Read.All"];

/// A query-option problem: `(code, message)`.
type OptionError = (&'static str, String);

fn bad(message: impl Into<String>) -> OptionError {
    ("BadRequest", message.into())
}

/// The query options of a list request.
#[derive(Debug, Default)]
struct Options {
    filter: Option<String>,
    top: Option<String>,
    select: Option<String>,
    orderby: Option<String>,
    skiptoken: Option<String>,
}

fn parse_options(raw: Option<&str>) -> Result<Options, OptionError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| bad("The query string is not valid."))?;
    let mut o = Options::default();
    for (name, value) in pairs {
        let slot = match name.to_ascii_lowercase().as_str() {
            "$filter" => &mut o.filter,
            "$top" => &mut o.top,
            "$select" => &mut o.select,
            "$orderby" => &mut o.orderby,
            "$skiptoken" => &mut o.skiptoken,
            n if n.starts_with('$') => {
                return Err((
                    "Request_UnsupportedQuery",
                    format!("Query option '{name}' is not supported for this resource."),
                ));
            }
            // Graph ignores parameters that are not query options.
            _ => continue,
        };
        if slot.is_some() {
            return Err(bad(format!(
                "Query option '{name}' was specified more than once, but it must be specified at most once."
            )));
        }
        *slot = Some(value);
    }
    Ok(o)
}

fn parse_top(top: Option<&str>) -> Result<usize, OptionError> {
    let Some(text) = top else {
        return Ok(MAX_PAGE);
    };
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_PAGE as i64).contains(&n) => Ok(n as usize),
        Ok(_) => Err(bad(format!(
            "Invalid page size specified: '{text}'. Must be between 1 and {MAX_PAGE} inclusive."
        ))),
        Err(_) => Err(bad(format!(
            "Invalid value '{text}' for the $top query option. Must be an integer."
        ))),
    }
}

fn parse_select(select: Option<&str>, version: ApiVersion) -> Result<Vec<PropId>, OptionError> {
    let Some(text) = select else {
        return Ok(props::all(version));
    };
    let mut chosen = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item == "*" {
            return Ok(props::all(version));
        }
        if item.is_empty() {
            return Err(bad(format!("Syntax error in $select: '{text}'.")));
        }
        let Some(p) = props::lookup(item, version) else {
            return Err(bad(format!(
                "Could not find a property named '{item}' on type 'microsoft.graph.signIn'."
            )));
        };
        if !chosen.contains(&p) {
            chosen.push(p);
        }
    }
    // Graph answers in its own property order.
    chosen.sort_unstable();
    Ok(chosen)
}

fn parse_orderby(orderby: Option<&str>) -> Result<Order, OptionError> {
    let Some(text) = orderby else {
        return Ok(Order::Desc);
    };
    let mut words = text.split_whitespace();
    let (Some(property), direction, None) = (words.next(), words.next(), words.next()) else {
        return Err(bad(format!("Syntax error in $orderby: '{text}'.")));
    };
    if !property.eq_ignore_ascii_case("createdDateTime") {
        return Err((
            "Request_UnsupportedQuery",
            format!("Sorting is supported on 'createdDateTime' only, not '{property}'."),
        ));
    }
    match direction {
        None | Some("desc") => Ok(Order::Desc),
        Some("asc") => Ok(Order::Asc),
        Some(other) => Err(bad(format!(
            "Syntax error in $orderby: '{other}' is neither asc nor desc."
        ))),
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Everything a sign-in request shares before it reads data: authentication, permission,
/// throttle, licence.
fn admit(
    st: &AppState,
    call: &GraphCall,
    version: &str,
    headers: &HeaderMap,
) -> Result<(ApiVersion, String, String, Premium), Box<Response>> {
    let (token, tenant) =
        authorize(st, version, headers).map_err(|r| Box::new(call.reject(st, r)))?;
    if !token.has_any_permission(DELEGATED, APPLICATION) {
        return Err(Box::new(call.forbidden(st)));
    }
    let app = token.app_id().to_owned();
    let now = st.clock.now();
    if let Err(retry_after) = st
        .signins
        .throttle
        .admit(&tenant.id, &app, now.timestamp_millis())
    {
        tracing::info!(tenant = %tenant.id, app = %app, retry_after, "sign-in report throttled");
        let response = call.too_many_requests(st, retry_after);
        return Err(Box::new(with_client(response, &app)));
    }
    let premium = st
        .signins
        .tenant(&tenant.id)
        .map_or(Premium::None, |t| t.premium);
    if premium == Premium::None {
        let response = call.error(
            st,
            StatusCode::FORBIDDEN,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        );
        return Err(Box::new(with_client(response, &app)));
    }
    let version = ApiVersion::parse(version).unwrap_or(ApiVersion::V1);
    Ok((version, tenant.id.clone(), app, premium))
}

/// Lets the request log show which app called.
fn with_client(mut response: Response, app: &str) -> Response {
    response.extensions_mut().insert(TokenRequestSummary {
        grant_type: None,
        client_id: Some(app.to_owned()),
    });
    response
}

fn json_response(call: &GraphCall, body: Vec<u8>, app: &str) -> Response {
    let response = Response::builder()
        .status(StatusCode::OK)
        .body(Body::from(body))
        .unwrap_or_default();
    with_client(call.finish(response), app)
}

pub async fn list(
    State(st): State<AppState>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = GraphCall::new(&headers);
    let (version, tenant_id, app, premium) = match admit(&st, &call, &version, &headers) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let options = match parse_options(query.as_deref()) {
        Ok(o) => o,
        Err((code, message)) => {
            return with_client(
                call.error(&st, StatusCode::BAD_REQUEST, code, &message),
                &app,
            );
        }
    };
    let prepared = (|| {
        let top = parse_top(options.top.as_deref())?;
        let wanted = parse_select(options.select.as_deref(), version)?;
        let order = parse_orderby(options.orderby.as_deref())?;
        let filter = options
            .filter
            .as_deref()
            .map(|f| Filter::parse(f, version))
            .transpose()
            .map_err(|e| (e.code, e.message))?;
        let fp = skiptoken::fingerprint(&tenant_id, version, options.filter.as_deref(), order);
        let cursor = match options.skiptoken.as_deref() {
            None => Cursor::start(order),
            Some(t) => skiptoken::decode(t, order, fp).ok_or_else(|| {
                bad("The $skiptoken is not valid for this request; follow @odata.nextLink as returned.")
            })?,
        };
        Ok::<_, OptionError>((top, wanted, order, filter, fp, cursor))
    })();
    let (top, wanted, order, filter, fp, cursor) = match prepared {
        Ok(v) => v,
        Err((code, message)) => {
            return with_client(
                call.error(&st, StatusCode::BAD_REQUEST, code, &message),
                &app,
            );
        }
    };

    let window = signins::window(premium, st.clock.now());
    let latency = st.signins.page_latency();
    let state = st.clone();
    let task = tokio::task::spawn_blocking(move || {
        let catalog = state.signins.tenant(&tenant_id)?;
        let plan = Plan::new(filter.as_ref(), version, order, window);
        let page = catalog.page(&plan, cursor, top, state.signins.scan_limit());
        let select_suffix = match &options.select {
            Some(_) => format!(
                "({})",
                wanted
                    .iter()
                    .map(|p| props::name(*p))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None => String::new(),
        };
        let context = format!(
            "{}/graph/{}/$metadata#auditLogs/signIns{select_suffix}",
            state.base_url,
            version.segment()
        );
        let origin = state.signins.next_link_base().unwrap_or_else(|| state.base_url.clone());
        let next_link = page.next.map(|next| {
            let mut link = format!(
                "{}/graph/{}/auditLogs/signIns?",
                origin,
                version.segment()
            );
            for (name, value) in [
                ("$filter", &options.filter),
                ("$select", &options.select),
                ("$orderby", &options.orderby),
                ("$top", &options.top),
            ] {
                if let Some(v) = value {
                    link.push_str(&format!("{name}={}&", encode(v)));
                }
            }
            link.push_str(&format!(
                "$skiptoken={}",
                skiptoken::encode(&next, order, fp)
            ));
            link
        });
        // Written straight to bytes: a page of 1000 beta records is about 4 MB of JSON.
        let mask = draft::mask(&wanted);
        let mut out = Vec::with_capacity(512 + page.hits.len() * 4096);
        out.extend_from_slice(b"{\"@odata.context\":");
        serde_json::to_writer(&mut out, &context).ok()?;
        if let Some(link) = next_link {
            out.extend_from_slice(b",\"@odata.nextLink\":");
            serde_json::to_writer(&mut out, &link).ok()?;
        }
        out.extend_from_slice(b",\"value\":[");
        for (k, hit) in page.hits.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            catalog.write(hit, &mask, &mut out).ok()?;
        }
        out.extend_from_slice(b"]}");
        Some(out)
    });
    let bytes = match task.await {
        Ok(Some(bytes)) => bytes,
        _ => {
            return with_client(
                call.error(
                    &st,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UnknownError",
                    "The sign-in page could not be produced.",
                ),
                &app,
            );
        }
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = json_response(&call, bytes, &app);
    response
        .extensions_mut()
        .insert(crate::request_log::PageLatency(latency));
    response
}

pub async fn get_one(
    State(st): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = GraphCall::new(&headers);
    let (version, tenant_id, app, premium) = match admit(&st, &call, &version, &headers) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let wanted = match parse_options(query.as_deref())
        .and_then(|o| parse_select(o.select.as_deref(), version))
    {
        Ok(w) => w,
        Err((code, message)) => {
            return with_client(
                call.error(&st, StatusCode::BAD_REQUEST, code, &message),
                &app,
            );
        }
    };
    let window = signins::window(premium, st.clock.now());
    let found = st.signins.tenant(&tenant_id).and_then(|catalog| {
        catalog
            .find(&id, version, window)
            .map(|hit| catalog.render(&hit, &wanted))
    });
    let Some(mut record) = found else {
        return with_client(
            call.error(
                &st,
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
            ),
            &app,
        );
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        Value::from(format!(
            "{}/graph/{}/$metadata#auditLogs/signIns/$entity",
            st.base_url,
            version.segment()
        )),
    );
    body.append(&mut record);
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    json_response(&call, bytes, &app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(parse_top(None), Ok(1000));
        assert_eq!(parse_top(Some("1")), Ok(1));
        assert!(parse_top(Some("0")).is_err());
        assert!(parse_top(Some("1001")).is_err());
        assert!(parse_top(Some("-1")).is_err());
        assert!(parse_top(Some("ten")).is_err());
        assert_eq!(parse_orderby(Some("createdDateTime desc")), Ok(Order::Desc));
        assert_eq!(parse_orderby(Some("createddatetime asc")), Ok(Order::Asc));
        assert!(parse_orderby(Some("userId")).is_err());
        assert!(parse_orderby(Some("createdDateTime sideways")).is_err());
        let sel = parse_select(Some("userId, id"), ApiVersion::V1).expect("valid");
        assert_eq!(
            sel.iter().map(|p| props::name(*p)).collect::<Vec<_>>(),
            ["id", "userId"]
        );
        assert!(parse_select(Some("authenticationDetails"), ApiVersion::V1).is_err());
        assert!(parse_select(Some("authenticationDetails"), ApiVersion::Beta).is_ok());
        assert!(parse_select(Some("id,,userId"), ApiVersion::V1).is_err());
        assert!(parse_options(Some("$top=1&$top=2")).is_err());
        assert!(parse_options(Some("$skip=10")).is_err());
        assert!(parse_options(Some("api-version=1&foo=bar")).is_ok());
        assert_eq!(encode("a b'/$:"), "a%20b%27%2F%24%3A");
    }
}
