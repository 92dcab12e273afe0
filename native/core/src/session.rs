//! A connected session: who signed in, to which cloud, and the credential that renews its
//! access tokens. This is what `Connect-PartnerCenter` creates and `Get-PartnerContext` shows.

use crate::auth::cache::{CacheKey, TokenCache};
use crate::auth::claims::Claims;
use crate::auth::token::{self, ClientCredential, Grant, TokenRequest, TokenResponse, TokenTarget};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::http::HttpClients;
use crate::partner;
use crate::sam::SecureApp;
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The public client id the PartnerCenter module signs in with when no app is named
/// (the Azure CLI application).
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// The tenant used when the caller names none.
pub const DEFAULT_TENANT: &str = "organizations";

/// `PartnerAccount.Type` of the PartnerCenter module.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum AccountType {
    AccessToken,
    Certificate,
    ManagedService,
    ServicePrincipal,
    User,
}

/// How to connect: one variant per `Connect-PartnerCenter` parameter set that needs no browser.
#[derive(Debug, Clone)]
pub enum ConnectRequest {
    AccessToken { access_token: Secret, tenant: Option<String> },
    RefreshToken { application_id: String, credential: ClientCredential, refresh_token: Secret, tenant: Option<String> },
    /// The application itself (client credentials), with a secret or a certificate.
    ServicePrincipal { application_id: String, credential: ClientCredential, tenant: String },
    /// A user who just signed in interactively (browser or device code); the session keeps the
    /// refresh token of that sign-in to renew its access tokens.
    SignedIn { application_id: String, credential: ClientCredential, response: TokenResponse, tenant: String, scope: String },
    /// A Secure Application Model profile, whose exchange for `scope` in `tenant` gave
    /// `response`. The session renews its tokens through the profile, so every rotated refresh
    /// token lands in the profile's store.
    Profile { app: Arc<SecureApp>, response: TokenResponse, tenant: String, scope: String },
}

/// The account of a session, as `PartnerContext.Account` shows it. No secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    /// MSAL's home account identifier, `<oid>.<tid>`.
    pub identifier: Option<String>,
    pub object_id: Option<String>,
    pub tenant: String,
    #[serde(rename = "Type")]
    pub kind: AccountType,
    pub user_principal_name: Option<String>,
    pub application_id: Option<String>,
}

/// What `Get-PartnerContext` returns. Shows *that* a refresh token exists, never its value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextInfo {
    pub account: Account,
    pub environment: Environment,
    pub country_code: Option<String>,
    pub locale: Option<String>,
    pub extended_properties: BTreeMap<String, String>,
    pub authentication_methods: Vec<String>,
    pub access_token_expires_on: DateTime<Utc>,
    pub has_refresh_token: bool,
    pub connected_on: DateTime<Utc>,
    /// Things the caller should tell the user (e.g. the organisation profile could not be read).
    pub warnings: Vec<String>,
}

/// The credential that produces access tokens for a session.
enum SessionCredential {
    /// A token supplied by the caller: usable until it expires, cannot be renewed. Boxed: a
    /// token with its claims is ten times the size of the other credentials.
    AccessToken { token: Box<TokenResponse> },
    /// App + refresh token (Secure Application Model). The newest refresh token replaces the
    /// previous one after every exchange.
    RefreshToken { application_id: String, credential: ClientCredential, refresh_token: Mutex<Secret> },
    ServicePrincipal { application_id: String, credential: ClientCredential },
    /// A Secure Application Model profile: each exchange redeems the refresh token in the
    /// profile's store and writes the rotated one back before the access token is used, so a
    /// long-running session keeps the 90-day inactivity window sliding for the next process,
    /// and a crash loses nothing.
    Profile { app: Arc<SecureApp> },
}

