//! The parsed body of a token request (form-urlencoded) plus HTTP Basic client credentials.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Which token endpoint was called; v1 and v2 differ in parameters (`resource` vs `scope`)
/// and response shapes (numbers as strings, `expires_on`, `resource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    V1,
    V2,
}

#[derive(Debug, Default)]
pub struct TokenRequest {
    params: HashMap<String, String>,
    basic: Option<(String, String)>,
}

impl TokenRequest {
    /// Never fails: a body that is not form data simply has no parameters, and the grant
    /// checks then report the first missing one as Entra does (AADSTS900144).
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Self {
        let mut params = HashMap::new();
        if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
            for (k, v) in pairs {
                // First occurrence wins; duplicates are ignored rather than guessed at.
                params.entry(k).or_insert(v);
            }
        }
        Self {
            params,
            basic: basic_credentials(headers),
        }
    }

    /// A parameter, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A parameter exactly as sent (passwords may legitimately start or end with spaces).
    pub fn get_raw(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `client_id` from HTTP Basic if present, else from the body.
    pub fn client_id(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .filter(|v| !v.is_empty())
            .or_else(|| self.get("client_id"))
    }

    pub fn client_secret(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(_, secret)| secret.as_str())
            .filter(|v| !v.is_empty())
            .or_else(|| {
                self.params
                    .get("client_secret")
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
            })
    }
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((percent_decode(id), percent_decode(secret)))
}

/// Decodes `%XX` escapes. `+` stays literal: secrets may contain it and clients rarely encode
/// Basic credentials, so treating it as a space would reject correct secrets.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn basic_auth_wins_and_is_percent_decoded() {
        let mut headers = HeaderMap::new();
        let creds = STANDARD.encode("app%2Did:s%3Acret+x");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {creds}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        let req = TokenRequest::parse(&headers, b"client_id=other&client_secret=body");
        assert_eq!(req.client_id(), Some("app-id"));
        assert_eq!(req.client_secret(), Some("s:cret+x"));
    }

    #[test]
    fn empty_values_count_as_missing() {
        let req = TokenRequest::parse(&HeaderMap::new(), b"grant_type=&client_id=x");
        assert!(!req.has("grant_type"));
        assert_eq!(req.client_id(), Some("x"));
    }

    #[test]
    fn truncated_escape_is_kept() {
        assert_eq!(percent_decode("ab%2"), "ab%2");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }
}
