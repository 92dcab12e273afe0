//! What Microsoft Graph says about a profile's application: when its client secrets and
//! certificates expire (`GET /v1.0/applications?$filter=appId eq '…'`, with the application's
//! own app-only token, which needs `Application.Read.All` or `Directory.Read.All`). Graph never
//! returns a secret's value, only its first characters (`hint`).
//!
//! A profile whose refresh token is fine still stops working the day the application's secret
//! expires (AADSTS7000222), so health looks at both.

use crate::auth::token::{self, ClientCredential, Grant, TokenRequest, TokenTarget};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::http::{self, HttpClients};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One credential of the application.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppCredential {
    /// `Secret` or `Certificate`.
    pub kind: &'static str,
    pub display_name: Option<String>,
    /// The first characters of a secret, as Graph shows them.
    pub hint: Option<String>,
    pub expires_on: Option<DateTime<Utc>>,
    /// Whole days until then (negative once past).
    pub days_left: Option<i64>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<RawApplication>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawApplication {
    #[serde(default)]
    password_credentials: Vec<RawCredential>,
    #[serde(default)]
    key_credentials: Vec<RawCredential>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCredential {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    end_date_time: Option<DateTime<Utc>>,
}

/// The application's secrets and certificates with their expiry, read with its own credential.
pub async fn read(http: &HttpClients, environment: &Environment, tenant: &str, application_id: &str, credential: &ClientCredential, now: DateTime<Utc>) -> Result<Vec<AppCredential>> {
    let graph = environment.graph_endpoint.trim_end_matches('/');
    let request = TokenRequest {
        tenant: tenant.to_owned(),
        client_id: application_id.to_owned(),
        credential: credential.clone(),
        grant: Grant::ClientCredentials,
        target: TokenTarget::Scopes(vec![format!("{graph}/.default")]),
    };
    let token = token::request_token(http, environment, &request).await?;
    let mut url = url::Url::parse(&format!("{graph}/v1.0/applications"))
        .map_err(|e| Error::invalid_input("Environment", format!("the Graph endpoint '{graph}' does not form a URL ({e})")))?;
    url.query_pairs_mut()
        .append_pair("$filter", &format!("appId eq '{}'", application_id.replace('\'', "''")))
        .append_pair("$select", "appId,passwordCredentials,keyCredentials");
    http::confine(&url, &environment.graph_endpoint, token.claims.audience.as_deref())?;
    let client = http.client(environment.trusted_certificate_pem.as_deref())?;
    let access = &token.access_token;
    let answer = http::send(&url, &[access], || client.get(url.clone()).bearer_auth(access.expose()).header("Accept", "application/json")).await?;
    if !(200..300).contains(&answer.status) {
        return Err(Error::Service {
            service: "Microsoft Graph".into(),
            status: answer.status,
            code: None,
            message: "the application registration could not be read (the application needs Application.Read.All or Directory.Read.All)".into(),
        });
    }
    let page: Page = serde_json::from_slice(&answer.body)
        .map_err(|e| Error::InvalidResponse { url: http::endpoint_label(&url), reason: format!("the application list is not the expected JSON ({e})") })?;
    let days = |end: Option<DateTime<Utc>>| end.map(|e| (e - now).num_days());
    Ok(page
        .value
        .into_iter()
        .flat_map(|app| {
            let secrets = app.password_credentials.into_iter().map(move |c| AppCredential { kind: "Secret", display_name: c.display_name, hint: c.hint, expires_on: c.end_date_time, days_left: days(c.end_date_time) });
            let certificates = app.key_credentials.into_iter().map(move |c| AppCredential { kind: "Certificate", display_name: c.display_name, hint: None, expires_on: c.end_date_time, days_left: days(c.end_date_time) });
            secrets.chain(certificates)
        })
        .collect())
}
