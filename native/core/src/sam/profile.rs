//! Secure Application Model profiles: which application signs in, where, with which
//! credential, and where its refresh token is kept. A profile is a JSON file without secrets
//! (the application secret and the refresh token live only in a secret store; the profile
//! holds references to them), one per profile in a directory: by default
//! `dirs::config_dir()/PartnerSecurity/profiles/<name>.json`, or
//! `$PARTNERSECURITY_HOME/profiles` for tests and unattended runs.
//!
//! The default profile is named by the environment variable `PARTNERSECURITY_PROFILE` (for
//! unattended runs) or else by the file `default` in the profile directory.

use crate::auth::token;
use crate::error::Error;
use crate::sam::error::{SamError, SamResult};
use crate::sam::store::validate_name;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The profile JSON's schema version.
pub const SCHEMA_VERSION: u32 = 1;
/// Longest profile name.
pub const MAX_PROFILE_NAME: usize = 64;

/// How an encrypted file store gets its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum FileKeyKind {
    /// A passphrase (given when the profile is opened, or `PARTNERSECURITY_SECRET_PASSPHRASE`).
    #[default]
    Passphrase,
    /// A random key in the OS credential store (Windows, macOS).
    CredentialStore,
}

/// Where one secret is kept. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum StoreRef {
    /// The encrypted file store: `directory` (default: the standard secrets directory) and
    /// the secret's name there.
    File {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        directory: Option<PathBuf>,
        name: String,
        #[serde(default)]
        key: FileKeyKind,
    },
    /// The OS credential store (service `PartnerSecurity`).
    Keyring { name: String },
    /// An Azure Key Vault secret.
    KeyVault { vault_url: String, secret_name: String },
}

impl StoreRef {
    /// The name of the secret in its store.
    pub fn secret_name(&self) -> &str {
        match self {
            StoreRef::File { name, .. } | StoreRef::Keyring { name } => name,
            StoreRef::KeyVault { secret_name, .. } => secret_name,
        }
    }

    /// A short description for messages and `Get-…` output.
    pub fn describe(&self) -> String {
        match self {
            StoreRef::File { directory: Some(d), name, .. } => format!("encrypted file '{name}' in {}", d.display()),
            StoreRef::File { directory: None, name, .. } => format!("encrypted file '{name}' in the default secrets directory"),
            StoreRef::Keyring { name } => format!("OS credential store entry '{name}'"),
            StoreRef::KeyVault { vault_url, secret_name } => format!("Key Vault secret '{secret_name}' in {vault_url}"),
        }
    }

    fn validate(&self, parameter: &str) -> Result<(), Error> {
        validate_name(self.secret_name()).map_err(|e| match e {
            Error::InvalidInput { reason, .. } => Error::invalid_input(parameter, reason),
            other => other,
        })?;
        if let StoreRef::KeyVault { vault_url, .. } = self {
            let url = url::Url::parse(vault_url.trim()).map_err(|e| Error::invalid_input(parameter, format!("the vault URL '{vault_url}' is not an absolute URL ({e})")))?;
            crate::http::require_secure_endpoint(&url).map_err(|_| Error::invalid_input(parameter, format!("the vault URL '{vault_url}' must use https")))?;
        }
        Ok(())
    }
}

/// The application's credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ProfileCredential {
    /// The application secret, kept in a secret store.
    SecretRef { store: StoreRef },
    /// A certificate, found by its SHA-1 thumbprint (hex) by the caller (the module loads it
    /// from the certificate store) and handed over when the profile is opened.
    CertificateThumbprint { thumbprint: String },
}

