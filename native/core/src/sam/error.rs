//! Errors of the Secure Application Model module: every core error, plus the secret-store,
//! profile and consent failures. Messages say what happened and what to do; none contains a
//! secret (paths, names, identities and server error texts only, the latter redacted).

use crate::error::{Error, ErrorKind};
use std::path::PathBuf;

pub type SamResult<T> = std::result::Result<T, SamError>;

#[derive(Debug, thiserror::Error)]
pub enum SamError {
    /// A token request, HTTP or input error from the rest of the core.
    #[error(transparent)]
    Core(#[from] Error),

    #[error(
        "The secret file '{path}' cannot be decrypted: wrong passphrase or the file was changed. Check the passphrase; if it is right, the file was modified or replaced and cannot be trusted: save the secret again (for a refresh token, consent again)."
    )]
    Undecryptable { path: PathBuf },

    #[error("The secret file '{path}' cannot be read: {reason}. Restore it from a backup or save the secret again (for a refresh token, consent again).")]
    CorruptFile { path: PathBuf, reason: String },

    #[error("The secret file '{path}' has format version {found}; this version of PartnerSecurity reads version {supported}. Update PartnerSecurity to read it.")]
    UnsupportedFormat { path: PathBuf, found: u8, supported: u8 },

    #[error("The secret file '{path}' is protected by {found}, but the store was opened with {expected}. Open it with the kind of key it was written with.")]
    KeyKindMismatch { path: PathBuf, found: &'static str, expected: &'static str },

    #[error(
        "The key that protects '{path}' is not in the OS credential store ({store}) any more, so the file cannot be decrypted. Save the secret again (for a refresh token, consent again)."
    )]
    FileKeyMissing { path: PathBuf, store: String },

    #[error("Could not {action} '{path}': {reason}. Check the folder's permissions and free space, then try again.")]
    Io { action: &'static str, path: PathBuf, reason: String, io_kind: std::io::ErrorKind },

    #[error("{message}")]
    CredentialStore { message: String },

    #[error(
        "The identity {identity} lacks '{permission}' secret permission on the Key Vault '{vault}'. Grant it in the vault's access policies (secret permission '{permission}') or, for a vault using Azure RBAC, a role such as 'Key Vault Secrets Officer'. Key Vault said: {message}"
    )]
    KeyVaultForbidden { identity: String, permission: String, vault: String, message: String },

    #[error("There is no profile named '{name}' in {directory}. List the profiles there, or create this one first.")]
    ProfileNotFound { name: String, directory: PathBuf },

    #[error("A profile named '{name}' already exists in {directory}. Choose another name, or update or remove the existing one.")]
    ProfileExists { name: String, directory: PathBuf },

    #[error("The profile file '{path}' cannot be read: {reason}. Fix or remove the file.")]
    ProfileCorrupt { path: PathBuf, reason: String },

    #[error("No profile was named and none is the default. Name a profile, make one the default, or set the environment variable PARTNERSECURITY_PROFILE.")]
    NoDefaultProfile,

    #[error("No refresh token is stored for the profile '{profile}' ({store}). Consent once with multi-factor authentication to store one.")]
    NoRefreshToken { profile: String, store: String },

    #[error(
        "The sign-in did not use multi-factor authentication (amr: {amr}), so its refresh token was not saved. Microsoft requires MFA for every partner user and Partner Center refuses App+User tokens without it: consent again and complete MFA during the sign-in (an account without MFA registered has to register first)."
    )]
    MfaRequired { amr: String },

    #[error(
        "The token exchange succeeded, but the new refresh token could not be saved to {store}: {reason} Nothing is lost: the previous refresh token is still in the store and still valid at Entra ID. Fix the store and run the exchange again."
    )]
    RotationNotSaved { store: String, reason: String, kind: ErrorKind },

    /// A profile's own entry that cannot be used as it is: the store's error (whose code and kind
    /// this keeps), then what to do about that profile.
    #[error("{source} {advice}")]
    InProfile { source: Box<SamError>, advice: String },

    #[error(
        "Another process has held the lock '{lock}' of the {store} for more than {seconds} seconds (a token rotation waiting on a slow network?). Try again later; the lock is released as soon as that process finishes or ends."
    )]
    LockTimeout { store: String, lock: PathBuf, seconds: u64 },
}

/// Which of a profile's secrets an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileEntry {
    RefreshToken,
    ApplicationSecret,
}

