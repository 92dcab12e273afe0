//! Secure Application Model profiles over FFI: the request the module sends, its conversion to
//! the core's types, and the JSON shapes of the answers. The work is in `partnersecurity_core::sam`.

use crate::reply::{Reply, status_of};
use crate::requests::application_credential_of;
use crate::service::{AuthResult, SignInStarted};
use partnersecurity_core::session::{ConnectRequest, partner_center_scope};
use partnersecurity_core::signin::SignInRequest;
use partnersecurity_core::{Error, IssuedToken, PartnerSecurity};
use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::auth::token::TokenTarget;
use partnersecurity_core::sam::app_credentials::AppCredential;
use partnersecurity_core::sam::health::ProfileHealth;
use partnersecurity_core::sam::{NewProfile, OpenOptions, ProfileCredential, Profiles, SamError, SecureAppProfile, StoreChoice, StoreRef};
use partnersecurity_core::secret::Secret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zeroize::Zeroize;

/// The reply for a Secure Application Model failure: its kind, stable code and message.
pub fn error(e: &SamError) -> Reply {
    Reply { status: status_of(e.kind()), code: e.code().into(), message: e.to_string().into(), json: String::new().into() }
}

impl From<Result<Reply, SamError>> for Reply {
    fn from(result: Result<Reply, SamError>) -> Self {
        result.unwrap_or_else(|e| error(&e))
    }
}

/// `-SecretStore`.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum SecretStoreKind {
    File,
    CredentialManager,
    KeyVault,
}

/// Every SAM call's request; each call reads the fields it needs. PascalCase like the C# record.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SamRequest {
    /// The caller's PARTNERSECURITY_HOME and PARTNERSECURITY_PROFILE (see `Profiles::new`).
    pub home: Option<String>,
    pub profile_variable: Option<String>,
    /// The profile; empty: the default one.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub passphrase: Option<String>,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub secret_store: Option<SecretStoreKind>,
    /// Key Vault name or URL (`-VaultName`).
    #[serde(default)]
    pub vault: Option<String>,
    /// Directory of the encrypted file store (default: the standard one).
    #[serde(default)]
    pub directory: Option<String>,
    #[serde(default)]
    pub application_secret: Option<String>,
    /// Importing a refresh token from elsewhere instead of a consent.
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub certificate_thumbprint: Option<String>,
    /// The certificate the module loaded by thumbprint: DER base64 and private key PEM.
    #[serde(default)]
    pub certificate_base64: Option<String>,
    #[serde(default)]
    pub private_key_pem: Option<String>,
    #[serde(default)]
    pub make_default: bool,
    #[serde(default)]
    pub clear_default: bool,
    #[serde(default)]
    pub use_device_code: bool,
    #[serde(default)]
    pub login_hint: Option<String>,
    /// Finishing a consent: the sign-in begun for it.
    #[serde(default)]
    pub sign_in_id: Option<String>,
    /// Exchanges: v2 scopes, or a v1 resource.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub resource: Option<String>,
}

impl Drop for SamRequest {
    fn drop(&mut self) {
        for secret in [&mut self.passphrase, &mut self.application_secret, &mut self.refresh_token, &mut self.private_key_pem].into_iter().flatten() {
            secret.zeroize();
        }
    }
}

fn required(value: &Option<String>, parameter: &str) -> Result<String, Error> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(Error::invalid_input(parameter, "a value is required")),
    }
}

