//! Azure Key Vault secrets (data plane, api-version 7.4; api-contracts §6) as a secret store:
//! the place Microsoft's Secure Application Model samples keep the refresh token.
//!
//! - The vault URL comes from the profile (`https://{vault}.vault.azure.net`, or a custom
//!   environment's `{base}/vault/{vault}`) and must belong to the environment's Key Vault
//!   resource (`Environment::key_vault_endpoint`): the vault host is the resource host or a
//!   subdomain of it, as Azure SDKs check the challenge resource.
//! - Tokens are for `{keyVaultResource}/.default`, obtained with the application's own
//!   credential (client credentials, secret or certificate: the SAM app's service principal
//!   reads its vault) and cached, or supplied by the caller.
//! - Requests go through [`http::send`] (TLS, retries, secrets redacted) after
//!   [`http::confine`] checked that the URL stays on the vault; the token's audience is then
//!   checked against the vault host with Key Vault's subdomain rule (`confine`'s audience rule
//!   wants the same host, which real vault hosts are not).
//! - Errors are typed: 403 becomes [`SamError::KeyVaultForbidden`] naming the identity, the
//!   missing permission and the vault; 404 `SecretNotFound` is "no secret"; the rest become
//!   [`Error::Service`] with Key Vault's code and message.
//!
//! Deleting uses Key Vault's DELETE: on a vault with soft delete (all new vaults) the name then
//! stays reserved until the deleted secret is purged or recovered.

use crate::auth::cache::{CacheKey, TokenCache};
use crate::auth::claims::Claims;
use crate::auth::token::{self, ClientCredential, Grant, TokenRequest, TokenResponse, TokenTarget};
use crate::environment::Environment;
use crate::error::Error;
use crate::http::{self, HttpClients};
use crate::sam::error::{SamError, SamResult};
use crate::sam::store::{SecretStore, validate_name};
use crate::secret::{Secret, redact};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use url::Url;

/// The data-plane API version this client speaks.
pub const API_VERSION: &str = "7.4";

/// How the store authenticates to Key Vault.
#[derive(Debug, Clone)]
pub enum KeyVaultAuth {
    /// Client credentials of an application (secret or certificate) in `tenant`.
    Application { tenant: String, application_id: String, credential: ClientCredential },
    /// An access token for Key Vault that the caller obtained (e.g. a managed identity's).
    Token(Secret),
}

pub struct KeyVaultStore {
    http: Arc<HttpClients>,
    environment: Environment,
    vault: Url,
    /// The Key Vault resource identifier, without a trailing slash.
    resource: String,
    auth: KeyVaultAuth,
    cache: TokenCache,
}

impl std::fmt::Debug for KeyVaultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVaultStore").field("vault", &self.vault.as_str()).finish_non_exhaustive()
    }
}

/// Checks a vault URL against the environment's Key Vault resource and normalises it (no
/// trailing slash, no query).
pub fn validate_vault_url(environment: &Environment, vault_url: &str) -> Result<Url, Error> {
    let resource = environment.key_vault_endpoint.trim().trim_end_matches('/');
    if resource.is_empty() {
        return Err(Error::invalid_input(
            "KeyVaultUrl",
            format!("the environment '{}' has no Key Vault endpoint; register it with one (e.g. -KeyVaultEndpoint)", environment.name),
        ));
    }
    let text = vault_url.trim().trim_end_matches('/');
    let url = Url::parse(text).map_err(|e| Error::invalid_input("KeyVaultUrl", format!("'{text}' is not an absolute URL ({e})")))?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input("KeyVaultUrl", format!("'{text}' must not have a query, fragment or user name")));
    }
    http::require_secure_endpoint(&url)
        .map_err(|_| Error::invalid_input("KeyVaultUrl", format!("'{text}' uses plain http; use https (plain http only for loopback addresses)")))?;
    let resource_url = Url::parse(resource).map_err(|e| Error::invalid_input("Environment", format!("the Key Vault endpoint '{resource}' is not a URL ({e})")))?;
    if !audience_covers(&resource_url, &url) {
        return Err(Error::invalid_input("KeyVaultUrl", format!("'{text}' is not a vault of the environment '{}' (its vaults are under {resource})", environment.name)));
    }
    Ok(url)
}

/// Key Vault's rule: the vault host is the resource host or a subdomain of it; for the same
/// host (an emulator) the port must match and the vault path lie under the resource path.
fn audience_covers(resource: &Url, vault: &Url) -> bool {
    let (Some(rh), Some(vh)) = (resource.host_str(), vault.host_str()) else {
        return false;
    };
    let (rh, vh) = (rh.to_ascii_lowercase(), vh.to_ascii_lowercase());
    if vh == rh {
        let base = resource.path().trim_end_matches('/');
        return resource.port_or_known_default() == vault.port_or_known_default()
            && resource.scheme() == vault.scheme()
            && vault.path().trim_end_matches('/').len() > base.len()
            && vault.path().starts_with(&format!("{base}/"));
    }
    vh.ends_with(&format!(".{rh}")) && resource.scheme() == vault.scheme()
}

