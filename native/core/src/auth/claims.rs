//! Reading the claims of access and ID tokens.
//!
//! Claims are read without verifying the signature: the client is not the audience of the
//! token and has no business validating it (the resource server does). What matters here is
//! what the token says — above all whether `amr` proves MFA.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `amr` values that prove a second factor (Partner Center checks for `mfa`; `ngcmfa` is the
/// same assurance for advanced credential provisioning).
const MFA_METHODS: &[&str] = &["mfa", "ngcmfa"];

/// `true` when `amr` values prove a second factor (`mfa`, or `ngcmfa`); `fed` alone does not.
pub fn amr_has_mfa(amr: &[String]) -> bool {
    amr.iter().any(|m| MFA_METHODS.contains(&m.as_str()))
}

/// The claims PartnerSecurity reads, from an access token or an ID token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub tenant_id: Option<String>,
    pub object_id: Option<String>,
    /// `upn`, else `unique_name`, else `preferred_username`.
    pub user_principal_name: Option<String>,
    pub name: Option<String>,
    /// `appid` (v1) or `azp` (v2).
    pub application_id: Option<String>,
    pub authentication_methods: Vec<String>,
    pub acr: Option<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub not_before: Option<DateTime<Utc>>,
    pub expires_on: Option<DateTime<Utc>>,
    pub version: Option<String>,
    pub identity_type: Option<String>,
}

