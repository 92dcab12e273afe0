//! Partner Center's security reports (api-contracts §5.5, §5.6): Azure fraud events, principals
//! that called Partner Center without MFA, and application MFA adoption. All three are App+User
//! only; an app-only session gets an error that says so. And the customer list (§5.7) with each
//! customer's DAP flag (§5.8), for App-only and App+User sessions alike.

use crate::error::{Error, Result};
use crate::http;
use crate::partner::{api_url, service_error};
use crate::session::{AccountType, partner_center_scope};
use crate::signins::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// An Azure fraud event (`GET /v1/fraudEvents`).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FraudEvent {
    #[serde(default)]
    pub event_id: String,
    #[serde(default, deserialize_with = "lenient_time")]
    pub event_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub customer_tenant_id: Option<String>,
    #[serde(default)]
    pub customer_friendly_name: Option<String>,
    #[serde(default)]
    pub subscription_id: Option<String>,
    #[serde(default)]
    pub event_status: String,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub first_occurrence: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub resolved_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub resolved_reason: Option<String>,
}

impl FraudEvent {
    pub fn is_open(&self) -> bool {
        !self.event_status.eq_ignore_ascii_case("Resolved")
    }

    /// When it started: first occurrence, else the event time.
    pub fn started(&self) -> Option<DateTime<Utc>> {
        self.first_occurrence.or(self.event_time)
    }
}

/// A principal that called Partner Center without MFA (`GET /v1/nonMfaCompliantPartnerPrincipals`).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NonMfaPrincipal {
    #[serde(default)]
    pub object_id: String,
    #[serde(default)]
    pub upn: String,
    #[serde(default, deserialize_with = "lenient_time")]
    pub last_non_mfa_compliant_request_date_time: Option<DateTime<Utc>>,
}

/// One day of one application's Partner Center requests (`GET /v1/applicationmfaadoptionstatus`).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AppMfaAdoption {
    #[serde(default)]
    pub login_date: String,
    #[serde(default)]
    pub mfa_compliant_request_count: u64,
    #[serde(default)]
    pub total_request_count: u64,
    #[serde(default)]
    pub application_id: String,
    #[serde(default)]
    pub application_name: Option<String>,
}

/// A customer of the partner (`GET /v1/customers`), with its DAP flag.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub company_profile: CompanyProfile,
    /// DAP: the partner still has delegated admin privileges (api-contracts §5.8); `None` when
    /// Partner Center did not say.
    #[serde(default)]
    pub allow_delegated_access: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CompanyProfile {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
}

impl Customer {
    /// `Company (domain)`, falling back to the tenant id.
    pub fn label(&self) -> String {
        let p = &self.company_profile;
        let name = p.company_name.clone().filter(|n| !n.is_empty());
        let tenant = p.tenant_id.clone().unwrap_or_else(|| self.id.clone());
        match (name, p.domain.clone().filter(|d| !d.is_empty())) {
            (Some(n), Some(d)) => format!("{n} ({d})"),
            (Some(n), None) => format!("{n} ({tenant})"),
            (None, _) => tenant,
        }
    }
}

/// A seek-paged collection: items and, while more follow, `links.next` with the headers to
/// replay (`MS-ContinuationToken`).
#[derive(Deserialize)]
struct SeekPage<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    links: Option<SeekLinks>,
}

#[derive(Deserialize)]
struct SeekLinks {
    #[serde(default)]
    next: Option<SeekLink>,
}

#[derive(Deserialize)]
struct SeekLink {
    uri: String,
    #[serde(default)]
    headers: Vec<LinkHeader>,
}

#[derive(Deserialize)]
struct LinkHeader {
    key: String,
    value: String,
}

/// Most pages followed before the customer list counts as endless.
const MAX_PAGES: usize = 1000;

#[derive(Deserialize)]
struct Items<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

/// Partner Center writes date-times without offset and with 0–7 fractional digits (UTC);
/// `9999-12-31...` means "not yet".
fn lenient_time<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.and_then(|t| parse_time(&t)))
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() || t.starts_with("9999") {
        return None;
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
}

fn is_app_only(ctx: &Context) -> bool {
    matches!(
        ctx.session.context().account.kind,
        AccountType::ServicePrincipal | AccountType::Certificate | AccountType::ManagedService
    )
}

async fn get<T: DeserializeOwned>(ctx: &Context, path: &str, what: &str) -> Result<T> {
    if is_app_only(ctx) {
        return Err(Error::Service {
            service: "Partner Center".into(),
            status: 401,
            code: Some("AppUserRequired".into()),
            message: format!(
                "Partner Center serves the {what} only to App+User (delegated) calls, and this session is an application (service principal) sign-in. Connect with the Secure Application Model instead: Connect-PartnerCenter -ApplicationId <app> -Credential <app secret> -RefreshToken <token from an MFA sign-in of an admin agent>."
            ),
        });
    }
    let url = api_url(ctx.session.environment(), path)?;
    fetch(ctx, &url, false, None, what).await
}

