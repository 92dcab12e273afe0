//! The life of a profile as the module drives it: create one from a fresh consent, change where
//! its secrets live or which profile is the default, remove it with its secrets, check its
//! health, and redeem it for tokens or a session.
//!
//! Everything here takes what the caller alone has (passphrase, certificate, application
//! secret) in [`OpenOptions`] / [`NewProfile`] and keeps nothing between calls: the profile
//! directory and the secret stores are the state.

use crate::auth::token::{ClientCredential, TokenResponse, TokenTarget};
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::Error;
use crate::http::HttpClients;
use crate::sam::error::{ProfileEntry, SamError, SamResult};
use crate::sam::file_store::default_directory_from;
use crate::sam::app_credentials::{self, AppCredential};
use crate::sam::health::{self, HealthStatus, ProfileHealth};
use crate::sam::open::{OpenOptions, open_resolved, open_store};
use crate::sam::profile::{FileKeyKind, ProfileCredential, ProfileRepository, SecureAppProfile, StoreRef, default_profile_directory_from};
use crate::sam::rotation::SecureApp;
use crate::secret::Secret;
use crate::signin::SignedIn;
use chrono::Utc;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a new profile keeps its refresh token (`-SecretStore`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The encrypted file store (passphrase key); `directory` defaults to the standard one.
    File { directory: Option<PathBuf> },
    /// The OS credential store (Windows Credential Manager, macOS Keychain).
    CredentialManager,
    /// An Azure Key Vault, by name (`https://{name}.vault.azure.net`) or URL.
    KeyVault { vault: String },
}

/// What `New-PartnerSecureAppProfile` knows before the consent.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub name: String,
    pub application_id: String,
    pub tenant: String,
    pub environment: String,
    pub store: StoreChoice,
    /// The application secret, saved beside the refresh token (in the file store when the
    /// refresh token goes to Key Vault: the application needs its secret to reach the vault).
    pub application_secret: Option<Secret>,
    /// Or a certificate, referenced by thumbprint (never stored).
    pub certificate_thumbprint: Option<String>,
    pub make_default: bool,
}

/// A vault name or URL to the vault URL of `environment`: a bare name becomes
/// `https://{name}.{vault host}` for Azure clouds, `{endpoint}/{name}` for an environment whose
/// Key Vault endpoint has a path (an emulator).
pub fn vault_url(environment: &Environment, vault: &str) -> SamResult<String> {
    let vault = vault.trim();
    if vault.contains("://") {
        return Ok(vault.trim_end_matches('/').to_owned());
    }
    crate::sam::store::validate_name(vault).map_err(|_| Error::invalid_input("VaultName", format!("'{vault}' is not a Key Vault name (3 to 24 letters, digits and dashes)")))?;
    let endpoint = environment.key_vault_endpoint.trim().trim_end_matches('/');
    let url = url::Url::parse(endpoint).map_err(|_| {
        Error::invalid_input("VaultName", format!("the environment '{}' has no Key Vault endpoint; register it with -KeyVaultEndpoint or give the vault's URL", environment.name))
    })?;
    Ok(match url.host_str() {
        Some(host) if url.path().trim_matches('/').is_empty() && url.port().is_none() => format!("{}://{vault}.{host}", url.scheme()),
        _ => format!("{endpoint}/{vault}"),
    })
}

impl NewProfile {
    /// The profile this describes (validated), not saved yet.
    pub fn to_profile(&self, environments: &EnvironmentRegistry, secrets_directory: &std::path::Path) -> SamResult<SecureAppProfile> {
        let environment = environments.get(&self.environment)?;
        let rt_name = SecureAppProfile::default_refresh_token_name(&self.name);
        let secret_name = SecureAppProfile::default_app_secret_name(&self.name);
        let file = |directory: Option<PathBuf>, name: String| StoreRef::File { directory: Some(directory.unwrap_or_else(|| secrets_directory.to_owned())), name, key: FileKeyKind::Passphrase };
        let (refresh_token_store, secret_store) = match &self.store {
            StoreChoice::File { directory } => (file(directory.clone(), rt_name), file(directory.clone(), secret_name)),
            StoreChoice::CredentialManager => (StoreRef::Keyring { name: rt_name }, StoreRef::Keyring { name: secret_name }),
            StoreChoice::KeyVault { vault } => (StoreRef::KeyVault { vault_url: vault_url(&environment, vault)?, secret_name: rt_name }, file(None, secret_name)),
        };
        let credential = match (&self.certificate_thumbprint, &self.application_secret) {
            (Some(thumbprint), _) => ProfileCredential::CertificateThumbprint { thumbprint: thumbprint.trim().to_owned() },
            (None, Some(_)) => ProfileCredential::SecretRef { store: secret_store },
            (None, None) => {
                return Err(Error::invalid_input("Credential", "a Secure Application Model profile needs the application's secret (-Credential) or certificate (-CertificateThumbprint)").into());
            }
        };
        // Stored under the environment's canonical name, so 'GlobalCloud' and 'AzureCloud' agree.
        SecureAppProfile::new(&self.name, &self.application_id, &self.tenant, &environment.name, credential, refresh_token_store)
    }
}

