//! Partner Center's security reports (api-contracts §5.5, §5.6): Azure fraud events, principals
//! that called Partner Center without MFA, and application MFA adoption. All three are App+User
//! only; an app-only session gets an error that says so.

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

async fn get<T: DeserializeOwned>(ctx: &Context, path: &str, what: &str) -> Result<T> {
    let session = &ctx.session;
    let environment = session.environment();
    let app_only = matches!(
        session.context().account.kind,
        AccountType::ServicePrincipal | AccountType::Certificate | AccountType::ManagedService
    );
    if app_only {
        return Err(Error::Service {
            service: "Partner Center".into(),
            status: 401,
            code: Some("AppUserRequired".into()),
            message: format!(
                "Partner Center serves the {what} only to App+User (delegated) calls, and this session is an application (service principal) sign-in. Connect with the Secure Application Model instead: Connect-PartnerCenter -ApplicationId <app> -Credential <app secret> -RefreshToken <token from an MFA sign-in of an admin agent>."
            ),
        });
    }
    let token = session
        .access_token(&ctx.http, &[partner_center_scope(environment, false)])
        .await?;
    let url = api_url(environment, path)?;
    http::confine(
        &url,
        &environment.partner_center_endpoint,
        token.claims.audience.as_deref(),
    )?;
    let client = ctx
        .http
        .client(environment.trusted_certificate_pem.as_deref())?;
    let secret = &token.access_token;
    let answer = http::get_json(&url, &[secret], || {
        client
            .get(url.clone())
            .bearer_auth(secret.expose())
            .header("Accept", "application/json")
            .header("MS-Contract-Version", "v1")
    })
    .await?;
    if !(200..300).contains(&answer.status) {
        return Err(service_error(answer.status, &answer.body));
    }
    serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse {
        url: http::endpoint_label(&url),
        reason: format!("the {what} are not the expected JSON ({e})"),
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
