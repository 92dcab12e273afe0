//! Partner Center REST API (`{PartnerCenterEndpoint}/v1/...`).

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::http::{self, HttpClients};
use crate::secret::Secret;
use serde::Deserialize;
use url::Url;

/// The parts of `GET /v1/profiles/organization` that the context shows.
#[derive(Debug, Clone, Default)]
pub struct OrganizationProfile {
    pub country_code: Option<String>,
    pub culture: Option<String>,
    pub company_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    culture: Option<String>,
    #[serde(default)]
    default_address: Option<RawAddress>,
}

#[derive(Deserialize)]
struct RawAddress {
    #[serde(default)]
    country: Option<String>,
}

/// Partner Center's error body (`{code, description, data, source}`).
#[derive(Deserialize)]
struct ApiFault {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    description: Option<String>,
}

pub async fn organization_profile(http: &HttpClients, environment: &Environment, token: &Secret, audience: Option<&str>) -> Result<OrganizationProfile> {
    let url = api_url(environment, "v1/profiles/organization")?;
    http::confine(&url, &environment.partner_center_endpoint, audience)?;
    let client = http.client(environment.trusted_certificate_pem.as_deref())?;
    let answer = http::send(&url, &[token], || client.get(url.clone()).bearer_auth(token.expose()).header("Accept", "application/json").header("MS-Contract-Version", "v1")).await?;
    if !(200..300).contains(&answer.status) {
        return Err(service_error(answer.status, &answer.body));
    }
    let raw: RawProfile = serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse { url: http::endpoint_label(&url), reason: format!("the organization profile is not the expected JSON ({e})") })?;
    Ok(OrganizationProfile { country_code: raw.default_address.and_then(|a| a.country), culture: raw.culture, company_name: raw.company_name })
}

pub(crate) fn api_url(environment: &Environment, path: &str) -> Result<Url> {
    Url::parse(&format!("{}/{}", environment.partner_center_endpoint, path))
        .map_err(|e| Error::invalid_input("Environment", format!("the Partner Center endpoint '{}' does not form a URL ({e})", environment.partner_center_endpoint)))
}

pub(crate) fn service_error(status: u16, body: &[u8]) -> Error {
    let fault = serde_json::from_slice::<ApiFault>(body).ok();
    let code = fault.as_ref().and_then(|f| f.code.as_ref()).map(|c| match c {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let mut message = fault.and_then(|f| f.description).unwrap_or_else(|| "no error description".to_owned());
    if status == 401 && (code.as_deref() == Some("900421") || message.to_ascii_lowercase().contains("mfa")) {
        message = format!("{message}. Partner Center requires multi-factor authentication for App+User calls: the refresh token must come from a sign-in that used MFA (Test-PartnerSecurityRequirement shows whether it did)");
    }
    Error::Service { service: "Partner Center".into(), status, code, message }
}