/// A Secure Application Model profile. Serialised as camelCase JSON; contains no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecureAppProfile {
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    pub name: String,
    pub application_id: String,
    /// The partner tenant: its id (GUID) or a verified domain.
    pub tenant: String,
    /// The environment's name (`AzureCloud`, or a custom one such as the emulator).
    pub environment: String,
    pub credential: ProfileCredential,
    pub refresh_token_store: StoreRef,
    /// Scopes granted at consent (from the token answer).
    #[serde(default)]
    pub consented_scopes: Vec<String>,
    pub created_on: DateTime<Utc>,
    /// When the consent's refresh token was stored.
    #[serde(default)]
    pub consented_on: Option<DateTime<Utc>>,
    /// Who consented (UPN), for display.
    #[serde(default)]
    pub consented_by: Option<String>,
    /// When a refresh token was last redeemed (or stored at consent): the 90-day inactivity
    /// limit counts from here.
    #[serde(default)]
    pub last_exchange_on: Option<DateTime<Utc>>,
    /// `amr` of the last access token minted from the refresh token.
    #[serde(default)]
    pub last_amr: Vec<String>,
}

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// Windows device names, which cannot be file names anywhere a profile might be copied.
const RESERVED: &[&str] =
    &["con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9"];

/// A profile name: 1–64 letters, digits and dashes, starting with a letter or digit (so the
/// default secret names `<name>-refresh-token` are valid Key Vault names too).
pub fn validate_profile_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= MAX_PROFILE_NAME
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !RESERVED.contains(&name.to_ascii_lowercase().as_str());
    if ok {
        Ok(())
    } else {
        let shown: String = name.chars().take(40).collect();
        Err(Error::invalid_input("Name", format!("'{shown}' is not a valid profile name: use 1 to 64 letters, digits and dashes, starting with a letter or digit")))
    }
}

impl SecureAppProfile {
    /// A new profile (created now, not consented yet), validated.
    pub fn new(name: &str, application_id: &str, tenant: &str, environment: &str, credential: ProfileCredential, refresh_token_store: StoreRef) -> SamResult<Self> {
        let profile = Self {
            schema_version: SCHEMA_VERSION,
            name: name.trim().to_owned(),
            application_id: application_id.trim().to_owned(),
            tenant: tenant.trim().to_owned(),
            environment: environment.trim().to_owned(),
            credential,
            refresh_token_store,
            consented_scopes: Vec::new(),
            created_on: Utc::now(),
            consented_on: None,
            consented_by: None,
            last_exchange_on: None,
            last_amr: Vec::new(),
        };
        profile.validate()?;
        Ok(profile)
    }

    /// The default secret names of a profile.
    pub fn default_refresh_token_name(profile: &str) -> String {
        format!("{profile}-refresh-token")
    }

    pub fn default_app_secret_name(profile: &str) -> String {
        format!("{profile}-app-secret")
    }

    pub fn validate(&self) -> SamResult<()> {
        validate_profile_name(&self.name)?;
        if self.schema_version != SCHEMA_VERSION {
            return Err(Error::invalid_input("Profile", format!("schema version {} is not supported (this version reads {SCHEMA_VERSION})", self.schema_version)).into());
        }
        if uuid::Uuid::parse_str(&self.application_id).is_err() {
            return Err(Error::invalid_input("ApplicationId", format!("'{}' is not an application (client) id (a GUID)", self.application_id)).into());
        }
        token::validate_tenant(&self.tenant)?;
        if ["common", "organizations", "consumers"].iter().any(|a| a.eq_ignore_ascii_case(&self.tenant)) {
            return Err(Error::invalid_input("Tenant", "a Secure Application Model profile needs the partner tenant's id or domain, not 'common' or 'organizations'").into());
        }
        if self.environment.is_empty() {
            return Err(Error::invalid_input("Environment", "it is empty").into());
        }
        match &self.credential {
            ProfileCredential::SecretRef { store } => {
                store.validate("ApplicationSecretStore")?;
                if store == &self.refresh_token_store {
                    return Err(Error::invalid_input("ApplicationSecretStore", "the application secret and the refresh token cannot be the same secret").into());
                }
            }
            ProfileCredential::CertificateThumbprint { thumbprint } => {
                let t = thumbprint.trim();
                if t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::invalid_input("CertificateThumbprint", "use the certificate's SHA-1 thumbprint: 40 hexadecimal characters").into());
                }
            }
        }
        self.refresh_token_store.validate("RefreshTokenStore")?;
        Ok(())
    }
}

