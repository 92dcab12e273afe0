//! The entry point: environments, the HTTP clients, the current session, and one-off token
//! requests (`New-PartnerAccessToken`).

use crate::auth::claims::Claims;
use crate::auth::token::{self, ClientCredential, Grant, TokenRequest, TokenResponse, TokenTarget};
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::{Error, Result};
use crate::http::HttpClients;
use crate::secret::Secret;
use crate::session::{ConnectRequest, ContextInfo, DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_TENANT, Session};
use crate::signin::{PendingSignIns, SignInPrompt, SignInRequest};
use crate::signins::{self, SignInLogs};
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use std::sync::Arc;

/// What `New-PartnerAccessToken` asks for (the parameter sets that need no browser).
#[derive(Debug, Clone)]
pub enum AccessTokenRequest {
    /// Wraps a token the caller already has (no request to Entra ID), as the original does.
    AccessToken { access_token: Secret },
    RefreshToken { application_id: Option<String>, credential: ClientCredential, refresh_token: Secret, scopes: Vec<String>, tenant: Option<String> },
    ServicePrincipal { application_id: String, credential: ClientCredential, scopes: Vec<String>, tenant: String },
}

/// A token handed to the caller, who asked for the values. Mirrors MSAL's
/// `AuthenticationResult` plus `RefreshToken`, taken from the token response itself.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub response: TokenResponse,
    pub tenant_id: Option<String>,
    pub unique_id: Option<String>,
    pub username: Option<String>,
    pub environment: String,
    pub correlation_id: String,
}

impl IssuedToken {
    /// A token response as handed to the caller (e.g. from a Secure Application Model profile).
    pub fn new(environment: &Environment, response: TokenResponse) -> Self {
        issued(environment, response)
    }
}

#[derive(Default)]
pub struct PartnerSecurity {
    environments: EnvironmentRegistry,
    http: Arc<HttpClients>,
    session: RwLock<Option<Arc<Session>>>,
    sign_ins: PendingSignIns,
    sign_in_logs: SignInLogs,
}

impl PartnerSecurity {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn environments(&self) -> &EnvironmentRegistry {
        &self.environments
    }

    pub fn http(&self) -> &HttpClients {
        &self.http
    }

    /// The HTTP clients, shared (secret stores and profiles keep a handle).
    pub fn http_shared(&self) -> Arc<HttpClients> {
        self.http.clone()
    }

    /// Signs in and makes the new session current. The previous session stays current if the
    /// sign-in fails.
    pub async fn connect(&self, environment: &str, request: ConnectRequest) -> Result<ContextInfo> {
        let environment = self.environments.get(environment)?;
        let session = Session::connect(&self.http, environment, request).await?;
        let context = session.context();
        *self.session.write() = Some(session);
        Ok(context)
    }

    /// Starts an interactive sign-in (browser or device code) and says what the user must do.
    pub async fn begin_sign_in(&self, environment: &str, request: SignInRequest) -> Result<(String, SignInPrompt)> {
        let environment = self.environments.get(environment)?;
        self.sign_ins.begin(&self.http, environment, request).await
    }

    pub fn abandon_sign_in(&self, id: &str) -> bool {
        self.sign_ins.abandon(id)
    }

    /// Finishes an interactive sign-in and makes it the current session.
    pub async fn finish_sign_in_and_connect(&self, id: &str) -> Result<ContextInfo> {
        let (environment, signed_in) = self.sign_ins.finish(&self.http, id).await?;
        let request = ConnectRequest::SignedIn {
            application_id: signed_in.client_id,
            credential: signed_in.credential,
            response: signed_in.response,
            tenant: signed_in.tenant,
            scope: signed_in.scope,
        };
        let session = Session::connect(&self.http, environment, request).await?;
        let context = session.context();
        *self.session.write() = Some(session);
        Ok(context)
    }

    /// Finishes an interactive sign-in and returns it as it is (a consent to be saved).
    pub async fn finish_sign_in(&self, id: &str) -> Result<(Environment, crate::signin::SignedIn)> {
        self.sign_ins.finish(&self.http, id).await
    }