pub struct Session {
    environment: Environment,
    tenant: String,
    credential: SessionCredential,
    cache: TokenCache,
    context: Mutex<ContextInfo>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("environment", &self.environment.name).field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

/// The scope a session's first token is requested for: Partner Center, delegated or app-only.
pub fn partner_center_scope(environment: &Environment, app_only: bool) -> String {
    let suffix = if app_only { ".default" } else { "user_impersonation" };
    format!("{}/{}", environment.partner_center_endpoint, suffix)
}

impl Session {
    /// Signs in and reads the partner's organisation profile (country and locale).
    pub async fn connect(http: &HttpClients, environment: Environment, request: ConnectRequest) -> Result<Arc<Session>> {
        let (tenant, credential, first_token, kind, application_id, scope) = match request {
            ConnectRequest::AccessToken { access_token, tenant } => {
                let claims = Claims::from_jwt(access_token.expose(), "access token").map_err(|e| match e {
                    Error::MalformedToken { reason, .. } => Error::invalid_input("AccessToken", format!("it is not a valid JSON Web Token: {reason}")),
                    other => other,
                })?;
                let now = Utc::now();
                if claims.is_expired_at(now) {
                    return Err(Error::TokenExpired { expired_at: claims.expires_on.map(|e| e.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default() });
                }
                let tenant = tenant.filter(|t| !t.trim().is_empty()).or_else(|| claims.tenant_id.clone()).unwrap_or_else(|| DEFAULT_TENANT.to_owned());
                token::validate_tenant(&tenant)?;
                let scope = claims.audience.clone().unwrap_or_default();
                let application_id = claims.application_id.clone();
                let response = TokenResponse {
                    access_token,
                    refresh_token: None,
                    id_token: None,
                    expires_on: claims.expires_on.unwrap_or(now + chrono::Duration::hours(1)),
                    scopes: claims.scopes.clone(),
                    resource: claims.audience.clone(),
                    claims,
                    id_token_claims: None,
                };
                (tenant, SessionCredential::AccessToken { token: Box::new(response.clone()) }, response, AccountType::AccessToken, application_id, scope)
            }
            ConnectRequest::RefreshToken { application_id, credential, refresh_token, tenant } => {
                let tenant = tenant.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| DEFAULT_TENANT.to_owned());
                let scope = partner_center_scope(&environment, false);
                let request = TokenRequest {
                    tenant: tenant.clone(),
                    client_id: application_id.clone(),
                    credential: credential.clone(),
                    grant: Grant::RefreshToken(refresh_token.clone()),
                    target: TokenTarget::Scopes(vec![scope.clone()]),
                };
                let response = token::request_token(http, &environment, &request).await?;
                let newest = response.refresh_token.clone().unwrap_or(refresh_token);
                let credential = SessionCredential::RefreshToken { application_id: application_id.clone(), credential, refresh_token: Mutex::new(newest) };
                (tenant, credential, response, AccountType::User, Some(application_id), scope)
            }
            ConnectRequest::ServicePrincipal { application_id, credential, tenant } => {
                let scope = partner_center_scope(&environment, true);
                let request = TokenRequest {
                    tenant: tenant.clone(),
                    client_id: application_id.clone(),
                    credential: credential.clone(),
                    grant: Grant::ClientCredentials,
                    target: TokenTarget::Scopes(vec![scope.clone()]),
                };
                let response = token::request_token(http, &environment, &request).await?;
                let kind = if matches!(credential, ClientCredential::Certificate(_)) { AccountType::Certificate } else { AccountType::ServicePrincipal };
                let credential = SessionCredential::ServicePrincipal { application_id: application_id.clone(), credential };
                (tenant, credential, response, kind, Some(application_id), scope)
            }
            ConnectRequest::SignedIn { application_id, credential, response, tenant, scope } => {
                let Some(refresh_token) = response.refresh_token.clone() else {
                    return Err(Error::InvalidResponse { url: environment.active_directory_authority.clone(), reason: "the sign-in returned no refresh token, so the session could not renew itself".into() });
                };
                let credential = SessionCredential::RefreshToken { application_id: application_id.clone(), credential, refresh_token: Mutex::new(refresh_token) };
                (tenant, credential, response, AccountType::User, Some(application_id), scope)
            }
            ConnectRequest::Profile { app, response, tenant, scope } => {
                let application_id = app.profile().application_id;
                (tenant, SessionCredential::Profile { app }, response, AccountType::User, Some(application_id), scope)
            }
        };

        let claims = &first_token.claims;
        // After sign-in the tenant is the one the token was issued in (as the PartnerCenter module does).
        let tenant = claims.tenant_id.clone().unwrap_or(tenant);
        let mut extended = BTreeMap::new();
        if let Some(app) = &application_id {
            extended.insert("ApplicationId".to_owned(), app.clone());
        }
        extended.insert("Scope".to_owned(), scope.clone());
        let has_refresh_token = matches!(credential, SessionCredential::RefreshToken { .. } | SessionCredential::Profile { .. });
        let context = ContextInfo {
            account: Account {
                identifier: match (&claims.object_id, &claims.tenant_id) {
                    (Some(oid), Some(tid)) => Some(format!("{oid}.{tid}")),
                    _ => None,
                },
                object_id: claims.object_id.clone(),
                tenant: tenant.clone(),
                kind,
                user_principal_name: claims.user_principal_name.clone(),
                application_id,
            },
            environment: Environment { trusted_certificate_pem: None, ..environment.clone() },
            country_code: None,
            locale: None,
            extended_properties: extended,
            authentication_methods: claims.authentication_methods.clone(),
            access_token_expires_on: first_token.expires_on,
            has_refresh_token,
            connected_on: Utc::now(),
            warnings: Vec::new(),
        };
        let session = Arc::new(Session { environment, tenant, credential, cache: TokenCache::new(), context: Mutex::new(context) });
        session.seed_cache(&scope, first_token).await;
        session.read_organization_profile(http, &scope).await;
        Ok(session)
    }

