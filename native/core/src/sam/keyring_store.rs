//! The operating system's credential store, through the `keyring` crate: Windows Credential
//! Manager and the macOS Keychain, which keep secrets across reboots.
//!
//! **Linux.** The only backend compiled here is the kernel keyring (keyutils). It is not a
//! durable home for a refresh token that has to last 90 days: keys live in kernel memory and
//! are lost at reboot (the "persistent" keyring itself expires after a few days unused), and a
//! process started outside a login session (cron, systemd, a container) has no session keyring,
//! so writing fails with `NoEntry` although the kernel keyring works. [`KeyringStore::os`]
//! therefore refuses on Linux with an error that points to the encrypted file store or Key
//! Vault; [`KeyringStore::linux_kernel_keyring`] opts in explicitly (for a short-lived cache).
//! Secret Service (GNOME Keyring, KWallet) would be durable but needs D-Bus crates that are not
//! part of this build.
//!
//! Entries are `service` = `PartnerSecurity`, `user` = the secret's name in lower case.
//! Calls into the platform block, so they run on tokio's blocking pool.

use crate::sam::error::{SamError, SamResult};
use crate::sam::store::{SecretStore, validate_name};
use crate::secret::Secret;
use keyring::credential::CredentialBuilder;
use std::sync::Arc;

/// The service name of every PartnerSecurity entry in the OS credential store.
pub const KEYRING_SERVICE: &str = "PartnerSecurity";

/// Why the Linux kernel keyring is not used unless asked for.
pub const LINUX_NOT_DURABLE: &str = "The OS credential store is not a durable place for a refresh token on Linux: the kernel keyring (the only one this build supports) is lost at reboot, and processes started outside a login session (cron, systemd, containers) have no session keyring at all. Use the encrypted file store (a passphrase-protected file) or Azure Key Vault instead.";

/// The OS credential store.
#[derive(Clone)]
pub struct KeyringStore {
    service: String,
    builder: Option<Arc<CredentialBuilder>>,
    backend: &'static str,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore").field("service", &self.service).field("backend", &self.backend).finish()
    }
}

impl KeyringStore {
    /// The platform's durable credential store: Windows Credential Manager or the macOS
    /// Keychain. On Linux (and other systems) an error explains why not and what to use.
    pub fn os() -> SamResult<Self> {
        if cfg!(any(target_os = "windows", target_os = "macos")) {
            let backend = if cfg!(target_os = "windows") { "Windows Credential Manager" } else { "macOS Keychain" };
            Ok(Self { service: KEYRING_SERVICE.into(), builder: None, backend })
        } else {
            Err(SamError::CredentialStore { message: LINUX_NOT_DURABLE.into() })
        }
    }

    /// The Linux kernel keyring, knowingly: entries are lost at reboot, and writing fails
    /// outside a login session. Suitable as a cache only.
    pub fn linux_kernel_keyring() -> Self {
        Self { service: KEYRING_SERVICE.into(), builder: None, backend: "Linux kernel keyring (lost at reboot)" }
    }

    /// A store over a caller-supplied `keyring` backend (tests, or a platform store this
    /// build does not compile in).
    pub fn with_builder(service: impl Into<String>, builder: Box<CredentialBuilder>, backend: &'static str) -> Self {
        Self { service: service.into(), builder: Some(Arc::from(builder)), backend }
    }

    fn entry(&self, name: &str) -> keyring::Result<keyring::Entry> {
        let user = name.to_ascii_lowercase();
        match &self.builder {
            Some(builder) => Ok(keyring::Entry::new_with_credential(builder.build(None, &self.service, &user)?)),
            None => keyring::Entry::new(&self.service, &user),
        }
    }

    fn failure(&self, action: &str, e: keyring::Error) -> SamError {
        let detail = match e {
            keyring::Error::NoEntry if action == "save" => {
                if cfg!(target_os = "linux") {
                    format!("the kernel keyring has no session keyring for this process (it was not started from a login session). {LINUX_NOT_DURABLE}")
                } else {
                    "the credential store refused to create the entry".into()
                }
            }
            keyring::Error::NoStorageAccess(inner) => format!("the credential store is locked or not accessible ({inner})"),
            keyring::Error::PlatformFailure(inner) => format!("the credential store failed ({inner})"),
            keyring::Error::BadEncoding(_) => "the stored value is not text; it was not written by PartnerSecurity".into(),
            keyring::Error::TooLong(attr, limit) => format!("the {attr} is longer than the {limit} characters the credential store allows"),
            keyring::Error::Invalid(attr, why) => format!("the {attr} is invalid ({why})"),
            keyring::Error::Ambiguous(_) => "several entries match; remove the duplicates".into(),
            other => other.to_string(),
        };
        SamError::CredentialStore { message: format!("Could not {action} the secret in the {} (service '{}'): {detail}", self.backend, self.service) }
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(KeyringStore) -> SamResult<T> + Send + 'static) -> SamResult<T> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(me)).await?
    }
}

#[async_trait::async_trait]
impl SecretStore for KeyringStore {
    async fn read(&self, name: &str) -> SamResult<Option<Secret>> {
        validate_name(name)?;
        let name = name.to_owned();
        self.blocking(move |me| {
            let entry = me.entry(&name).map_err(|e| me.failure("read", e))?;
            match entry.get_password() {
                Ok(value) => Ok(Some(Secret::new(value))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(me.failure("read", e)),
            }
        })
        .await
    }

    async fn write(&self, name: &str, value: &Secret) -> SamResult<()> {
        validate_name(name)?;
        let name = name.to_owned();
        let value = value.clone();
        self.blocking(move |me| {
            let entry = me.entry(&name).map_err(|e| me.failure("save", e))?;
            entry.set_password(value.expose()).map_err(|e| me.failure("save", e))
        })
        .await
    }

    async fn delete(&self, name: &str) -> SamResult<bool> {
        validate_name(name)?;
        let name = name.to_owned();
        self.blocking(move |me| {
            let entry = me.entry(&name).map_err(|e| me.failure("delete", e))?;
            match entry.delete_credential() {
                Ok(()) => Ok(true),
                Err(keyring::Error::NoEntry) => Ok(false),
                Err(e) => Err(me.failure("delete", e)),
            }
        })
        .await
    }

    fn describe(&self) -> String {
        format!("{} (service '{}')", self.backend, self.service)
    }
}
