//! Secret values (tokens, client secrets) that must never be printed.
//!
//! `Secret` wraps `secrecy::SecretString`: memory is zeroized on drop and `Debug` prints a
//! placeholder, so a secret cannot end up in a log line or error message by accident.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The plain value. Call only where the value leaves for its one legitimate destination
    /// (a token request body, an Authorization header, the caller that asked for a token).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// Removes every occurrence of the given secrets from a text (for server messages that might
/// echo what was sent).
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let value = secret.expose();
        // Short values would redact ordinary words; real tokens and secrets are long.
        if value.len() >= 8 {
            out = out.replace(value, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("super-secret-value");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn redact_removes_long_secrets_only() {
        let s = Secret::new("abcdefghijkl");
        let short = Secret::new("abc");
        assert_eq!(redact("x abcdefghijkl y abc", &[&s, &short]), "x *** y abc");
    }
}