/// One GET of `url` with the session's Partner Center token (`app_only` picks the scope),
/// replaying `continuation` as `MS-ContinuationToken`; the answer parsed as `T`.
async fn fetch<T: DeserializeOwned>(
    ctx: &Context,
    url: &url::Url,
    app_only: bool,
    continuation: Option<&str>,
    what: &str,
) -> Result<T> {
    let session = &ctx.session;
    let environment = session.environment();
    let token = session
        .access_token(&ctx.http, &[partner_center_scope(environment, app_only)])
        .await?;
    http::confine(
        url,
        &environment.partner_center_endpoint,
        token.claims.audience.as_deref(),
    )?;
    let client = ctx
        .http
        .client(environment.trusted_certificate_pem.as_deref())?;
    let secret = &token.access_token;
    let answer = http::get_json(url, &[secret], || {
        let request = client
            .get(url.clone())
            .bearer_auth(secret.expose())
            .header("Accept", "application/json")
            .header("MS-Contract-Version", "v1");
        match continuation {
            Some(c) => request.header("MS-ContinuationToken", c),
            None => request,
        }
    })
    .await?;
    if !(200..300).contains(&answer.status) {
        return Err(service_error(answer.status, &answer.body));
    }
    serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse {
        url: http::endpoint_label(url),
        reason: format!("the {what} are not the expected JSON ({e})"),
    })
}

/// The partner's customers (`GET /v1/customers`), every page: `links.next` is followed on the
/// Partner Center endpoint only (relative URIs without `/v1` resolve under it, §5.7), replaying
/// its `MS-ContinuationToken`.
pub async fn customers(ctx: &Context) -> Result<Vec<Customer>> {
    let what = "Partner Center customers";
    let environment = ctx.session.environment();
    let app_only = is_app_only(ctx);
    let mut url = api_url(environment, "v1/customers?size=500")?;
    let mut continuation: Option<String> = None;
    let mut customers = Vec::new();
    for _ in 0..MAX_PAGES {
        let page: SeekPage<Customer> =
            fetch(ctx, &url, app_only, continuation.as_deref(), what).await?;
        customers.extend(page.items);
        let Some(next) = page.links.and_then(|l| l.next) else {
            return Ok(customers);
        };
        let path = next.uri.trim_start_matches('/');
        let path = if path.starts_with("v1/") {
            path.to_owned()
        } else {
            format!("v1/{path}")
        };
        url = api_url(environment, &path)?;
        let token = next
            .headers
            .into_iter()
            .find(|h| h.key.eq_ignore_ascii_case("MS-ContinuationToken"))
            .map(|h| h.value);
        if token.is_none() || token == continuation {
            return Err(Error::InvalidResponse {
                url: http::endpoint_label(&url),
                reason: format!(
                    "the {what}' next page has no new MS-ContinuationToken, so paging stopped"
                ),
            });
        }
        continuation = token;
    }
    Err(Error::InvalidResponse {
        url: http::endpoint_label(&url),
        reason: format!("the {what} went on for more than {MAX_PAGES} pages, so paging stopped"),
    })
}

pub async fn fraud_events(ctx: &Context) -> Result<Vec<FraudEvent>> {
    get(ctx, "v1/fraudEvents", "Azure fraud events").await
}

pub async fn non_mfa_compliant_principals(ctx: &Context) -> Result<Vec<NonMfaPrincipal>> {
    Ok(get::<Items<NonMfaPrincipal>>(
        ctx,
        "v1/nonMfaCompliantPartnerPrincipals",
        "non-MFA-compliant principals",
    )
    .await?
    .items)
}

pub async fn application_mfa_adoption(ctx: &Context) -> Result<Vec<AppMfaAdoption>> {
    get(
        ctx,
        "v1/applicationmfaadoptionstatus",
        "application MFA adoption figures",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_read_their_dap_flag_and_name_themselves() {
        let page: SeekPage<Customer> = serde_json::from_str(
            r#"{"totalCount": 2, "items": [
                {"id": "t1", "companyProfile": {"tenantId": "t1", "domain": "a.example", "companyName": "A"}, "allowDelegatedAccess": true},
                {"id": "t2", "companyProfile": {"tenantId": "t2"}}
            ], "links": {"next": {"uri": "/customers?size=2&seekOperation=Next", "headers": [{"key": "MS-ContinuationToken", "value": "x"}]}}}"#,
        )
        .unwrap();
        assert_eq!(page.items[0].allow_delegated_access, Some(true));
        assert_eq!(page.items[0].label(), "A (a.example)");
        assert_eq!(
            page.items[1].allow_delegated_access, None,
            "not said, not assumed"
        );
        assert_eq!(page.items[1].label(), "t2");
        let next = page.links.unwrap().next.unwrap();
        assert_eq!(next.headers[0].key, "MS-ContinuationToken");
    }

    #[test]
    fn partner_center_times_without_offset_are_utc() {
        assert_eq!(
            parse_time("2021-12-08T00:25:45.69").map(|t| t.to_rfc3339()),
            Some("2021-12-08T00:25:45.690+00:00".into())
        );
        assert_eq!(
            parse_time("2020-04-21T22:09:53").map(|t| t.timestamp()),
            Some(1587506993)
        );
        assert_eq!(parse_time("9999-12-31T23:59:59.9970000"), None);
        assert_eq!(parse_time(""), None);
    }
}