/// The stores and repository a caller works with; cheap to build per call.
pub struct Profiles<'a> {
    pub repository: ProfileRepository,
    pub environments: &'a EnvironmentRegistry,
    pub http: Arc<HttpClients>,
    /// Where new encrypted files go.
    secrets_directory: PathBuf,
    /// The value of `PARTNERSECURITY_PROFILE` as the caller sees it.
    profile_variable: Option<String>,
}

impl<'a> Profiles<'a> {
    /// `home` and `profile_variable` are the caller's `PARTNERSECURITY_HOME` and
    /// `PARTNERSECURITY_PROFILE`: a host such as .NET keeps its own copy of the environment,
    /// which this process's C runtime does not see, so the caller hands them over.
    pub fn new(environments: &'a EnvironmentRegistry, http: Arc<HttpClients>, home: Option<OsString>, profile_variable: Option<String>) -> SamResult<Self> {
        Ok(Self {
            repository: ProfileRepository::new(default_profile_directory_from(home.clone())?),
            environments,
            http,
            secrets_directory: default_directory_from(home)?,
            profile_variable,
        })
    }

    /// The named profile, or the default one.
    pub fn resolve(&self, name: Option<&str>) -> SamResult<SecureAppProfile> {
        self.repository.resolve_with(name, self.profile_variable.clone())
    }

    fn file_ref(&self, directory: Option<PathBuf>, name: String) -> StoreRef {
        StoreRef::File { directory: Some(directory.unwrap_or_else(|| self.secrets_directory.clone())), name, key: FileKeyKind::Passphrase }
    }

