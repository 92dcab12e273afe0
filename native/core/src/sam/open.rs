//! From a stored profile to a ready [`SecureApp`]: resolve the environment, open the secret
//! stores the profile references, and obtain the application credential.
//!
//! What only the caller has comes in [`OpenOptions`]: the file-store passphrase (or the
//! environment variable `PARTNERSECURITY_SECRET_PASSPHRASE` for unattended runs), a certificate
//! the module loaded by thumbprint, a Key Vault token from elsewhere.

use crate::auth::token::ClientCredential;
use crate::environment::{Environment, EnvironmentRegistry};
use crate::error::Error;
use crate::http::HttpClients;
use crate::sam::error::{ProfileEntry, SamResult};
use crate::sam::file_store::{FileKey, FileStore, FileStoreOptions};
use crate::sam::key_vault_store::{KeyVaultAuth, KeyVaultStore};
use crate::sam::keyring_store::KeyringStore;
use crate::sam::profile::{FileKeyKind, ProfileCredential, ProfileRepository, SecureAppProfile, StoreRef};
use crate::sam::rotation::SecureApp;
use crate::sam::store::SecretStore;
use crate::secret::Secret;
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Passphrase of encrypted file stores with passphrase keys; when `None`, the environment
    /// variable `PARTNERSECURITY_SECRET_PASSPHRASE` is used if set.
    pub passphrase: Option<Secret>,
    /// The application's credential when the caller has it (a certificate loaded by the
    /// profile's thumbprint, or a secret given directly). Wins over the profile's reference.
    pub app_credential: Option<ClientCredential>,
    /// An access token for Key Vault to use instead of the application's client credentials.
    pub key_vault_token: Option<Secret>,
    /// Settings of encrypted file stores (Argon2 cost of new files, lock timeout).
    pub file_store: FileStoreOptions,
    /// The credential store to use for `keyring` references and file-store keys; `None` is the
    /// operating system's (refused on Linux, see [`KeyringStore::os`]).
    pub keyring: Option<KeyringStore>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("passphrase", &self.passphrase.as_ref().map(|_| "***"))
            .field("app_credential", &self.app_credential.as_ref().map(|_| "***"))
            .field("key_vault_token", &self.key_vault_token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl OpenOptions {
    fn keyring(&self) -> SamResult<KeyringStore> {
        match &self.keyring {
            Some(k) => Ok(k.clone()),
            None => KeyringStore::os(),
        }
    }

    fn passphrase(&self) -> SamResult<Secret> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        match std::env::var(crate::sam::PASSPHRASE_ENV) {
            Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
            _ => Err(Error::invalid_input(
                "Passphrase",
                "the profile's secrets are in a passphrase-protected file store; give the passphrase (or set PARTNERSECURITY_SECRET_PASSPHRASE for unattended runs)",
            )
            .into()),
        }
    }
}

/// Opens the store a reference points to. `key_vault` says how to authenticate to Key Vault
/// (required for Key Vault references).
pub fn open_store(store: &StoreRef, environment: &Environment, http: Arc<HttpClients>, options: &OpenOptions, key_vault: Option<KeyVaultAuth>) -> SamResult<Arc<dyn SecretStore>> {
    match store {
        StoreRef::File { directory, key, .. } => {
            let directory = match directory {
                Some(d) => d.clone(),
                None => FileStore::default_directory()?,
            };
            let key = match key {
                FileKeyKind::Passphrase => FileKey::Passphrase(options.passphrase()?),
                FileKeyKind::CredentialStore => FileKey::CredentialStore(options.keyring()?),
            };
            Ok(Arc::new(FileStore::with_options(directory, key, options.file_store)?))
        }
        StoreRef::Keyring { .. } => Ok(Arc::new(options.keyring()?)),
        StoreRef::KeyVault { vault_url, .. } => {
            let auth = key_vault
                .ok_or_else(|| Error::invalid_input("KeyVaultAccessToken", "a Key Vault store needs a way to sign in: the application's credential or a Key Vault access token"))?;
            Ok(Arc::new(KeyVaultStore::new(http, environment.clone(), vault_url, auth)?))
        }
    }
}

/// The application's credential for a profile.
pub async fn app_credential(profile: &SecureAppProfile, environment: &Environment, http: Arc<HttpClients>, options: &OpenOptions) -> SamResult<ClientCredential> {
    if let Some(credential) = &options.app_credential {
        if let (ProfileCredential::CertificateThumbprint { thumbprint }, ClientCredential::Certificate(certificate)) = (&profile.credential, credential)
            && !certificate.thumbprint().eq_ignore_ascii_case(thumbprint.trim())
        {
            return Err(Error::invalid_input(
                "Certificate",
                format!("the certificate's thumbprint is {}, but the profile '{}' names {}", certificate.thumbprint(), profile.name, thumbprint),
            )
            .into());
        }
        return Ok(credential.clone());
    }
    match &profile.credential {
        ProfileCredential::CertificateThumbprint { thumbprint } => Err(Error::invalid_input(
            "Certificate",
            format!("the profile '{}' signs in with the certificate {thumbprint}; load that certificate (with its private key) and pass it when opening the profile", profile.name),
        )
        .into()),
        ProfileCredential::SecretRef { store } => {
            // The application cannot sign in to Key Vault before it has its secret.
            let key_vault = options.key_vault_token.clone().map(KeyVaultAuth::Token);
            let opened = open_store(store, environment, http, options, key_vault)?;
            let secret = opened
                .read(store.secret_name())
                .await
                .map_err(|e| e.in_profile(&profile.name, ProfileEntry::ApplicationSecret))?
                .ok_or_else(|| Error::invalid_input("ApplicationSecret", format!("no application secret is stored in the {}; save it there first", store.describe())))?;
            Ok(ClientCredential::Secret(secret))
        }
    }
}

/// Opens a profile (by name, or the default one) for exchanges and consent.
pub async fn open_profile(
    repository: &ProfileRepository,
    name: Option<&str>,
    environments: &EnvironmentRegistry,
    http: Arc<HttpClients>,
    options: OpenOptions,
) -> SamResult<SecureApp> {
    let profile = repository.resolve(name)?;
    open_resolved(profile, environments, http, options).await.map(|app| app.with_repository(repository.clone()))
}

/// Opens an already loaded profile (not tied to a repository).
pub async fn open_resolved(profile: SecureAppProfile, environments: &EnvironmentRegistry, http: Arc<HttpClients>, options: OpenOptions) -> SamResult<SecureApp> {
    let environment = environments.get(&profile.environment)?;
    let credential = app_credential(&profile, &environment, http.clone(), &options).await?;
    let key_vault = match &options.key_vault_token {
        Some(token) => KeyVaultAuth::Token(token.clone()),
        None => KeyVaultAuth::Application { tenant: profile.tenant.clone(), application_id: profile.application_id.clone(), credential: credential.clone() },
    };
    let store = open_store(&profile.refresh_token_store, &environment, http.clone(), &options, Some(key_vault))?;
    Ok(SecureApp::new(profile, environment, http, credential, store))
}