    async fn seed_cache(&self, scope: &str, token: TokenResponse) {
        let key = self.cache_key(&[scope.to_owned()]);
        // Cannot fail: the fetch closure returns the token we already have.
        let _ = self.cache.get_or_fetch(key, Utc::now, || async move { Ok(token) }).await;
    }

    /// Country and locale, as Connect-PartnerCenter shows them. A failure here does not fail the
    /// connection (the PartnerCenter module ignores it too); it is reported as a warning.
    async fn read_organization_profile(&self, http: &HttpClients, scope: &str) {
        let outcome = match self.access_token(http, &[scope.to_owned()]).await {
            Ok(token) => partner::organization_profile(http, &self.environment, &token.access_token, token.claims.audience.as_deref()).await,
            Err(e) => Err(e),
        };
        let mut context = self.context.lock();
        match outcome {
            Ok(profile) => {
                context.country_code = profile.country_code;
                context.locale = profile.culture;
            }
            Err(e) => context.warnings.push(format!("The partner organization profile could not be read, so CountryCode and Locale are empty: {e}")),
        }
    }

    pub fn context(&self) -> ContextInfo {
        self.context.lock().clone()
    }

    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    fn cache_key(&self, scopes: &[String]) -> CacheKey {
        let client = match &self.credential {
            SessionCredential::AccessToken { token } => token.claims.application_id.clone().unwrap_or_default(),
            SessionCredential::RefreshToken { application_id, .. } | SessionCredential::ServicePrincipal { application_id, .. } => application_id.clone(),
            SessionCredential::Profile { app } => app.profile().application_id,
        };
        CacheKey::new(&self.environment.active_directory_authority, &self.tenant, &client, scopes.iter().cloned())
    }

    /// An access token for `scopes` (v2), from the cache when still valid, else from the
    /// session's credential. A refresh-token session stores the rotated refresh token.
    pub async fn access_token(&self, http: &HttpClients, scopes: &[String]) -> Result<TokenResponse> {
        let key = self.cache_key(scopes);
        self.cache
            .get_or_fetch(key, Utc::now, || async {
                match &self.credential {
                    SessionCredential::AccessToken { token } => {
                        let expired_at = token.expires_on.format("%Y-%m-%d %H:%M:%S").to_string();
                        let wanted = scopes.join(" ");
                        if token.expires_on <= Utc::now() {
                            Err(Error::TokenExpired { expired_at })
                        } else {
                            Err(Error::invalid_input(
                                "AccessToken",
                                format!("the session was connected with an access token for '{}', which cannot be used for '{wanted}'; connect with -RefreshToken so tokens for other resources can be obtained", token.resource.clone().unwrap_or_default()),
                            ))
                        }
                    }
                    SessionCredential::RefreshToken { application_id, credential, refresh_token } => {
                        let current = refresh_token.lock().clone();
                        let request = TokenRequest {
                            tenant: self.tenant.clone(),
                            client_id: application_id.clone(),
                            credential: credential.clone(),
                            grant: Grant::RefreshToken(current),
                            target: TokenTarget::Scopes(scopes.to_vec()),
                        };
                        let response = token::request_token(http, &self.environment, &request).await?;
                        if let Some(newest) = &response.refresh_token {
                            *refresh_token.lock() = newest.clone();
                        }
                        Ok(response)
                    }
                    SessionCredential::ServicePrincipal { application_id, credential } => {
                        let request = TokenRequest {
                            tenant: self.tenant.clone(),
                            client_id: application_id.clone(),
                            credential: credential.clone(),
                            grant: Grant::ClientCredentials,
                            target: TokenTarget::Scopes(scopes.to_vec()),
                        };
                        token::request_token(http, &self.environment, &request).await
                    }
                    SessionCredential::Profile { app } => Ok(app.exchange_in(Some(&self.tenant), TokenTarget::Scopes(scopes.to_vec())).await?),
                }
            })
            .await
    }

