//! The Secure Application Model exchange: redeem the stored refresh token, store the new one
//! it returns, then hand out the access token — in that order, so a crash or a failed write
//! never loses the newest token a caller may have used.
//!
//! Why the order is safe: Entra ID refresh tokens roll (api-contracts §2.7). A redemption
//! returns a new refresh token and the old one stays valid until it expires or is revoked. If
//! the write of the new token fails (disk full, Key Vault 403, the process dies), the store
//! still holds the old token, which still works: nothing is lost, the next exchange simply
//! starts from it. The only way to lose access would be to return the access token while the
//! store held nothing usable; that cannot happen here.
//!
//! Concurrency: an exchange holds the profile's in-process gate and the store's cross-process
//! lock (the encrypted file store has one; Key Vault has none, where the last writer wins,
//! which is safe for the reason above) from reading the token to writing the new one.
//!
//! Consent: [`consent_and_save`] takes a fresh interactive sign-in and refuses to store its
//! refresh token unless the access token's `amr` proves MFA.

use crate::auth::token::{self, ClientCredential, Grant, TokenRequest, TokenResponse, TokenTarget};
use crate::environment::Environment;
use crate::error::Error;
use crate::http::HttpClients;
use crate::sam::error::{ProfileEntry, SamError, SamResult};
use crate::sam::health::{self, ProfileHealth};
use crate::sam::profile::{ProfileRepository, SecureAppProfile};
use crate::sam::store::SecretStore;
use crate::secret::Secret;
use crate::signin::SignedIn;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use std::sync::Arc;

/// An opened profile: everything an exchange needs. Build it with [`crate::sam::open_profile`]
/// or, with stores and credentials at hand, [`SecureApp::new`].
pub struct SecureApp {
    profile: Mutex<SecureAppProfile>,
    environment: Environment,
    http: Arc<HttpClients>,
    credential: ClientCredential,
    store: Arc<dyn SecretStore>,
    repository: Option<ProfileRepository>,
    gate: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for SecureApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureApp").field("profile", &self.profile.lock().name).field("store", &self.store.describe()).finish_non_exhaustive()
    }
}

impl SecureApp {
    /// `credential` is the application's (secret or certificate); `store` holds the refresh
    /// token under the profile's `refresh_token_store` name.
    pub fn new(profile: SecureAppProfile, environment: Environment, http: Arc<HttpClients>, credential: ClientCredential, store: Arc<dyn SecretStore>) -> Self {
        Self { profile: Mutex::new(profile), environment, http, credential, store, repository: None, gate: tokio::sync::Mutex::new(()) }
    }

    /// Records exchanges and consents (last use, `amr`, scopes) in this repository's copy of
    /// the profile. Without one, only the in-memory copy changes.
    pub fn with_repository(mut self, repository: ProfileRepository) -> Self {
        self.repository = Some(repository);
        self
    }