impl Claims {
    /// Reads the payload of a compact JWS (`header.payload.signature`). `what` names the token
    /// in error messages ("access token", "ID token").
    pub fn from_jwt(token: &str, what: &str) -> Result<Self> {
        let malformed = |reason: &str| Error::MalformedToken { what: what.to_owned(), reason: reason.to_owned() };
        let token = token.trim();
        if token.is_empty() {
            return Err(malformed("it is empty"));
        }
        let mut parts = token.split('.');
        let (Some(_header), Some(payload), Some(_signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(malformed("it must have three dot-separated parts (header.payload.signature)"));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| malformed("its payload is not base64url"))?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("its payload is not JSON"))?;
        let Value::Object(map) = json else {
            return Err(malformed("its payload is not a JSON object"));
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        let time = |key: &str| -> Result<Option<DateTime<Utc>>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => {
                    let secs = v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).ok_or_else(|| malformed(&format!("claim '{key}' is not a number")))?;
                    Utc.timestamp_opt(secs, 0).single().map(Some).ok_or_else(|| malformed(&format!("claim '{key}' is out of range")))
                }
            }
        };
        let list = |key: &str| -> Vec<String> {
            match map.get(key) {
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
                _ => Vec::new(),
            }
        };
        let audience = match map.get("aud") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(items)) => items.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        Ok(Self {
            audience,
            issuer: text("iss"),
            tenant_id: text("tid"),
            object_id: text("oid"),
            user_principal_name: text("upn").or_else(|| text("unique_name")).or_else(|| text("preferred_username")),
            name: text("name"),
            application_id: text("appid").or_else(|| text("azp")),
            authentication_methods: list("amr"),
            acr: text("acr"),
            scopes: list("scp"),
            roles: list("roles"),
            issued_at: time("iat")?,
            not_before: time("nbf")?,
            expires_on: time("exp")?,
            version: text("ver"),
            identity_type: text("idtyp"),
        })
    }

    /// `true` when `amr` proves a second factor.
    pub fn has_mfa(&self) -> bool {
        amr_has_mfa(&self.authentication_methods)
    }

    /// `true` for app-only tokens (client credentials).
    pub fn is_app_only(&self) -> bool {
        self.identity_type.as_deref() == Some("app") || (self.scopes.is_empty() && !self.roles.is_empty())
    }

    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_on.is_some_and(|exp| exp <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        format!("{}.{}.sig", enc(&serde_json::json!({"alg":"RS256","typ":"JWT"})), enc(payload))
    }

    #[test]
    fn mfa_is_mfa_or_ngcmfa_never_fed_alone() {
        let amr = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(amr_has_mfa(&amr(&["fed", "mfa"])));
        assert!(amr_has_mfa(&amr(&["ngcmfa"])));
        assert!(!amr_has_mfa(&amr(&["fed"])));
        assert!(!amr_has_mfa(&amr(&["pwd", "wiaormfa"])));
    }

    #[test]
    fn reads_the_partner_center_sample() {
        let token = jwt(&serde_json::json!({
            "aud": "https://api.partnercenter.microsoft.com", "iss": "https://sts.windows.net/t/",
            "iat": 1549088552, "nbf": 1549088552, "exp": 1549092452, "acr": "1",
            "amr": ["pwd", "mfa"], "appid": "23ec45a3", "tid": "t", "oid": "o",
            "unique_name": "agent@contoso", "scp": "user_impersonation", "ver": "1.0"
        }));
        let c = Claims::from_jwt(&token, "access token").unwrap();
        assert!(c.has_mfa());
        assert_eq!(c.user_principal_name.as_deref(), Some("agent@contoso"));
        assert_eq!(c.scopes, vec!["user_impersonation"]);
        assert_eq!(c.application_id.as_deref(), Some("23ec45a3"));
        assert_eq!(c.expires_on.unwrap().timestamp(), 1549092452);
        assert!(!c.is_app_only());
    }

    #[test]
    fn pwd_only_is_not_mfa_and_app_tokens_are_recognised() {
        let c = Claims::from_jwt(&jwt(&serde_json::json!({"amr": ["pwd"]})), "t").unwrap();
        assert!(!c.has_mfa());
        let app = Claims::from_jwt(&jwt(&serde_json::json!({"roles": ["AuditLog.Read.All"], "idtyp": "app"})), "t").unwrap();
        assert!(app.is_app_only());
    }

    #[test]
    fn malformed_tokens_give_clear_errors() {
        for bad in ["", "abc", "a.b", "a.!!!.c", "a.e30.c.d"] {
            let err = Claims::from_jwt(bad, "access token").unwrap_err();
            assert!(err.to_string().starts_with("The access token is not a valid JSON Web Token"), "{bad}: {err}");
        }
        let not_object = format!("x.{}.y", URL_SAFE_NO_PAD.encode("[1]"));
        assert!(Claims::from_jwt(&not_object, "t").is_err());
        let bad_exp = jwt(&serde_json::json!({"exp": "soon"}));
        assert!(Claims::from_jwt(&bad_exp, "t").unwrap_err().to_string().contains("'exp'"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever arrives as a token, reading it returns a value or a clear error; it never panics.
            #[test]
            fn arbitrary_text_never_panics(text in ".{0,400}") {
                let _ = Claims::from_jwt(&text, "access token");
            }

            /// Three segments whose middle one is arbitrary base64url bytes.
            #[test]
            fn arbitrary_payload_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let token = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(&bytes));
                let _ = Claims::from_jwt(&token, "access token");
            }

            /// Any string claim values come back as they went in, and `amr` decides MFA.
            #[test]
            fn string_claims_round_trip(upn in "[^\\u{0}]{0,64}", tid in "[a-f0-9-]{0,36}", methods in proptest::collection::vec("[a-z]{1,8}", 0..5)) {
                let token = jwt(&serde_json::json!({"upn": upn, "tid": tid, "amr": methods}));
                let claims = Claims::from_jwt(&token, "access token").unwrap();
                prop_assert_eq!(claims.user_principal_name.as_deref(), Some(upn.as_str()));
                prop_assert_eq!(claims.tenant_id.as_deref(), Some(tid.as_str()));
                prop_assert_eq!(claims.has_mfa(), methods.iter().any(|m| m == "mfa" || m == "ngcmfa"));
            }

            /// Out-of-range or non-numeric times are errors naming the claim, not panics.
            #[test]
            fn absurd_times_are_errors(exp in any::<i64>()) {
                let token = jwt(&serde_json::json!({"exp": exp}));
                match Claims::from_jwt(&token, "access token") {
                    Ok(c) => prop_assert_eq!(c.expires_on.map(|e| e.timestamp()), Some(exp)),
                    Err(e) => prop_assert!(e.to_string().contains("'exp'")),
                }
            }
        }
    }
}