    /// Forgets `stale`, a token for `scopes` in `tenant` (`None`: the session's own) that a
    /// service refused with `401 invalid_token`, so the next call obtains a fresh one. A token the
    /// caller handed in (`-AccessToken`) cannot be renewed and stays.
    pub async fn forget_access_token(&self, tenant: Option<&str>, scopes: &[String], stale: &Secret) {
        if matches!(self.credential, SessionCredential::AccessToken { .. }) {
            return;
        }
        let key = match tenant.filter(|t| !self.is_own_tenant(t)) {
            None => self.cache_key(scopes),
            Some(t) => CacheKey::new(&self.environment.active_directory_authority, t.trim(), &self.application_id(), scopes.iter().cloned()),
        };
        self.cache.invalidate(&key, stale).await;
    }

    pub fn cache_stats(&self) -> crate::auth::cache::CacheStats {
        self.cache.stats()
    }

    /// The tenant the session signed in to (its id once a token was issued).
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The application the session's tokens are issued to (empty for an access token without `appid`).
    pub fn application_id(&self) -> String {
        match &self.credential {
            SessionCredential::AccessToken { token } => token.claims.application_id.clone().unwrap_or_default(),
            SessionCredential::RefreshToken { application_id, .. } | SessionCredential::ServicePrincipal { application_id, .. } => application_id.clone(),
            SessionCredential::Profile { app } => app.profile().application_id,
        }
    }

    /// The Secure Application Model profile the session renews through, when it was connected
    /// with one (its refresh-token health is part of the assessment).
    pub fn secure_app(&self) -> Option<Arc<SecureApp>> {
        match &self.credential {
            SessionCredential::Profile { app } => Some(app.clone()),
            _ => None,
        }
    }

    /// `true` when `tenant` names the session's own tenant (its id, compared case-insensitively).
    pub fn is_own_tenant(&self, tenant: &str) -> bool {
        tenant.trim().eq_ignore_ascii_case(&self.tenant)
    }

    /// An access token for `scopes` in another tenant (a customer's) from the same credential:
    /// a refresh-token session redeems its refresh token at that tenant's authority, an
    /// application session signs in there with client credentials. Cached per tenant. The
    /// session keeps its own refresh token (the one a foreign exchange returns is not stored),
    /// so the partner session is never bound to a customer tenant; a profile session stores it
    /// like any exchange (it is the partner user's, redeemable at the partner's own tenant).
    /// The session's own tenant is served by [`Session::access_token`].
    pub async fn access_token_for_tenant(&self, http: &HttpClients, tenant: &str, scopes: &[String]) -> Result<TokenResponse> {
        if self.is_own_tenant(tenant) {
            return self.access_token(http, scopes).await;
        }
        token::validate_tenant(tenant)?;
        let tenant = tenant.trim().to_owned();
        let key = CacheKey::new(&self.environment.active_directory_authority, &tenant, &self.application_id(), scopes.iter().cloned());
        self.cache
            .get_or_fetch(key, Utc::now, || async {
                match &self.credential {
                    SessionCredential::AccessToken { .. } => Err(Error::invalid_input(
                        "Tenant",
                        format!("the session was connected with an access token for its own tenant, which cannot be used in tenant '{tenant}'; connect with -RefreshToken (or as a service principal) so tokens for customer tenants can be obtained"),
                    )),
                    SessionCredential::RefreshToken { application_id, credential, refresh_token } => {
                        let current = refresh_token.lock().clone();
                        let request = TokenRequest {
                            tenant: tenant.clone(),
                            client_id: application_id.clone(),
                            credential: credential.clone(),
                            grant: Grant::RefreshToken(current),
                            target: TokenTarget::Scopes(scopes.to_vec()),
                        };
                        token::request_token(http, &self.environment, &request).await
                    }
                    SessionCredential::ServicePrincipal { application_id, credential } => {
                        let request = TokenRequest {
                            tenant: tenant.clone(),
                            client_id: application_id.clone(),
                            credential: credential.clone(),
                            grant: Grant::ClientCredentials,
                            target: TokenTarget::Scopes(scopes.to_vec()),
                        };
                        token::request_token(http, &self.environment, &request).await
                    }
                    SessionCredential::Profile { app } => Ok(app.exchange_in(Some(&tenant), TokenTarget::Scopes(scopes.to_vec())).await?),
                }
            })
            .await
    }
}