/// Profiles found in a directory, and the files that could not be read.
#[derive(Debug, Default)]
pub struct ProfileList {
    pub profiles: Vec<SecureAppProfile>,
    /// (file, why) for each `*.json` that is not a readable profile.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The profile directory.
#[derive(Debug, Clone)]
pub struct ProfileRepository {
    directory: PathBuf,
}

/// `$PARTNERSECURITY_HOME/profiles` when `home` is set, else the platform's configuration
/// directory plus `PartnerSecurity/profiles`.
pub fn default_profile_directory_from(home: Option<OsString>) -> SamResult<PathBuf> {
    if let Some(home) = home.filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home).join("profiles"));
    }
    dirs::config_dir()
        .map(|d| d.join("PartnerSecurity").join("profiles"))
        .ok_or_else(|| Error::invalid_input("ProfileDirectory", "this system has no configuration directory; set PARTNERSECURITY_HOME").into())
}

const DEFAULT_POINTER: &str = "default";
const LOCK_FILE: &str = ".profiles.lock";

impl ProfileRepository {
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self { directory: directory.into() }
    }

    /// The repository at the default location (`PARTNERSECURITY_HOME` honoured).
    pub fn default_location() -> SamResult<Self> {
        Ok(Self::new(default_profile_directory_from(std::env::var_os(crate::sam::HOME_ENV))?))
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn path_of(&self, name: &str) -> SamResult<PathBuf> {
        validate_profile_name(name)?;
        Ok(self.directory.join(format!("{}.json", name.to_ascii_lowercase())))
    }

    fn not_found(&self, name: &str) -> SamError {
        SamError::ProfileNotFound { name: name.to_owned(), directory: self.directory.clone() }
    }

    /// Runs `f` under the repository's exclusive lock (read-modify-write of profiles).
    fn locked<T>(&self, f: impl FnOnce() -> SamResult<T>) -> SamResult<T> {
        create_private_dir(&self.directory)?;
        let path = self.directory.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| SamError::io("open the lock file", &path, &e))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
                Ok(true) => break,
                Ok(false) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Ok(false) => return Err(SamError::LockTimeout { store: format!("profile directory {}", self.directory.display()), lock: path, seconds: 30 }),
                Err(e) => return Err(SamError::io("lock", &path, &e)),
            }
        }
        let result = f();
        drop(file);
        result
    }

    fn read_file(&self, path: &Path, name: &str) -> SamResult<SecureAppProfile> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(self.not_found(name)),
            Err(e) => return Err(SamError::io("read", path, &e)),
        };
        let profile: SecureAppProfile =
            serde_json::from_str(&text).map_err(|e| SamError::ProfileCorrupt { path: path.to_owned(), reason: format!("it is not a profile ({e})") })?;
        profile.validate().map_err(|e| SamError::ProfileCorrupt { path: path.to_owned(), reason: e.to_string() })?;
        Ok(profile)
    }

    fn write_file(&self, profile: &SecureAppProfile) -> SamResult<()> {
        let path = self.path_of(&profile.name)?;
        let mut text = serde_json::to_string_pretty(profile).map_err(|e| Error::Internal(format!("the profile could not be serialised ({e})")))?;
        text.push('\n');
        write_atomically(&path, text.as_bytes())
    }

    /// Adds a new profile; fails when one of that name (case-insensitively) exists.
    pub fn create(&self, profile: &SecureAppProfile) -> SamResult<()> {
        profile.validate()?;
        self.locked(|| {
            if self.path_of(&profile.name)?.exists() {
                return Err(SamError::ProfileExists { name: profile.name.clone(), directory: self.directory.clone() });
            }
            self.write_file(profile)
        })
    }

    pub fn get(&self, name: &str) -> SamResult<SecureAppProfile> {
        let path = self.path_of(name)?;
        self.read_file(&path, name)
    }

    /// Every profile, sorted by name, plus the files that are not readable profiles.
    pub fn list(&self) -> SamResult<ProfileList> {
        let mut list = ProfileList::default();
        let entries = match std::fs::read_dir(&self.directory) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(list),
            Err(e) => return Err(SamError::io("list", &self.directory, &e)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            match self.read_file(&path, &stem) {
                Ok(p) if p.name.eq_ignore_ascii_case(&stem) => list.profiles.push(p),
                Ok(p) => list.unreadable.push((path, format!("it holds the profile '{}', which does not match its file name", p.name))),
                Err(e) => list.unreadable.push((path, e.to_string())),
            }
        }
        list.profiles.sort_by_key(|p| p.name.to_ascii_lowercase());
        Ok(list)
    }

    /// Replaces an existing profile.
    pub fn update(&self, profile: &SecureAppProfile) -> SamResult<()> {
        profile.validate()?;
        self.locked(|| {
            if !self.path_of(&profile.name)?.exists() {
                return Err(self.not_found(&profile.name));
            }
            self.write_file(profile)
        })
    }

    /// Reads, changes and writes a profile under the repository lock (no lost updates between
    /// processes). Returns the stored result.
    pub fn modify(&self, name: &str, change: impl FnOnce(&mut SecureAppProfile)) -> SamResult<SecureAppProfile> {
        self.locked(|| {
            let mut profile = self.get(name)?;
            let original_name = profile.name.clone();
            change(&mut profile);
            profile.name = original_name;
            profile.validate()?;
            self.write_file(&profile)?;
            Ok(profile)
        })
    }

    /// Removes a profile (not its secrets; the caller deletes those from their stores).
    /// Clears the default pointer when it named this profile. `false` when there was none.
    pub fn remove(&self, name: &str) -> SamResult<bool> {
        let path = self.path_of(name)?;
        self.locked(|| {
            let removed = match std::fs::remove_file(&path) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(SamError::io("delete", &path, &e)),
            };
            if self.pointer()?.is_some_and(|d| d.eq_ignore_ascii_case(name)) {
                let pointer = self.directory.join(DEFAULT_POINTER);
                std::fs::remove_file(&pointer).map_err(|e| SamError::io("delete", &pointer, &e))?;
            }
            Ok(removed)
        })
    }

    fn pointer(&self) -> SamResult<Option<String>> {
        let path = self.directory.join(DEFAULT_POINTER);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SamError::io("read", &path, &e)),
        }
    }

    /// The default profile's name: `env_value` (the value of `PARTNERSECURITY_PROFILE`) when
    /// set, else the `default` file.
    pub fn default_name_with(&self, env_value: Option<String>) -> SamResult<Option<String>> {
        if let Some(name) = env_value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            validate_profile_name(&name)?;
            return Ok(Some(name));
        }
        self.pointer()
    }

    /// The default profile's name, honouring `PARTNERSECURITY_PROFILE`.
    pub fn default_name(&self) -> SamResult<Option<String>> {
        self.default_name_with(std::env::var(crate::sam::PROFILE_ENV).ok())
    }

    /// Makes `name` the default (it must exist), or clears the default with `None`.
    pub fn set_default(&self, name: Option<&str>) -> SamResult<()> {
        let pointer = self.directory.join(DEFAULT_POINTER);
        self.locked(|| match name {
            Some(name) => {
                let profile = self.get(name)?;
                write_atomically(&pointer, format!("{}\n", profile.name).as_bytes())
            }
            None => match std::fs::remove_file(&pointer) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(SamError::io("delete", &pointer, &e)),
            },
        })
    }

    /// The named profile, or the default one (`env_value` as in [`Self::default_name_with`]).
    pub fn resolve_with(&self, name: Option<&str>, env_value: Option<String>) -> SamResult<SecureAppProfile> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => self.get(n),
            None => {
                let name = self.default_name_with(env_value)?.ok_or(SamError::NoDefaultProfile)?;
                self.get(&name)
            }
        }
    }

    /// The named profile, or the default one.
    pub fn resolve(&self, name: Option<&str>) -> SamResult<SecureAppProfile> {
        self.resolve_with(name, std::env::var(crate::sam::PROFILE_ENV).ok())
    }
}

