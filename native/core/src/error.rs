//! Typed errors with messages a CSP admin can act on.
//!
//! Every variant's `Display` says what went wrong and what to do next; none of them contains a
//! token or secret (server texts are redacted before they are stored here). `ErrorKind` is the
//! small, stable set that crosses the FFI boundary and becomes a PowerShell `ErrorCategory`.

use crate::auth::aadsts;
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable classification callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidInput,
    Authentication,
    PermissionDenied,
    NotFound,
    Throttled,
    Network,
    InvalidResponse,
    NotConnected,
    Cancelled,
    /// A local file could not be written or read (disk full, permissions, a file too large).
    Storage,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Parameter '{parameter}' is not valid: {reason}")]
    InvalidInput { parameter: String, reason: String },

    /// Boxed: the STS's answer is the largest variant by far, and every `Result` would carry its size.
    #[error("{0}")]
    Sts(Box<StsError>),

    #[error("{service} answered HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Service {
        service: String,
        status: u16,
        code: Option<String>,
        message: String,
    },

    #[error("Could not reach {url}: {reason}. Check the network, proxy and the environment's endpoints (Get-PartnerEnvironment).")]
    Network { url: String, reason: String },

    #[error("The endpoint '{url}' uses plain http. Tokens are only sent over https (plain http is allowed for loopback addresses only); register the environment with an https endpoint.")]
    InsecureEndpoint { url: String },

    #[error("Refusing to send an access token to {url}: {reason}. A token only goes to the endpoint it was issued for; check the environment's endpoints (Get-PartnerEnvironment) and the scopes requested.")]
    TokenConfinement { url: String, reason: String },

    #[error("The server at {url} answered something that could not be read: {reason}.")]
    InvalidResponse { url: String, reason: String },

    #[error("The {what} is not a valid JSON Web Token: {reason}.")]
    MalformedToken { what: String, reason: String },

    #[error("The access token expired at {expired_at} (UTC). Generate a new one and try again, or connect with -RefreshToken so the session renews itself.")]
    TokenExpired { expired_at: String },

    #[error("Run Connect-PartnerCenter to login.")]
    NotConnected,

    #[error("Signing in with a user name and password (ROPC) is not supported: it cannot satisfy multi-factor authentication, which Microsoft requires for every partner user. Use the Secure Application Model instead: consent once with 'New-PartnerAccessToken -UseAuthorizationCode' (or -UseDeviceAuthentication) and connect with 'Connect-PartnerCenter -ApplicationId <app> -Credential <app secret> -RefreshToken <token>'.")]
    UserCredentialsNotSupported,

    #[error("The environment '{name}' is not known. Use one of: {known}, or register it with Add-PartnerEnvironment.")]
    UnknownEnvironment { name: String, known: String },

    #[error("The operation was cancelled.")]
    Cancelled,

    /// A local file operation failed; `advice` says what to do (e.g. resume once there is room).
    #[error("{action} '{path}' failed: {reason}. {advice}")]
    Storage { path: String, action: String, reason: String, advice: String },

    #[error("Internal error in PartnerSecurity: {0}. This is a bug; please report it.")]
    Internal(String),

    /// A Secure Application Model profile failed while renewing a session's token (its secret
    /// store, lock or rotation); `code` and `kind` are the profile error's own.
    #[error("{message}")]
    Profile { code: String, kind: ErrorKind, message: String },
}

