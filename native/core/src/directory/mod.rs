//! Microsoft Graph directory, policy and report reads of the connected (partner) tenant
//! (api-contracts §4): users, groups, security defaults, Conditional Access, registration
//! details, subscribed SKUs, role assignments and PIM eligibility, domains and federation, GDAP
//! relationships. Typed only as far as the checks need; collections follow `@odata.nextLink`
//! on the same host only.
//!
//! Errors say what to grant or license: a 403 names the Graph permission the endpoint needs, a
//! licence error names the Entra ID edition.

pub mod model;

pub use model::*;

use crate::error::{Error, Result};
use crate::http;
use crate::signins::Context;
use crate::signins::page::follow;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

/// What a Graph read needs to explain its failures.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Path under the version, e.g. `identity/conditionalAccess/policies`.
    pub path: &'static str,
    /// `v1.0` or `beta`.
    pub version: &'static str,
    /// Least-privileged permission that allows the read (named in errors).
    pub permission: &'static str,
    /// What the data is, for messages ("Conditional Access policies").
    pub what: &'static str,
}

/// Reads of one tenant's Graph with the session's token.
#[derive(Clone)]
pub struct Graph {
    ctx: Context,
    endpoint: String,
}

#[derive(Deserialize)]
struct Collection<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    error: Option<GraphFault>,
}

#[derive(Deserialize, Default)]
struct GraphFault {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Graph's error codes for a tenant without Entra ID P1/P2 and for PIM without P2.
pub const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";
pub const P2_REQUIRED: &str = "AadPremiumLicenseRequired";

impl Graph {
    pub fn new(ctx: Context) -> Self {
        let endpoint = ctx
            .session
            .environment()
            .graph_endpoint
            .trim_end_matches('/')
            .to_owned();
        Self { ctx, endpoint }
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    fn url(&self, endpoint: &Endpoint, query: &str) -> Result<Url> {
        self.child_url(endpoint, "", query)
    }

    async fn get(&self, url: &Url, endpoint: &Endpoint) -> Result<Vec<u8>> {
        let scopes = vec![format!("{}/.default", self.endpoint)];
        let token = self
            .ctx
            .session
            .access_token(&self.ctx.http, &scopes)
            .await?;
        http::confine(url, &self.endpoint, token.claims.audience.as_deref())?;
        let client = self.ctx.http.client(
            self.ctx
                .session
                .environment()
                .trusted_certificate_pem
                .as_deref(),
        )?;
        let secret = &token.access_token;
        let answer = http::get_json(url, &[secret], || {
            client
                .get(url.clone())
                .bearer_auth(secret.expose())
                .header("Accept", "application/json")
        })
        .await?;
        if !(200..300).contains(&answer.status) {
            return Err(error(
                answer.status,
                &answer.body,
                endpoint,
                self.ctx.session.tenant(),
                answer.retry_after,
            ));
        }
        Ok(answer.body)
    }

    /// One object (`GET {path}{query}`).
    pub async fn object<T: DeserializeOwned>(&self, endpoint: &Endpoint, query: &str) -> Result<T> {
        let url = self.url(endpoint, query)?;
        let body = self.get(&url, endpoint).await?;
        serde_json::from_slice(&body).map_err(|e| unreadable(&url, endpoint, e))
    }

    /// Every item of a collection, following `@odata.nextLink`.
    pub async fn collection<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        query: &str,
    ) -> Result<Vec<T>> {
        self.collect(self.url(endpoint, query)?, endpoint).await
    }

    /// A collection under a parent id (e.g. a group's members): `path` with `{id}` replaced.
    pub async fn child_collection<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        id: &str,
        query: &str,
    ) -> Result<Vec<T>> {
        self.collect(self.child_url(endpoint, id, query)?, endpoint)
            .await
    }

