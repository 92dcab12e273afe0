//! Secure Application Model (SAM) profiles: an application (id + credential reference), the
//! tenant and cloud it signs in to, and the refresh token from a one-time, MFA-backed consent,
//! held in a secret store and rotated on every exchange.
//!
//! - [`store`]: the [`SecretStore`] trait (read/write/delete one named secret, plus an optional
//!   cross-process lock for read-modify-write cycles) and an in-memory store.
//! - [`file_store`]: encrypted files (AES-256-GCM; key from a passphrase through Argon2id, or a
//!   random key kept in the OS credential store), atomic and locked writes. Format in
//!   [`file_format`].
//! - [`keyring_store`]: the OS credential store (Windows Credential Manager, macOS Keychain).
//!   Refused by default on Linux, where the kernel keyring does not survive a reboot.
//! - [`key_vault_store`]: Azure Key Vault secrets, the store Microsoft's SAM samples use.
//! - [`profile`]: [`SecureAppProfile`] (JSON, no secrets inside) and [`ProfileRepository`].
//! - [`open`]: turns a profile plus what only the caller has (a passphrase, a certificate) into
//!   a ready [`SecureApp`].
//! - [`rotation`]: [`exchange`] (redeem the stored refresh token and write the new one back
//!   before the access token is returned) and [`consent_and_save`] (refuses sign-ins without MFA).
//! - [`manage`]: create a profile from a consent, move its secrets, remove it, exchange.
//! - [`app_credentials`]: when the application's secrets and certificates expire (Graph).
//! - [`health`]: refresh-token age against the 90-day inactivity limit, MFA, what to do.
//!
//! Errors are [`SamError`]: the core's [`crate::Error`] plus the store, profile and consent
//! failures, each with a stable [`SamError::code`] and an [`SamError::kind`] for the FFI.

pub mod app_credentials;
pub mod error;
pub mod file_format;
pub mod file_store;
pub mod health;
pub mod key_vault_store;
pub mod keyring_store;
pub mod manage;
pub mod open;
pub mod profile;
pub mod rotation;
pub mod store;

pub use error::{ProfileEntry, SamError, SamResult};
pub use file_store::{FileKey, FileStore, FileStoreOptions};
pub use health::{HealthStatus, ProfileHealth};
pub use key_vault_store::{KeyVaultAuth, KeyVaultStore};
pub use keyring_store::KeyringStore;
pub use manage::{NewProfile, Profiles, StoreChoice};
pub use open::{OpenOptions, open_profile, open_resolved, open_store};
pub use profile::{FileKeyKind, ProfileCredential, ProfileRepository, SecureAppProfile, StoreRef};
pub use rotation::{SecureApp, consent_and_save, exchange};
pub use store::{MemoryStore, SecretStore, StoreLock};

/// Environment variable naming the PartnerSecurity home directory (profiles in
/// `$PARTNERSECURITY_HOME/profiles`, encrypted secrets in `$PARTNERSECURITY_HOME/secrets`), for
/// tests and unattended runs.
pub const HOME_ENV: &str = "PARTNERSECURITY_HOME";
/// Environment variable naming the profile to use when none is given (unattended runs).
pub const PROFILE_ENV: &str = "PARTNERSECURITY_PROFILE";
/// Environment variable holding the passphrase of the encrypted file store (unattended runs;
/// an interactive caller passes it instead).
pub const PASSPHRASE_ENV: &str = "PARTNERSECURITY_SECRET_PASSPHRASE";