impl SamError {
    /// Says what to do about `profile` when its `entry` is damaged, cannot be decrypted or lost
    /// its key; other errors pass unchanged.
    pub fn in_profile(self, profile: &str, entry: ProfileEntry) -> Self {
        if !matches!(self, SamError::CorruptFile { .. } | SamError::Undecryptable { .. } | SamError::FileKeyMissing { .. }) {
            return self;
        }
        let advice = match entry {
            ProfileEntry::RefreshToken => format!(
                "It holds the refresh token of the profile '{profile}'. To consent again, run 'Remove-PartnerSecureAppProfile -Name {profile}', then 'New-PartnerSecureAppProfile -Name {profile}' with the same application and tenant."
            ),
            ProfileEntry::ApplicationSecret => format!(
                "It holds the application secret of the profile '{profile}'. To save it again, run 'Set-PartnerSecureAppProfile -Name {profile} -Credential' with the application id and a valid client secret."
            ),
        };
        SamError::InProfile { source: Box::new(self), advice }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        Self::Io { action, path: path.into(), reason: error.to_string(), io_kind: error.kind() }
    }

    /// The stable classification callers (and the FFI) branch on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SamError::Core(e) => e.kind(),
            SamError::InProfile { source, .. } => source.kind(),
            SamError::Undecryptable { .. } | SamError::FileKeyMissing { .. } | SamError::MfaRequired { .. } | SamError::NoRefreshToken { .. } => ErrorKind::Authentication,
            SamError::CorruptFile { .. }
            | SamError::UnsupportedFormat { .. }
            | SamError::KeyKindMismatch { .. }
            | SamError::ProfileCorrupt { .. }
            | SamError::ProfileExists { .. }
            | SamError::NoDefaultProfile => ErrorKind::InvalidInput,
            SamError::Io { io_kind, .. } => match io_kind {
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                // A full disk, a read-only file system, an I/O error: the machine's, not a bug.
                _ => ErrorKind::Storage,
            },
            SamError::CredentialStore { .. } => ErrorKind::InvalidInput,
            SamError::KeyVaultForbidden { .. } => ErrorKind::PermissionDenied,
            SamError::ProfileNotFound { .. } => ErrorKind::NotFound,
            // What kept the store from taking the token (a full disk, a vault's permissions).
            SamError::RotationNotSaved { kind, .. } => *kind,
            SamError::LockTimeout { .. } => ErrorKind::Throttled,
        }
    }

    /// A short, stable identifier (the PowerShell ErrorId).
    pub fn code(&self) -> String {
        match self {
            SamError::Core(e) => e.code().unwrap_or_else(|| "Error".into()),
            SamError::InProfile { source, .. } => source.code(),
            SamError::Undecryptable { .. } => "SecretFileUndecryptable".into(),
            SamError::CorruptFile { .. } => "SecretFileCorrupt".into(),
            SamError::UnsupportedFormat { .. } => "SecretFileUnsupportedFormat".into(),
            SamError::KeyKindMismatch { .. } => "SecretFileKeyMismatch".into(),
            SamError::FileKeyMissing { .. } => "SecretFileKeyMissing".into(),
            SamError::Io { .. } => "SecretStoreIo".into(),
            SamError::CredentialStore { .. } => "CredentialStoreUnavailable".into(),
            SamError::KeyVaultForbidden { .. } => "KeyVaultForbidden".into(),
            SamError::ProfileNotFound { .. } => "ProfileNotFound".into(),
            SamError::ProfileExists { .. } => "ProfileExists".into(),
            SamError::ProfileCorrupt { .. } => "ProfileCorrupt".into(),
            SamError::NoDefaultProfile => "NoDefaultProfile".into(),
            SamError::NoRefreshToken { .. } => "NoRefreshToken".into(),
            SamError::MfaRequired { .. } => "MfaRequired".into(),
            SamError::RotationNotSaved { .. } => "RotationNotSaved".into(),
            SamError::LockTimeout { .. } => "SecretStoreLockTimeout".into(),
        }
    }
}

/// For callers that speak the core's error (a session renewing its token through a profile).
impl From<SamError> for Error {
    fn from(e: SamError) -> Self {
        match e {
            SamError::Core(e) => e,
            other => Error::Profile { code: other.code(), kind: other.kind(), message: other.to_string() },
        }
    }
}

impl From<tokio::task::JoinError> for SamError {
    fn from(e: tokio::task::JoinError) -> Self {
        SamError::Core(Error::Internal(format!("a secret-store task failed ({e})")))
    }
}