    async fn collect<T: DeserializeOwned>(
        &self,
        mut url: Url,
        endpoint: &Endpoint,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        loop {
            let body = self.get(&url, endpoint).await?;
            let page: Collection<T> =
                serde_json::from_slice(&body).map_err(|e| unreadable(&url, endpoint, e))?;
            items.extend(page.value);
            match page.next_link {
                Some(link) => url = follow(&link, &url)?,
                None => return Ok(items),
            }
        }
    }

    fn child_url(&self, endpoint: &Endpoint, id: &str, query: &str) -> Result<Url> {
        let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let path = endpoint.path.replace("{id}", &encoded);
        let text = format!("{}/{}/{}{}", self.endpoint, endpoint.version, path, query);
        Url::parse(&text).map_err(|e| {
            Error::invalid_input(
                "Environment",
                format!(
                    "the Graph endpoint '{}' does not form a URL ({e})",
                    self.endpoint
                ),
            )
        })
    }

    /// A single object under a parent id.
    pub async fn child_object<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        id: &str,
    ) -> Result<T> {
        let url = self.child_url(endpoint, id, "")?;
        let body = self.get(&url, endpoint).await?;
        serde_json::from_slice(&body).map_err(|e| unreadable(&url, endpoint, e))
    }
}

fn unreadable(url: &Url, endpoint: &Endpoint, e: serde_json::Error) -> Error {
    Error::InvalidResponse {
        url: http::endpoint_label(url),
        reason: format!("the {} are not the expected JSON ({e})", endpoint.what),
    }
}

/// A Graph error answer as an error that says what to grant or license, or, for throttling,
/// how long Graph asked to wait (`retry_after`).
pub fn error(
    status: u16,
    body: &[u8],
    endpoint: &Endpoint,
    tenant: &str,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let fault = serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.error)
        .unwrap_or_default();
    let said = fault
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("no error description (HTTP {status})"));
    let code = fault.code.clone();
    let what = endpoint.what;
    let message = match code.as_deref() {
        Some(NON_PREMIUM) => format!(
            "Tenant '{tenant}' has no Microsoft Entra ID P1 or P2 licence, which Microsoft Graph requires for the {what}. License Entra ID P1 (alone or in Microsoft 365 Business Premium, E3 or E5). Graph said: {said}"
        ),
        Some(P2_REQUIRED) => format!(
            "Tenant '{tenant}' has no Microsoft Entra ID P2 (or Entra ID Governance) licence, which Privileged Identity Management and the {what} need. License Entra ID P2 (alone or in Microsoft 365 E5 / EMS E5) for the administrators. Graph said: {said}"
        ),
        _ if status == 403 => format!(
            "The application may not read the {what} of tenant '{tenant}': grant it the Microsoft Graph permission {} (application permission for a service principal, delegated for a user session; an administrator must consent). Graph said: {said}",
            endpoint.permission
        ),
        _ if status == 429 => match retry_after {
            Some(wait) if wait > http::MAX_RETRY_AFTER => format!(
                "Microsoft Graph is throttling reads of tenant '{tenant}' and asked to wait {} s before reading the {what}, longer than the {} s this module waits; run the assessment again later. Graph said: {said}",
                wait.as_secs(),
                http::MAX_RETRY_AFTER.as_secs()
            ),
            _ => format!(
                "Microsoft Graph kept throttling reads of the {what} of tenant '{tenant}' through {} attempts, each after the wait it asked for; run the assessment again later. Graph said: {said}",
                http::MAX_ATTEMPTS
            ),
        },
        _ if status == 401 => format!(
            "Microsoft Graph did not accept the access token for tenant '{tenant}'. Reconnect with Connect-PartnerCenter. Graph said: {said}"
        ),
        _ => format!("Reading the {what} failed: {said}"),
    };
    Error::Service {
        service: "Microsoft Graph".into(),
        status,
        code,
        message,
    }
}

/// `true` when `error` is Graph's "no P1/P2 licence" answer.
pub fn is_non_premium(error: &Error) -> bool {
    matches!(error, Error::Service { code: Some(c), .. } if c == NON_PREMIUM)
}