fn create_private_dir(dir: &Path) -> SamResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| SamError::io("create the directory", dir, &e))
}

fn write_atomically(target: &Path, bytes: &[u8]) -> SamResult<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let mut temp = tempfile::Builder::new().prefix(".tmp-").suffix(".partial").tempfile_in(dir).map_err(|e| SamError::io("create a temporary file in", dir, &e))?;
    temp.write_all(bytes).map_err(|e| SamError::io("write", temp.path(), &e))?;
    temp.as_file().sync_all().map_err(|e| SamError::io("flush", temp.path(), &e))?;
    temp.persist(target).map_err(|e| SamError::io("replace", target, &e.error))?;
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> SecureAppProfile {
        SecureAppProfile::new(
            name,
            "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f",
            "6b3f2c1a-9d4e-4c7b-8a21-5e0f7d9c3b10",
            "AzureCloud",
            ProfileCredential::SecretRef { store: StoreRef::File { directory: None, name: SecureAppProfile::default_app_secret_name(name), key: FileKeyKind::Passphrase } },
            StoreRef::KeyVault { vault_url: "https://contoso.vault.azure.net".into(), secret_name: SecureAppProfile::default_refresh_token_name(name) },
        )
        .unwrap()
    }

    #[test]
    fn names_are_validated() {
        for ok in ["contoso", "Contoso-CSP-1", "a", &"a".repeat(64)] {
            assert!(validate_profile_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a_b", "a.b", "../x", "a b", "CON", "nul", &"a".repeat(65)] {
            assert!(validate_profile_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_is_camel_case_and_round_trips() {
        let p = profile("contoso");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["applicationId"], "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f");
        assert_eq!(json["credential"]["kind"], "secretRef");
        assert_eq!(json["credential"]["store"]["kind"], "file");
        assert_eq!(json["credential"]["store"]["key"], "passphrase");
        assert_eq!(json["refreshTokenStore"]["kind"], "keyVault");
        assert_eq!(json["refreshTokenStore"]["vaultUrl"], "https://contoso.vault.azure.net");
        assert_eq!(json["refreshTokenStore"]["secretName"], "contoso-refresh-token");
        assert_eq!(json["schemaVersion"], 1);
        let back: SecureAppProfile = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn profiles_are_validated() {
        let mut p = profile("x");
        p.tenant = "organizations".into();
        assert!(p.validate().is_err());
        let mut p = profile("x");
        p.application_id = "not-a-guid".into();
        assert!(p.validate().is_err());
        let mut p = profile("x");
        p.credential = ProfileCredential::CertificateThumbprint { thumbprint: "abc".into() };
        assert!(p.validate().is_err());
        p.credential = ProfileCredential::CertificateThumbprint { thumbprint: "a".repeat(40) };
        assert!(p.validate().is_ok());
        let mut p = profile("x");
        p.credential = ProfileCredential::SecretRef { store: p.refresh_token_store.clone() };
        assert!(p.validate().is_err(), "app secret and refresh token in one secret");
        let mut p = profile("x");
        p.refresh_token_store = StoreRef::KeyVault { vault_url: "http://contoso.vault.azure.net".into(), secret_name: "a".into() };
        assert!(p.validate().is_err());
    }

    #[test]
    fn default_directory_honours_partnersecurity_home() {
        assert_eq!(default_profile_directory_from(Some("/h".into())).unwrap(), PathBuf::from("/h/profiles"));
    }
}