impl SamRequest {
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref().map(str::trim).filter(|n| !n.is_empty())
    }

    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }

    fn certificate(&self) -> Result<Option<ClientCredential>, Error> {
        application_credential_of(self.certificate_base64.as_deref(), self.private_key_pem.as_deref(), None).map(|c| match c {
            ClientCredential::None => None,
            c => Some(c),
        })
    }

    /// What only the caller has: passphrase and certificate.
    pub fn open_options(&self) -> Result<OpenOptions, Error> {
        Ok(OpenOptions {
            passphrase: self.passphrase.as_deref().filter(|p| !p.is_empty()).map(Secret::new),
            app_credential: self.certificate()?,
            ..OpenOptions::default()
        })
    }

    pub fn store_choice(&self) -> Result<Option<StoreChoice>, Error> {
        Ok(match self.secret_store {
            None => None,
            Some(SecretStoreKind::File) => Some(StoreChoice::File { directory: self.directory.as_deref().filter(|d| !d.trim().is_empty()).map(Into::into) }),
            Some(SecretStoreKind::CredentialManager) => Some(StoreChoice::CredentialManager),
            Some(SecretStoreKind::KeyVault) => Some(StoreChoice::KeyVault { vault: required(&self.vault, "VaultName")? }),
        })
    }

    pub fn application_secret(&self) -> Option<Secret> {
        self.application_secret.as_deref().filter(|s| !s.is_empty()).map(Secret::new)
    }

    pub fn new_profile(&self) -> Result<NewProfile, Error> {
        Ok(NewProfile {
            name: required(&self.name, "Name")?,
            application_id: required(&self.application_id, "ApplicationId")?,
            tenant: required(&self.tenant, "Tenant")?,
            environment: self.environment.clone().filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "AzureCloud".into()),
            store: self.store_choice()?.unwrap_or(StoreChoice::File { directory: None }),
            application_secret: self.application_secret(),
            certificate_thumbprint: self.certificate_thumbprint.clone().filter(|t| !t.trim().is_empty()),
            make_default: self.make_default,
        })
    }

    /// The application credential for the consent's sign-in (a web app redeems its code with it).
    pub fn consent_credential(&self) -> Result<ClientCredential, Error> {
        Ok(match (self.certificate()?, self.application_secret()) {
            (Some(certificate), _) => certificate,
            (None, Some(secret)) => ClientCredential::Secret(secret),
            (None, None) => ClientCredential::None,
        })
    }

    pub fn target(&self) -> Result<TokenTarget, Error> {
        match self.resource.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(resource) => Ok(TokenTarget::Resource(resource.to_owned())),
            None if self.scopes.iter().any(|s| !s.trim().is_empty()) => Ok(TokenTarget::Scopes(self.scopes.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())),
            None => Err(Error::invalid_input("Scopes", "at least one scope is required, e.g. 'https://api.partnercenter.microsoft.com/user_impersonation'")),
        }
    }
}

/// A profile as `Get-PartnerSecureAppProfile` shows it. No secrets: where they are, not what.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileView {
    name: String,
    application_id: String,
    tenant: String,
    environment: String,
    /// `File`, `CredentialManager` or `KeyVault`.
    secret_store: &'static str,
    refresh_token_location: String,
    vault_url: Option<String>,
    /// `Secret` or `Certificate`.
    credential_kind: &'static str,
    application_secret_location: Option<String>,
    certificate_thumbprint: Option<String>,
    consented_scopes: Vec<String>,
    consented_on: Option<chrono::DateTime<chrono::Utc>>,
    consented_by: Option<String>,
    last_exchange_on: Option<chrono::DateTime<chrono::Utc>>,
    authentication_methods: Vec<String>,
    created_on: chrono::DateTime<chrono::Utc>,
    is_default: bool,
}

impl ProfileView {
    pub fn new(p: &SecureAppProfile, default: Option<&str>) -> Self {
        let (secret_store, vault_url) = match &p.refresh_token_store {
            StoreRef::File { .. } => ("File", None),
            StoreRef::Keyring { .. } => ("CredentialManager", None),
            StoreRef::KeyVault { vault_url, .. } => ("KeyVault", Some(vault_url.clone())),
        };
        let (credential_kind, application_secret_location, certificate_thumbprint) = match &p.credential {
            ProfileCredential::SecretRef { store } => ("Secret", Some(store.describe()), None),
            ProfileCredential::CertificateThumbprint { thumbprint } => ("Certificate", None, Some(thumbprint.clone())),
        };
        Self {
            name: p.name.clone(),
            application_id: p.application_id.clone(),
            tenant: p.tenant.clone(),
            environment: p.environment.clone(),
            secret_store,
            refresh_token_location: p.refresh_token_store.describe(),
            vault_url,
            credential_kind,
            application_secret_location,
            certificate_thumbprint,
            consented_scopes: p.consented_scopes.clone(),
            consented_on: p.consented_on,
            consented_by: p.consented_by.clone(),
            last_exchange_on: p.last_exchange_on,
            authentication_methods: p.last_amr.clone(),
            created_on: p.created_on,
            is_default: default.is_some_and(|d| d.eq_ignore_ascii_case(&p.name)),
        }
    }
}