impl Error {
    pub fn invalid_input(parameter: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput { parameter: parameter.into(), reason: reason.into() }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } | Error::UnknownEnvironment { .. } | Error::MalformedToken { .. } => ErrorKind::InvalidInput,
            Error::UserCredentialsNotSupported | Error::TokenExpired { .. } => ErrorKind::Authentication,
            Error::Sts(sts) => sts.kind(),
            Error::Service { status, .. } => match status {
                401 => ErrorKind::Authentication,
                403 => ErrorKind::PermissionDenied,
                404 => ErrorKind::NotFound,
                429 => ErrorKind::Throttled,
                400..=499 => ErrorKind::InvalidInput,
                _ => ErrorKind::InvalidResponse,
            },
            Error::Network { .. } => ErrorKind::Network,
            Error::InsecureEndpoint { .. } | Error::TokenConfinement { .. } => ErrorKind::InvalidInput,
            Error::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Error::NotConnected => ErrorKind::NotConnected,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Storage { .. } => ErrorKind::Storage,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Profile { kind, .. } => *kind,
        }
    }

    /// A short, stable identifier for the failure (an AADSTS code, a service error code, or the
    /// variant's name), used as the PowerShell ErrorId so scripts can branch on it.
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Sts(sts) => sts.codes.first().map(|c| format!("AADSTS{c}")).or_else(|| Some(sts.error.clone())),
            Error::Service { code, status, .. } => code.clone().or_else(|| Some(format!("HTTP{status}"))),
            Error::InvalidInput { .. } => Some("InvalidInput".into()),
            Error::Network { .. } => Some("NetworkError".into()),
            Error::InsecureEndpoint { .. } => Some("InsecureEndpoint".into()),
            Error::TokenConfinement { .. } => Some("TokenConfinement".into()),
            Error::InvalidResponse { .. } => Some("InvalidResponse".into()),
            Error::MalformedToken { .. } => Some("MalformedToken".into()),
            Error::TokenExpired { .. } => Some("TokenExpired".into()),
            Error::NotConnected => Some("NotConnected".into()),
            Error::UserCredentialsNotSupported => Some("UserCredentialsNotSupported".into()),
            Error::UnknownEnvironment { .. } => Some("UnknownEnvironment".into()),
            Error::Cancelled => Some("Cancelled".into()),
            Error::Storage { .. } => Some("StorageError".into()),
            Error::Internal(_) => Some("InternalError".into()),
            Error::Profile { code, .. } => Some(code.clone()),
        }
    }
}

/// An error answer from an Entra ID token endpoint (the OAuth2 error JSON).
#[derive(Debug, Clone)]
pub struct StsError {
    /// OAuth2 `error` (e.g. `invalid_grant`).
    pub error: String,
    /// AADSTS codes from `error_codes` (or parsed from the description).
    pub codes: Vec<u32>,
    /// The first line of `error_description`, without the trace/correlation trailer.
    pub description: String,
    pub suberror: Option<String>,
    pub correlation_id: Option<String>,
    pub trace_id: Option<String>,
    /// HTTP status of the answer.
    pub status: u16,
}

impl StsError {
    pub fn primary_code(&self) -> Option<u32> {
        self.codes.first().copied()
    }

    pub fn kind(&self) -> ErrorKind {
        match self.primary_code() {
            Some(90002) | Some(70011) | Some(1002012) | Some(901002) | Some(900144) => ErrorKind::InvalidInput,
            Some(53003) | Some(530035) | Some(65001) => ErrorKind::PermissionDenied,
            _ if self.error == "temporarily_unavailable" => ErrorKind::Network,
            _ => ErrorKind::Authentication,
        }
    }
}

impl fmt::Display for StsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let advice = aadsts::advice(self.primary_code(), &self.error);
        write!(f, "{advice} Entra ID said: {}", self.description)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " (Correlation ID: {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StsError {}

impl From<StsError> for Error {
    fn from(sts: StsError) -> Self {
        Error::Sts(Box::new(sts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(code: u32, error: &str) -> StsError {
        StsError {
            error: error.into(),
            codes: vec![code],
            description: format!("AADSTS{code}: something"),
            suberror: None,
            correlation_id: Some("c0ffee".into()),
            trace_id: None,
            status: 400,
        }
    }

    #[test]
    fn sts_errors_say_what_to_do_and_keep_the_code() {
        let e = Error::from(sts(7000215, "invalid_client"));
        let text = e.to_string();
        assert!(text.contains("secret"), "{text}");
        assert!(text.contains("AADSTS7000215"), "{text}");
        assert!(text.contains("c0ffee"), "{text}");
        assert_eq!(e.code().as_deref(), Some("AADSTS7000215"));
        assert_eq!(e.kind(), ErrorKind::Authentication);
    }

    #[test]
    fn tenant_not_found_is_invalid_input() {
        assert_eq!(Error::from(sts(90002, "invalid_request")).kind(), ErrorKind::InvalidInput);
    }
}