    /// Finishes an interactive sign-in and hands the tokens to the caller.
    pub async fn finish_sign_in_for_token(&self, id: &str) -> Result<IssuedToken> {
        let (environment, signed_in) = self.sign_ins.finish(&self.http, id).await?;
        Ok(issued(&environment, signed_in.response))
    }

    /// Forgets the current session and its cached tokens. `false` when none was connected.
    pub fn disconnect(&self) -> bool {
        self.session.write().take().is_some()
    }

    pub fn context(&self) -> Option<ContextInfo> {
        self.session.read().as_ref().map(|s| s.context())
    }

    pub fn session(&self) -> Result<Arc<Session>> {
        self.session.read().clone().ok_or(Error::NotConnected)
    }

    /// Sign-in activity (Graph `auditLogs/signIns`): cursors, exports and request budgets.
    pub fn sign_in_logs(&self) -> &SignInLogs {
        &self.sign_in_logs
    }

    /// What a sign-in query needs from the current session; `NotConnected` without one.
    pub fn sign_in_context(&self) -> Result<signins::Context> {
        Ok(signins::Context { http: self.http.clone(), session: self.session()?, limiters: self.sign_in_logs.limiters() })
    }

    /// One token request outside the session (`New-PartnerAccessToken`).
    pub async fn new_access_token(&self, environment: &str, request: AccessTokenRequest) -> Result<IssuedToken> {
        let environment = self.environments.get(environment)?;
        let response = match request {
            AccessTokenRequest::AccessToken { access_token } => wrap_access_token(access_token)?,
            AccessTokenRequest::RefreshToken { application_id, credential, refresh_token, scopes, tenant } => {
                let request = TokenRequest {
                    tenant: tenant.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| DEFAULT_TENANT.to_owned()),
                    client_id: application_id.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| DEFAULT_PUBLIC_CLIENT_ID.to_owned()),
                    credential,
                    grant: Grant::RefreshToken(refresh_token),
                    target: TokenTarget::Scopes(scopes),
                };
                token::request_token(&self.http, &environment, &request).await?
            }
            AccessTokenRequest::ServicePrincipal { application_id, credential, scopes, tenant } => {
                let request = TokenRequest {
                    tenant,
                    client_id: application_id,
                    credential,
                    grant: Grant::ClientCredentials,
                    target: TokenTarget::Scopes(scopes),
                };
                token::request_token(&self.http, &environment, &request).await?
            }
        };
        Ok(issued(&environment, response))
    }
}

fn issued(environment: &Environment, response: TokenResponse) -> IssuedToken {
    let identity = response.id_token_claims.as_ref().unwrap_or(&response.claims);
    IssuedToken {
        tenant_id: response.claims.tenant_id.clone(),
        unique_id: response.claims.object_id.clone(),
        username: identity.user_principal_name.clone(),
        environment: environment_host(environment),
        correlation_id: uuid::Uuid::new_v4().to_string(),
        response,
    }
}

fn environment_host(environment: &Environment) -> String {
    url::Url::parse(&environment.active_directory_authority).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

fn wrap_access_token(access_token: Secret) -> Result<TokenResponse> {
    let claims = Claims::from_jwt(access_token.expose(), "access token").map_err(|e| match e {
        Error::MalformedToken { reason, .. } => Error::invalid_input("AccessToken", format!("it is not a valid JSON Web Token: {reason}")),
        other => other,
    })?;
    let now: DateTime<Utc> = Utc::now();
    let Some(expires_on) = claims.expires_on else {
        return Err(Error::invalid_input("AccessToken", "it has no expiry ('exp' claim)"));
    };
    if expires_on <= now {
        return Err(Error::TokenExpired { expired_at: expires_on.format("%Y-%m-%d %H:%M:%S").to_string() });
    }
    Ok(TokenResponse {
        access_token,
        refresh_token: None,
        id_token: None,
        expires_on,
        scopes: claims.scopes.clone(),
        resource: claims.audience.clone(),
        claims,
        id_token_claims: None,
    })
}