/// `Get-PartnerSecureAppProfile` without a name: every profile, the default's name, and the
/// files that are not readable profiles.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileListView {
    pub profiles: Vec<ProfileView>,
    pub default: Option<String>,
    pub directory: String,
    pub unreadable: Vec<UnreadableProfile>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnreadableProfile {
    pub path: String,
    pub reason: String,
}

/// `Test-PartnerSecureAppProfile`: the health plus the profile.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthView {
    pub profile: ProfileView,
    pub health: ProfileHealth,
    pub application_credentials: Vec<AppCredential>,
    pub application_credentials_problem: Option<String>,
}

// The calls. Each opens what it needs from the profile directory and the stores, and keeps
// nothing afterwards.

fn profiles<'a>(core: &'a PartnerSecurity, request: &SamRequest) -> Result<Profiles<'a>, SamError> {
    let home = request.home.as_deref().filter(|h| !h.is_empty()).map(Into::into);
    Profiles::new(core.environments(), core.http_shared(), home, request.profile_variable.clone())
}

fn view(profiles: &Profiles<'_>, profile: &SecureAppProfile) -> ProfileView {
    // The default pointer is informational here; an unreadable one must not fail the call.
    let default = profiles.default_name().ok().flatten();
    ProfileView::new(profile, default.as_deref())
}

/// Checks the new profile, then begins the consent's sign-in (browser, or device code for a
/// public client) for the Partner Center delegated scope.
pub async fn begin_consent(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let new = request.new_profile()?;
    let profile = profiles.check_new(&new, &request.open_options()?)?;
    let environment = core.environments().get(&profile.environment)?;
    let sign_in = SignInRequest {
        tenant: Some(profile.tenant.clone()),
        application_id: Some(profile.application_id.clone()),
        credential: request.consent_credential()?,
        scopes: vec![partner_center_scope(&environment, false)],
        use_device_code: request.use_device_code,
        login_hint: request.login_hint.clone(),
    };
    let (id, prompt) = core.begin_sign_in(&profile.environment, sign_in).await?;
    Ok(Reply::ok(&SignInStarted::new(id, prompt)))
}

/// Waits for the consent's sign-in and saves the profile (refused without MFA).
pub async fn finish_consent(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let new = request.new_profile()?;
    let id = required(&request.sign_in_id, "SignIn")?;
    let (_, signed_in) = core.finish_sign_in(&id).await?;
    let saved = profiles.create_from_consent(&new, request.open_options()?, signed_in).await?;
    Ok(Reply::ok(&view(&profiles, &saved)))
}

/// Saves a profile from a refresh token obtained elsewhere (refused unless its tokens prove MFA).
pub async fn import(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let new = request.new_profile()?;
    let refresh_token = Secret::new(required(&request.refresh_token, "RefreshToken")?);
    let saved = profiles.create_from_refresh_token(&new, request.open_options()?, refresh_token).await?;
    Ok(Reply::ok(&view(&profiles, &saved)))
}

pub fn list(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let list = profiles.repository.list()?;
    let default = profiles.default_name().ok().flatten();
    Ok(Reply::ok(&ProfileListView {
        profiles: list.profiles.iter().map(|p| ProfileView::new(p, default.as_deref())).collect(),
        default,
        directory: profiles.repository.directory().display().to_string(),
        unreadable: list.unreadable.into_iter().map(|(path, reason)| UnreadableProfile { path: path.display().to_string(), reason }).collect(),
    }))
}

/// The named profile, or the default one (`PARTNERSECURITY_PROFILE` first); payload `null`
/// when no name was given and there is no default.
pub fn get(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    match profiles.resolve(request.name()) {
        Ok(profile) => Ok(Reply::ok(&view(&profiles, &profile))),
        Err(SamError::NoDefaultProfile) => Ok(Reply::ok(&Option::<ProfileView>::None)),
        Err(e) => Err(e),
    }
}