#[derive(Deserialize)]
struct Bundle {
    value: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    innererror: Option<InnerError>,
}

#[derive(Deserialize)]
struct InnerError {
    #[serde(default)]
    code: Option<String>,
}

impl KeyVaultStore {
    pub fn new(http: Arc<HttpClients>, environment: Environment, vault_url: &str, auth: KeyVaultAuth) -> SamResult<Self> {
        let vault = validate_vault_url(&environment, vault_url)?;
        if let KeyVaultAuth::Application { tenant, application_id, .. } = &auth {
            token::validate_tenant(tenant)?;
            if application_id.trim().is_empty() {
                return Err(Error::invalid_input("ApplicationId", "it is empty").into());
            }
        }
        let resource = environment.key_vault_endpoint.trim().trim_end_matches('/').to_owned();
        Ok(Self { http, environment, vault, resource, auth, cache: TokenCache::new() })
    }

    /// The vault's URL (no trailing slash).
    pub fn vault_url(&self) -> &str {
        self.vault.as_str().trim_end_matches('/')
    }

    async fn token(&self) -> SamResult<(Secret, Claims)> {
        match &self.auth {
            KeyVaultAuth::Token(token) => {
                let claims = Claims::from_jwt(token.expose(), "Key Vault access token")?;
                if claims.is_expired_at(Utc::now()) {
                    return Err(Error::TokenExpired { expired_at: claims.expires_on.map(|e| e.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default() }.into());
                }
                Ok((token.clone(), claims))
            }
            KeyVaultAuth::Application { tenant, application_id, credential } => {
                let scope = format!("{}/.default", self.resource);
                let key = CacheKey::new(&self.environment.active_directory_authority, tenant, application_id, [scope.clone()]);
                let request = TokenRequest {
                    tenant: tenant.clone(),
                    client_id: application_id.clone(),
                    credential: credential.clone(),
                    grant: Grant::ClientCredentials,
                    target: TokenTarget::Scopes(vec![scope]),
                };
                let response: TokenResponse = self.cache.get_or_fetch(key, Utc::now, || token::request_token(&self.http, &self.environment, &request)).await?;
                Ok((response.access_token, response.claims))
            }
        }
    }

    fn secret_url(&self, name: &str) -> SamResult<Url> {
        let text = format!("{}/secrets/{name}?api-version={API_VERSION}", self.vault_url());
        Url::parse(&text).map_err(|e| Error::Internal(format!("the secret URL could not be formed ({e})")).into())
    }

    /// One call: confinement, the token, the request; answers (status, body).
    async fn call(&self, method: reqwest::Method, name: &str, body: Option<serde_json::Value>, secrets: &[&Secret]) -> SamResult<(u16, Vec<u8>, Claims, Secret)> {
        let url = self.secret_url(name)?;
        http::confine(&url, self.vault_url(), None)?;
        let (token, claims) = self.token().await?;
        if let Some(aud) = claims.audience.as_deref() {
            let fits = match Url::parse(aud) {
                Ok(aud_url) if aud_url.host_str().is_some() => audience_covers(&aud_url, &self.vault),
                // A bare app id audience (Key Vault's `cfa8b339-…`) names no host to compare.
                _ => true,
            };
            if !fits {
                return Err(Error::InvalidResponse {
                    url: http::endpoint_label(&url),
                    reason: format!("refusing to send the access token there: it was issued for {aud}, which is not this vault's service"),
                }
                .into());
            }
        }
        let client = self.http.client(self.environment.trusted_certificate_pem.as_deref())?;
        let mut all_secrets: Vec<&Secret> = secrets.to_vec();
        all_secrets.push(&token);
        let answer = http::send(&url, &all_secrets, || {
            let mut request = client.request(method.clone(), url.clone()).bearer_auth(token.expose()).header("Accept", "application/json");
            if let Some(body) = &body {
                request = request.json(body);
            }
            request
        })
        .await?;
        Ok((answer.status, answer.body, claims, token))
    }

    fn failure(&self, status: u16, body: &[u8], claims: &Claims, permission: &str, secrets: &[&Secret]) -> SamError {
        let detail = serde_json::from_slice::<ErrorBody>(body).ok().map(|b| b.error);
        let code = detail.as_ref().and_then(|d| d.code.clone());
        let inner = detail.as_ref().and_then(|d| d.innererror.as_ref()).and_then(|i| i.code.clone());
        let message = redact(detail.as_ref().and_then(|d| d.message.clone()).as_deref().unwrap_or("no error description"), secrets);
        if status == 403 && inner.as_deref() != Some("SecretDisabled") {
            return SamError::KeyVaultForbidden { identity: identity(claims), permission: permission.to_owned(), vault: self.vault_url().to_owned(), message };
        }
        let advice = match (status, inner.as_deref()) {
            (401, _) => format!(". The access token must be for {} from the vault's tenant", self.resource),
            (403, Some("SecretDisabled")) => ". The secret is disabled; enable it in the vault".to_owned(),
            _ => String::new(),
        };
        SamError::Core(Error::Service { service: "Key Vault".into(), status, code, message: format!("{message}{advice}") })
    }
}

/// Who a token speaks for, for messages.
fn identity(claims: &Claims) -> String {
    let oid = claims.object_id.clone().unwrap_or_else(|| "?".into());
    match (&claims.user_principal_name, claims.is_app_only()) {
        (Some(upn), false) => format!("'{upn}' (object id {oid})"),
        _ => format!("application {} (service principal object id {oid})", claims.application_id.clone().unwrap_or_else(|| "?".into())),
    }
}

#[async_trait::async_trait]
impl SecretStore for KeyVaultStore {
    async fn read(&self, name: &str) -> SamResult<Option<Secret>> {
        validate_name(name)?;
        let (status, body, claims, token) = self.call(reqwest::Method::GET, name, None, &[]).await?;
        match status {
            200 => {
                let bundle: Bundle = serde_json::from_slice(&body)
                    .map_err(|_| Error::InvalidResponse { url: self.vault_url().to_owned(), reason: "the secret is not the expected JSON (SecretBundle)".into() })?;
                let value = bundle.value.ok_or_else(|| Error::InvalidResponse { url: self.vault_url().to_owned(), reason: "the secret has no value".into() })?;
                Ok(Some(Secret::new(value)))
            }
            404 if is_secret_not_found(&body) => Ok(None),
            _ => Err(self.failure(status, &body, &claims, "get", &[&token])),
        }
    }

