//! Bearer-token validation shared by the resource APIs (Graph, Partner Center, later Key
//! Vault): signature by the emulator key, `exp`/`nbf` against the emulator clock, `aud` among
//! the resource's identifiers, `iss` matching an existing tenant.
//!
//! Each service turns a [`BearerError`] into its own error body; the `WWW-Authenticate`
//! challenge is common (api-contracts §1.8: `Bearer authorization_uri=..., error="invalid_token"`).

use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::{Map, Value};

use crate::jwt::{self, JwtError};
use crate::state::Emulator;
use crate::tokens::v1_issuer;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    #[error("the access token is missing")]
    Missing,
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    #[error("the access token signature is invalid")]
    BadSignature,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not yet valid")]
    NotYetValid,
    #[error("the access token audience is not this API")]
    WrongAudience,
    #[error("the access token issuer or tenant is unknown")]
    WrongIssuer,
}

#[derive(Debug, Clone)]
pub struct ValidatedToken {
    pub claims: Map<String, Value>,
}

impl ValidatedToken {
    fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn tenant_id(&self) -> &str {
        self.str_claim("tid").unwrap_or_default()
    }

    pub fn object_id(&self) -> &str {
        self.str_claim("oid").unwrap_or_default()
    }

    /// The calling application: `appid` (v1 tokens) or `azp` (v2).
    pub fn app_id(&self) -> &str {
        self.str_claim("appid")
            .or_else(|| self.str_claim("azp"))
            .unwrap_or_default()
    }

    /// App-only tokens have `idtyp: app` and no `scp` (api-contracts §2.2).
    pub fn is_app_only(&self) -> bool {
        self.str_claim("idtyp") == Some("app") || !self.claims.contains_key("scp")
    }

    pub fn scopes(&self) -> Vec<&str> {
        self.str_claim("scp")
            .map(|s| s.split(' ').filter(|p| !p.is_empty()).collect())
            .unwrap_or_default()
    }

    pub fn roles(&self) -> Vec<&str> {
        self.claims
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub fn amr(&self) -> Vec<&str> {
        self.claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// Whether the token carries a delegated scope from `delegated` or an app role from
    /// `application` (case-insensitive, as Graph compares permission names).
    pub fn has_any_permission(&self, delegated: &[&str], application: &[&str]) -> bool {
        let held: Vec<&str> = if self.is_app_only() {
            self.roles()
        } else {
            self.scopes()
        };
        let wanted = if self.is_app_only() {
            application
        } else {
            delegated
        };
        held.iter()
            .any(|h| wanted.iter().any(|w| w.eq_ignore_ascii_case(h)))
    }
}

/// Validates the `Authorization: Bearer` header for the resource with app id
/// `resource_app_id`.
pub fn validate(
    st: &Emulator,
    headers: &HeaderMap,
    resource_app_id: &str,
) -> Result<ValidatedToken, BearerError> {
    let token = bearer_token(headers).ok_or(BearerError::Missing)?;
    let claims = jwt::verify(&st.keys, token).map_err(|e| match e {
        JwtError::Malformed => BearerError::Malformed,
        JwtError::UnknownKey | JwtError::BadSignature => BearerError::BadSignature,
    })?;
    let now = st.clock.now_epoch();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(BearerError::Malformed)?;
    let nbf = claims
        .get("nbf")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    if now >= exp {
        return Err(BearerError::Expired);
    }
    if now < nbf {
        return Err(BearerError::NotYetValid);
    }
    let audience_ok = claims
        .get("aud")
        .and_then(Value::as_str)
        .is_some_and(|aud| {
            st.scenario
                .resource_by_app_id(resource_app_id)
                .is_some_and(|r| r.is_named_by(aud))
        });
    if !audience_ok {
        return Err(BearerError::WrongAudience);
    }
    let tid = claims
        .get("tid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let tenant_ok = st.scenario.tenant(tid).is_some_and(|t| {
        claims.get("iss").and_then(Value::as_str) == Some(v1_issuer(&t.id).as_str())
    });
    if !tenant_ok {
        return Err(BearerError::WrongIssuer);
    }
    Ok(ValidatedToken { claims })
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `WWW-Authenticate` for a 401 from a resource API.
pub fn challenge(st: &Emulator, error: &BearerError) -> HeaderValue {
    let value = format!(
        "Bearer authorization_uri=\"{}/common/oauth2/authorize\", error=\"invalid_token\", error_description=\"{}\"",
        st.base_url, error
    );
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""))
}