    /// The profile as this process knows it (updated by exchanges and consents).
    pub fn profile(&self) -> SecureAppProfile {
        self.profile.lock().clone()
    }

    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.store
    }

    /// The application's credential the profile opened with.
    pub fn credential(&self) -> &ClientCredential {
        &self.credential
    }

    fn secret_name(&self) -> String {
        self.profile.lock().refresh_token_store.secret_name().to_owned()
    }

    /// Records a use of the refresh token in the profile (memory and repository). A failure to
    /// write the profile does not fail the exchange: the token is safe, only the health
    /// bookkeeping is older than it should be (which errs on the careful side).
    fn record(&self, change: impl Fn(&mut SecureAppProfile)) {
        let name = {
            let mut profile = self.profile.lock();
            change(&mut profile);
            profile.name.clone()
        };
        if let Some(repository) = &self.repository {
            match repository.modify(&name, &change) {
                Ok(stored) => *self.profile.lock() = stored,
                Err(e) => tracing::warn!(profile = %name, error = %e, "the profile could not be updated after a refresh-token exchange"),
            }
        }
    }

    /// See [`exchange`].
    pub async fn exchange(&self, scopes: &[String]) -> SamResult<TokenResponse> {
        let scopes: Vec<String> = scopes.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if scopes.is_empty() {
            return Err(Error::invalid_input("Scopes", "at least one scope is required, e.g. 'https://api.partnercenter.microsoft.com/user_impersonation'").into());
        }
        self.exchange_for(TokenTarget::Scopes(scopes)).await
    }

    /// [`exchange`] for any target: v2 scopes, or a v1 `resource` (as the Partner Center SAM
    /// samples redeem it at `/oauth2/token`).
    pub async fn exchange_for(&self, target: TokenTarget) -> SamResult<TokenResponse> {
        self.exchange_in(None, target).await
    }

    /// [`exchange`] in `tenant` instead of the profile's (a customer tenant the partner
    /// manages); the rotated token is stored all the same.
    pub async fn exchange_in(&self, tenant: Option<&str>, target: TokenTarget) -> SamResult<TokenResponse> {
        let name = self.secret_name();
        let _gate = self.gate.lock().await;
        let _lock = self.store.lock(&name).await?;
        let profile = self.profile();
        let current = self.store.read(&name).await.map_err(|e| e.in_profile(&profile.name, ProfileEntry::RefreshToken))?.ok_or_else(|| SamError::NoRefreshToken { profile: profile.name.clone(), store: self.store.describe() })?;
        let request = TokenRequest {
            tenant: tenant.map(str::trim).filter(|t| !t.is_empty()).map_or_else(|| profile.tenant.clone(), str::to_owned),
            client_id: profile.application_id.clone(),
            credential: self.credential.clone(),
            grant: Grant::RefreshToken(current),
            target,
        };
        let response = token::request_token(&self.http, &self.environment, &request).await?;
        if let Some(newest) = &response.refresh_token {
            self.store.write(&name, newest).await.map_err(|e| SamError::RotationNotSaved { store: self.store.describe(), reason: e.to_string(), kind: e.kind() })?;
        }
        let now = Utc::now();
        let amr = response.claims.authentication_methods.clone();
        self.record(move |p| {
            p.last_exchange_on = Some(now);
            if !amr.is_empty() {
                p.last_amr = amr.clone();
            }
        });
        Ok(response)
    }

    /// See [`consent_and_save`].
    pub async fn consent_and_save(&self, signed_in: SignedIn) -> SamResult<SecureAppProfile> {
        let profile = self.profile();
        if !signed_in.client_id.trim().eq_ignore_ascii_case(&profile.application_id) {
            return Err(Error::invalid_input(
                "ApplicationId",
                format!("the sign-in was for application {}, but the profile '{}' is for {}", signed_in.client_id, profile.name, profile.application_id),
            )
            .into());
        }
        let claims = &signed_in.response.claims;
        if let Some(tid) = &claims.tenant_id
            && uuid::Uuid::parse_str(&profile.tenant).is_ok()
            && !tid.eq_ignore_ascii_case(&profile.tenant)
        {
            return Err(Error::invalid_input("Tenant", format!("the sign-in was in tenant {tid}, but the profile '{}' is for tenant {}", profile.name, profile.tenant)).into());
        }
        if !claims.has_mfa() {
            let amr = if claims.authentication_methods.is_empty() { "none".to_owned() } else { claims.authentication_methods.join(", ") };
            return Err(SamError::MfaRequired { amr });
        }
        let Some(refresh_token) = signed_in.response.refresh_token.clone() else {
            return Err(Error::InvalidResponse {
                url: self.environment.active_directory_authority.clone(),
                reason: "the sign-in returned no refresh token; ask for the 'offline_access' scope (PartnerSecurity adds it to interactive sign-ins)".into(),
            }
            .into());
        };
        let name = profile.refresh_token_store.secret_name().to_owned();
        {
            let _gate = self.gate.lock().await;
            let _lock = self.store.lock(&name).await?;
            self.store.write(&name, &refresh_token).await?;
        }
        let now = Utc::now();
        let scopes = if signed_in.response.scopes.is_empty() { vec![signed_in.scope.clone()] } else { signed_in.response.scopes.clone() };
        let amr = claims.authentication_methods.clone();
        let upn = signed_in.response.id_token_claims.as_ref().and_then(|c| c.user_principal_name.clone()).or_else(|| claims.user_principal_name.clone());
        self.record(move |p| {
            p.consented_scopes = scopes.clone();
            p.consented_on = Some(now);
            p.consented_by = upn.clone();
            p.last_exchange_on = Some(now);
            p.last_amr = amr.clone();
        });
        Ok(self.profile())
    }

    /// Stores a refresh token obtained elsewhere (an old script's `$refreshToken`) after
    /// proving it works and carries MFA: it is redeemed once for `scopes`, and the rotated
    /// token is what gets stored. Nothing is stored when the token fails or lacks MFA.
    pub async fn import_refresh_token(&self, refresh_token: Secret, scopes: &[String]) -> SamResult<TokenResponse> {
        let profile = self.profile();
        let request = TokenRequest {
            tenant: profile.tenant.clone(),
            client_id: profile.application_id.clone(),
            credential: self.credential.clone(),
            grant: Grant::RefreshToken(refresh_token.clone()),
            target: TokenTarget::Scopes(scopes.to_vec()),
        };
        let response = token::request_token(&self.http, &self.environment, &request).await?;
        if !response.claims.has_mfa() {
            let amr = if response.claims.authentication_methods.is_empty() { "none".to_owned() } else { response.claims.authentication_methods.join(", ") };
            return Err(SamError::MfaRequired { amr });
        }
        let newest = response.refresh_token.clone().unwrap_or(refresh_token);
        let name = profile.refresh_token_store.secret_name().to_owned();
        {
            let _gate = self.gate.lock().await;
            let _lock = self.store.lock(&name).await?;
            self.store.write(&name, &newest).await?;
        }
        let now = Utc::now();
        let amr = response.claims.authentication_methods.clone();
        let upn = response.claims.user_principal_name.clone();
        let granted = response.scopes.clone();
        self.record(move |p| {
            if p.consented_scopes.is_empty() {
                p.consented_scopes = granted.clone();
            }
            if p.consented_by.is_none() {
                p.consented_by = upn.clone();
            }
            p.last_exchange_on = Some(now);
            p.last_amr = amr.clone();
        });
        Ok(response)
    }

    /// Health at `now`, including whether the store holds a refresh token.
    pub async fn health(&self, now: DateTime<Utc>) -> ProfileHealth {
        health::check(&self.profile(), self.store.as_ref(), now).await
    }
}

/// Redeems the profile's stored refresh token for `scopes` with the application's credential
/// and writes the new refresh token back to the store before returning the access token.
///
/// - No token stored: [`SamError::NoRefreshToken`].
/// - Entra ID refuses (expired after 90 days inactive, revoked, MFA now required): its error,
///   and the store is untouched.
/// - The new token cannot be written: [`SamError::RotationNotSaved`]; the access token is not
///   returned and the old refresh token, still valid, stays in the store.
pub async fn exchange(app: &SecureApp, scopes: &[String]) -> SamResult<TokenResponse> {
    app.exchange(scopes).await
}

/// Saves the refresh token of a fresh interactive sign-in (browser or device code, see
/// [`crate::signin`]) as the profile's consent. Refused, with nothing stored, when the access
/// token's `amr` lacks `mfa` (or `ngcmfa`), when the sign-in was for another application or
/// tenant, or when it returned no refresh token.
pub async fn consent_and_save(app: &SecureApp, signed_in: SignedIn) -> SamResult<SecureAppProfile> {
    app.consent_and_save(signed_in).await
}