    async fn write(&self, name: &str, value: &Secret) -> SamResult<()> {
        validate_name(name)?;
        let body = json!({"value": value.expose(), "tags": {"managedBy": "PartnerSecurity"}});
        let (status, answer, claims, token) = self.call(reqwest::Method::PUT, name, Some(body), &[value]).await?;
        match status {
            200..=299 => Ok(()),
            _ => Err(self.failure(status, &answer, &claims, "set", &[&token, value])),
        }
    }

    async fn delete(&self, name: &str) -> SamResult<bool> {
        validate_name(name)?;
        let (status, body, claims, token) = self.call(reqwest::Method::DELETE, name, None, &[]).await?;
        match status {
            200..=299 => Ok(true),
            404 if is_secret_not_found(&body) => Ok(false),
            _ => Err(self.failure(status, &body, &claims, "delete", &[&token])),
        }
    }

    fn describe(&self) -> String {
        format!("Key Vault {}", self.vault_url())
    }
}

fn is_secret_not_found(body: &[u8]) -> bool {
    serde_json::from_slice::<ErrorBody>(body).ok().and_then(|b| b.error.code).is_some_and(|c| c == "SecretNotFound")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::EnvironmentRegistry;

    fn env(kv: &str) -> Environment {
        let mut e = EnvironmentRegistry::new().get("AzureCloud").unwrap();
        e.key_vault_endpoint = kv.into();
        e
    }

    #[test]
    fn vault_urls_must_belong_to_the_environment() {
        let cloud = env("https://vault.azure.net");
        assert_eq!(validate_vault_url(&cloud, "https://contoso.vault.azure.net/").unwrap().as_str(), "https://contoso.vault.azure.net/");
        for bad in [
            "https://contoso.vault.azure.net.evil.com",
            "https://evil.com",
            "http://contoso.vault.azure.net",
            "https://vault.azure.net",
            "https://x.vault.azure.net/?a=1",
            "not a url",
        ] {
            assert!(validate_vault_url(&cloud, bad).is_err(), "{bad}");
        }
        let emulator = env("https://127.0.0.1:8443/vault");
        assert!(validate_vault_url(&emulator, "https://127.0.0.1:8443/vault/contoso").is_ok());
        for bad in ["https://127.0.0.1:8443/vault", "https://127.0.0.1:8444/vault/contoso", "https://127.0.0.1:8443/graph/contoso", "https://127.0.0.1:8443/vaultx/contoso"] {
            assert!(validate_vault_url(&emulator, bad).is_err(), "{bad}");
        }
        assert!(validate_vault_url(&env(""), "https://contoso.vault.azure.net").unwrap_err().to_string().contains("no Key Vault endpoint"));
    }
}