/// Changes where the refresh token lives, the application credential, or the default.
pub async fn set(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let name = required(&request.name, "Name")?;
    let options = request.open_options()?;
    let mut profile = profiles.repository.get(&name)?;
    let thumbprint = request.certificate_thumbprint.clone().filter(|t| !t.trim().is_empty());
    if request.application_secret.is_some() || thumbprint.is_some() {
        profile = profiles.set_credential(&profile.name, request.application_secret(), thumbprint, options.clone()).await?;
    }
    if let Some(to) = request.store_choice()? {
        profile = profiles.move_refresh_token(&profile.name, to, options).await?;
    }
    if request.make_default {
        profiles.repository.set_default(Some(&profile.name))?;
    } else if request.clear_default && profiles.repository.default_name_with(None)?.is_some_and(|d| d.eq_ignore_ascii_case(&profile.name)) {
        profiles.repository.set_default(None)?;
    }
    Ok(Reply::ok(&view(&profiles, &profile)))
}

pub async fn remove(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let name = required(&request.name, "Name")?;
    let removed = profiles.remove(&name, request.open_options()?).await?;
    Ok(Reply::ok(&ProfileView::new(&removed, None)))
}

pub async fn health(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let profile = profiles.resolve(request.name())?;
    let check = profiles.health(Some(&profile.name), request.open_options()?).await?;
    // Re-read: an exchange by another process may have moved the dates on.
    let profile = profiles.repository.get(&profile.name).unwrap_or(profile);
    Ok(Reply::ok(&HealthView {
        profile: view(&profiles, &profile),
        health: check.health,
        application_credentials: check.app_credentials,
        application_credentials_problem: check.app_credentials_problem,
    }))
}

/// One exchange through the profile. The payload has no refresh token: the rotated one is in
/// the profile's store, which is the only place it belongs.
pub async fn exchange(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let (profile, environment, mut response) = profiles.exchange(request.name(), request.target()?, request.tenant(), request.open_options()?).await?;
    response.refresh_token = None;
    let issued = IssuedToken::new(&environment, response);
    Ok(Reply::ok(&ProfileToken { profile: profile.name, token: AuthResult::from(&issued) }))
}

/// Connect-PartnerCenter on the profile: an exchange for Partner Center (rotation stored),
/// whose tokens start the session.
pub async fn connect(core: &PartnerSecurity, request: SamRequest) -> Result<Reply, SamError> {
    let profiles = profiles(core, &request)?;
    let app = profiles.open(request.name(), request.open_options()?).await?;
    let environment = app.environment().clone();
    let scope = partner_center_scope(&environment, false);
    let response = app.exchange_in(request.tenant(), TokenTarget::Scopes(vec![scope.clone()])).await?;
    let profile = app.profile();
    let tenant = request.tenant().map_or_else(|| profile.tenant.clone(), str::to_owned);
    // The session renews its tokens through the profile, so later rotations reach the store too.
    let context = core.connect(&environment.name, ConnectRequest::Profile { app: Arc::new(app), response, tenant, scope }).await?;
    Ok(Reply::ok(&ProfileContext { profile: profile.name, context }))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileToken<'a> {
    profile: String,
    token: AuthResult<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileContext {
    profile: String,
    context: partnersecurity_core::session::ContextInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sam_errors_keep_their_code_and_kind() {
        let reply = error(&SamError::MfaRequired { amr: "pwd".into() });
        assert_eq!(reply.status, crate::reply::Status::Authentication);
        assert_eq!(reply.code.as_str(), "MfaRequired");
        assert!(reply.message.as_str().contains("amr: pwd"));
        let reply = error(&SamError::NoDefaultProfile);
        assert_eq!(reply.status, crate::reply::Status::InvalidInput);
        assert_eq!(reply.code.as_str(), "NoDefaultProfile");
    }

    #[test]
    fn requests_convert_and_wipe() {
        let r: SamRequest = serde_json::from_str(r#"{"Name":"contoso","ApplicationId":"5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f","Tenant":"t","SecretStore":"KeyVault","Vault":"v","ApplicationSecret":"s"}"#).unwrap();
        let n = r.new_profile().unwrap();
        assert_eq!(n.store, StoreChoice::KeyVault { vault: "v".into() });
        assert_eq!(n.environment, "AzureCloud");
        let r: SamRequest = serde_json::from_str(r#"{"SecretStore":"KeyVault"}"#).unwrap();
        assert!(r.store_choice().unwrap_err().to_string().contains("'VaultName'"));
        let r: SamRequest = serde_json::from_str(r#"{"Resource":"https://graph.microsoft.com","Scopes":["x"]}"#).unwrap();
        assert!(matches!(r.target().unwrap(), TokenTarget::Resource(_)));
        let r = SamRequest::default();
        assert!(r.target().is_err());
    }
}