    /// Checks a new profile before the user is sent to sign in: valid, name free, stores
    /// reachable (a Linux credential-store refusal or a missing passphrase surfaces now, not
    /// after the consent).
    pub fn check_new(&self, new: &NewProfile, options: &OpenOptions) -> SamResult<SecureAppProfile> {
        let profile = new.to_profile(self.environments, &self.secrets_directory)?;
        match self.repository.get(&profile.name) {
            Ok(_) => return Err(SamError::ProfileExists { name: profile.name.clone(), directory: self.repository.directory().to_owned() }),
            Err(SamError::ProfileNotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let environment = self.environments.get(&profile.environment)?;
        if let ProfileCredential::SecretRef { store } = &profile.credential {
            open_store(store, &environment, self.http.clone(), options, None)?;
        }
        if !matches!(profile.refresh_token_store, StoreRef::KeyVault { .. }) {
            open_store(&profile.refresh_token_store, &environment, self.http.clone(), options, None)?;
        }
        Ok(profile)
    }

    /// Saves a profile from a finished interactive sign-in: refused, with nothing written,
    /// unless the sign-in proved MFA; then the application secret, the profile and the refresh
    /// token are stored (the profile and secret are removed again if the token cannot be).
    pub async fn create_from_consent(&self, new: &NewProfile, options: OpenOptions, signed_in: SignedIn) -> SamResult<SecureAppProfile> {
        let profile = self.check_new(new, &options)?;
        let claims = &signed_in.response.claims;
        if !claims.has_mfa() {
            let amr = if claims.authentication_methods.is_empty() { "none".to_owned() } else { claims.authentication_methods.join(", ") };
            return Err(SamError::MfaRequired { amr });
        }
        self.create_with(new, &profile, options, |app| async move { app.consent_and_save(signed_in).await }).await
    }

    /// Saves a profile from a refresh token obtained elsewhere (an old script's
    /// `$refreshToken`): it is redeemed once for Partner Center and kept only if the token it
    /// yields proves MFA; the rotated token is what gets stored.
    pub async fn create_from_refresh_token(&self, new: &NewProfile, options: OpenOptions, refresh_token: Secret) -> SamResult<SecureAppProfile> {
        let profile = self.check_new(new, &options)?;
        let environment = self.environments.get(&profile.environment)?;
        let scope = crate::session::partner_center_scope(&environment, false);
        self.create_with(new, &profile, options, |app| async move {
            app.import_refresh_token(refresh_token, &[scope]).await?;
            Ok(app.profile())
        })
        .await
    }

    /// Writes the application secret and the profile, runs `save` (which stores the refresh
    /// token), and removes both again when it fails.
    async fn create_with<F, Fut>(&self, new: &NewProfile, profile: &SecureAppProfile, options: OpenOptions, save: F) -> SamResult<SecureAppProfile>
    where
        F: FnOnce(SecureApp) -> Fut,
        Fut: std::future::Future<Output = SamResult<SecureAppProfile>>,
    {
        let environment = self.environments.get(&profile.environment)?;
        let secret_written = match (&profile.credential, &new.application_secret) {
            (ProfileCredential::SecretRef { store }, Some(secret)) => {
                let opened = open_store(store, &environment, self.http.clone(), &options, None)?;
                opened.write(store.secret_name(), secret).await?;
                Some((opened, store.secret_name().to_owned()))
            }
            _ => None,
        };
        let outcome = async {
            self.repository.create(profile)?;
            let mut options = options.clone();
            if let Some(secret) = &new.application_secret {
                options.app_credential = Some(ClientCredential::Secret(secret.clone()));
            }
            let app = open_resolved(profile.clone(), self.environments, self.http.clone(), options).await?.with_repository(self.repository.clone());
            let saved = save(app).await?;
            if new.make_default {
                self.repository.set_default(Some(&saved.name))?;
            }
            Ok::<_, SamError>(saved)
        }
        .await;
        if outcome.is_err() {
            // Leave nothing half-made behind; the error that matters is the one returned.
            if let Some((store, name)) = secret_written {
                let _ = store.delete(&name).await;
            }
            let _ = self.repository.remove(&profile.name);
        }
        outcome
    }

    /// Opens a profile (named, or the default) for exchanges.
    pub async fn open(&self, name: Option<&str>, options: OpenOptions) -> SamResult<SecureApp> {
        let profile = self.resolve(name)?;
        Ok(open_resolved(profile, self.environments, self.http.clone(), options).await?.with_repository(self.repository.clone()))
    }

    /// The default profile's name (`PARTNERSECURITY_PROFILE` first), if it exists.
    pub fn default_name(&self) -> SamResult<Option<String>> {
        self.repository.default_name_with(self.profile_variable.clone())
    }

    /// Health of a profile: from the profile alone, plus whether its store holds a refresh
    /// token when the store can be opened with `options`, plus when the application's
    /// credential expires where Graph can tell.
    pub async fn health(&self, name: Option<&str>, options: OpenOptions) -> SamResult<ProfileCheck> {
        let profile = self.resolve(name)?;
        let now = Utc::now();
        let app = match open_resolved(profile.clone(), self.environments, self.http.clone(), options).await {
            Ok(app) => app,
            Err(e) => return Ok(ProfileCheck { health: health::assess(&profile, now, None, Some(e.to_string())), app_credentials: Vec::new(), app_credentials_problem: Some(e.to_string()) }),
        };
        let mut health = app.health(now).await;
        let (app_credentials, app_credentials_problem) =
            match app_credentials::read(&self.http, app.environment(), &profile.tenant, &profile.application_id, app.credential(), now).await {
                Ok(found) => (found, None),
                Err(e) => (Vec::new(), Some(format!("Microsoft Graph could not tell when the application's credentials expire: {e}"))),
            };
        if let Some((expires, days)) = credential_in_use(app.credential(), &app_credentials) {
            let date = expires.format("%Y-%m-%d");
            let what = if matches!(app.credential(), ClientCredential::Certificate(_)) { "certificate" } else { "secret" };
            if days < 0 {
                health.status = HealthStatus::Expired;
                health.advice = format!("The application's {what} expired on {date}; sign-ins fail with AADSTS7000222. Add a new one to the application in Entra ID and run Set-PartnerSecureAppProfile -Credential (or -CertificateThumbprint).");
            } else if days < CREDENTIAL_WARNING_DAYS && health.status != HealthStatus::Expired {
                health.status = HealthStatus::Warning;
                health.advice = format!("{} The application's {what} expires on {date} ({days} days left): add a new one in Entra ID and run Set-PartnerSecureAppProfile -Credential (or -CertificateThumbprint) before then.", health.advice);
            }
        }
        Ok(ProfileCheck { health, app_credentials, app_credentials_problem })
    }

    /// Removes a profile and the secrets it references. Secrets that cannot be reached (a
    /// vault that refuses, a missing passphrase) are reported, and the profile is kept, so
    /// nothing is left orphaned silently.
    pub async fn remove(&self, name: &str, options: OpenOptions) -> SamResult<SecureAppProfile> {
        let profile = self.repository.get(name)?;
        let environment = self.environments.get(&profile.environment)?;
        let options = deletion_options(options);
        let mut key_vault = None;
        if let ProfileCredential::SecretRef { store } = &profile.credential {
            let opened = open_store(store, &environment, self.http.clone(), &options, None)?;
            if matches!(profile.refresh_token_store, StoreRef::KeyVault { .. }) {
                // The application reaches its vault with its secret: read it before deleting it.
                key_vault = opened.read(store.secret_name()).await?.map(|secret| crate::sam::KeyVaultAuth::Application {
                    tenant: profile.tenant.clone(),
                    application_id: profile.application_id.clone(),
                    credential: ClientCredential::Secret(secret),
                });
            }
        }
        if key_vault.is_none() {
            key_vault = options.app_credential.clone().map(|credential| crate::sam::KeyVaultAuth::Application {
                tenant: profile.tenant.clone(),
                application_id: profile.application_id.clone(),
                credential,
            });
        }
        let tokens = open_store(&profile.refresh_token_store, &environment, self.http.clone(), &options, key_vault)?;
        tokens.delete(profile.refresh_token_store.secret_name()).await?;
        if let ProfileCredential::SecretRef { store } = &profile.credential {
            open_store(store, &environment, self.http.clone(), &options, None)?.delete(store.secret_name()).await?;
        }
        self.repository.remove(&profile.name)?;
        Ok(profile)
    }

    /// Moves a profile's refresh token to another store (`Set-… -SecretStore`): read from the
    /// old store, written to the new one, the profile updated, then the old copy deleted.
    pub async fn move_refresh_token(&self, name: &str, to: StoreChoice, options: OpenOptions) -> SamResult<SecureAppProfile> {
        let app = self.open(Some(name), options.clone()).await?;
        let profile = app.profile();
        let environment = app.environment().clone();
        let target = match to {
            StoreChoice::File { directory } => self.file_ref(directory, SecureAppProfile::default_refresh_token_name(&profile.name)),
            StoreChoice::CredentialManager => StoreRef::Keyring { name: SecureAppProfile::default_refresh_token_name(&profile.name) },
            StoreChoice::KeyVault { vault } => {
                StoreRef::KeyVault { vault_url: vault_url(&environment, &vault)?, secret_name: SecureAppProfile::default_refresh_token_name(&profile.name) }
            }
        };
        if target == profile.refresh_token_store {
            return Ok(profile);
        }
        let name_in_store = profile.refresh_token_store.secret_name().to_owned();
        let token = app.store().read(&name_in_store).await.map_err(|e| e.in_profile(&profile.name, ProfileEntry::RefreshToken))?.ok_or_else(|| SamError::NoRefreshToken { profile: profile.name.clone(), store: app.store().describe() })?;
        let key_vault = Some(crate::sam::KeyVaultAuth::Application { tenant: profile.tenant.clone(), application_id: profile.application_id.clone(), credential: app.credential().clone() });
        let new_store = open_store(&target, &environment, self.http.clone(), &options, key_vault)?;
        new_store.write(target.secret_name(), &token).await?;
        let updated = self.repository.modify(&profile.name, |p| p.refresh_token_store = target.clone())?;
        // The copy in the old store is now stale; failing to delete it loses nothing.
        if let Err(e) = app.store().delete(&name_in_store).await {
            tracing::warn!(profile = %profile.name, error = %e, "the refresh token's old copy could not be deleted");
        }
        Ok(updated)
    }

    /// Replaces the application credential: a new secret (written to the profile's secret
    /// store) or a certificate thumbprint.
    pub async fn set_credential(&self, name: &str, secret: Option<Secret>, thumbprint: Option<String>, options: OpenOptions) -> SamResult<SecureAppProfile> {
        let profile = self.repository.get(name)?;
        let environment = self.environments.get(&profile.environment)?;
        let credential = match (thumbprint, secret) {
            (Some(t), _) => ProfileCredential::CertificateThumbprint { thumbprint: t.trim().to_owned() },
            (None, Some(secret)) => {
                let store = match &profile.credential {
                    ProfileCredential::SecretRef { store } => store.clone(),
                    ProfileCredential::CertificateThumbprint { .. } => self.file_ref(None, SecureAppProfile::default_app_secret_name(&profile.name)),
                };
                open_store(&store, &environment, self.http.clone(), &options, None)?.write(store.secret_name(), &secret).await?;
                ProfileCredential::SecretRef { store }
            }
            (None, None) => return Ok(profile),
        };
        self.repository.modify(name, |p| p.credential = credential.clone())
    }

    /// One exchange through a profile (`New-PartnerAccessToken` on SAM): the rotated refresh
    /// token is stored before the access token is returned. `tenant` overrides the profile's
    /// for this exchange (a customer tenant).
    pub async fn exchange(&self, name: Option<&str>, target: TokenTarget, tenant: Option<&str>, options: OpenOptions) -> SamResult<(SecureAppProfile, Environment, TokenResponse)> {
        let app = self.open(name, options).await?;
        let response = app.exchange_in(tenant, target).await?;
        Ok((app.profile(), app.environment().clone(), response))
    }
}

/// Fewer days than this before the application's credential expires is a warning.
pub const CREDENTIAL_WARNING_DAYS: i64 = 30;

/// A profile's health and what Graph says about its application's credentials.
#[derive(Debug, Clone)]
pub struct ProfileCheck {
    pub health: ProfileHealth,
    pub app_credentials: Vec<AppCredential>,
    /// Why the application's credentials are not known (no permission, no network, ...).
    pub app_credentials_problem: Option<String>,
}

/// The expiry of the credential the profile signs in with: the secret whose hint (its first
/// characters) matches, or for a certificate the latest-expiring certificate; `None` when
/// Graph did not say.
fn credential_in_use(credential: &ClientCredential, found: &[AppCredential]) -> Option<(chrono::DateTime<Utc>, i64)> {
    let candidates = found.iter().filter(|c| match credential {
        ClientCredential::Secret(secret) => c.kind == "Secret" && c.hint.as_deref().is_some_and(|h| !h.is_empty() && secret.expose().starts_with(h)),
        ClientCredential::Certificate(_) => c.kind == "Certificate",
        ClientCredential::None => false,
    });
    candidates.filter_map(|c| Some((c.expires_on?, c.days_left?))).max_by_key(|(e, _)| *e)
}

/// Deleting an encrypted file needs no key; a placeholder passphrase lets the store be opened
/// when the caller gave none (it is never used to decrypt).
fn deletion_options(mut options: OpenOptions) -> OpenOptions {
    if options.passphrase.is_none() && std::env::var(crate::sam::PASSPHRASE_ENV).map(|p| p.is_empty()).unwrap_or(true) {
        options.passphrase = Some(Secret::new("not-used-to-delete"));
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(key_vault: &str) -> Environment {
        let registry = EnvironmentRegistry::default();
        Environment { key_vault_endpoint: key_vault.into(), ..registry.get("AzureCloud").unwrap() }
    }

    #[test]
    fn vault_names_become_urls_of_the_environment() {
        assert_eq!(vault_url(&environment("https://vault.azure.net"), "contoso-sam").unwrap(), "https://contoso-sam.vault.azure.net");
        assert_eq!(vault_url(&environment("https://127.0.0.1:8443/vault"), "contoso-sam").unwrap(), "https://127.0.0.1:8443/vault/contoso-sam");
        assert_eq!(vault_url(&environment("https://vault.azure.net"), "https://x.vault.azure.net/").unwrap(), "https://x.vault.azure.net");
        assert!(vault_url(&environment("https://vault.azure.net"), "bad name").is_err());
        assert!(vault_url(&environment(""), "contoso").is_err());
    }

    #[test]
    fn key_vault_profiles_keep_the_application_secret_in_the_file_store() {
        let registry = EnvironmentRegistry::default();
        let new = NewProfile {
            name: "contoso".into(),
            application_id: "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f".into(),
            tenant: "6b3f2c1a-9d4e-4c7b-8a21-5e0f7d9c3b10".into(),
            environment: "GlobalCloud".into(),
            store: StoreChoice::KeyVault { vault: "contoso-sam".into() },
            application_secret: Some(Secret::new("s")),
            certificate_thumbprint: None,
            make_default: false,
        };
        let profile = new.to_profile(&registry, std::path::Path::new("/s")).unwrap();
        assert_eq!(profile.environment, "AzureCloud");
        assert!(matches!(profile.refresh_token_store, StoreRef::KeyVault { ref vault_url, .. } if vault_url == "https://contoso-sam.vault.azure.net"));
        assert!(matches!(profile.credential, ProfileCredential::SecretRef { store: StoreRef::File { directory: Some(ref d), .. } } if d == std::path::Path::new("/s")));
        let none = NewProfile { application_secret: None, ..new };
        assert!(none.to_profile(&registry, std::path::Path::new("/s")).is_err());
    }
}
