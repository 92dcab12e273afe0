//! Compact JWS (RS256) encoding and verification over [`SigningKey`].
//!
//! Hand-rolled on purpose: a JWT is three base64url parts, and keeping the emulator off the
//! JWT library the tests use to check its tokens means a bug in one cannot hide a bug in the
//! other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::keys::{KeyError, SigningKey};

pub fn encode(key: &SigningKey, claims: &Value) -> Result<String, KeyError> {
    // Header fields in the order Entra emits them (api-contracts §2.1); x5t equals kid.
    let header = json!({"typ": "JWT", "alg": "RS256", "x5t": key.kid(), "kid": key.kid()});
    let signing_input = format!("{}.{}", b64_json(&header), b64_json(claims));
    let sig = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

fn b64_json(value: &Value) -> String {
    // Serialising a serde_json::Value cannot fail (keys are strings).
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the token is not signed with RS256 by this emulator's key")]
    UnknownKey,
    #[error("the signature is invalid")]
    BadSignature,
}

/// Verifies the signature and returns the claims. Time and audience checks are the caller's
/// (they depend on the emulator clock and on which API is asking).
pub fn verify(key: &SigningKey, token: &str) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Map<String, Value> = decode_part(h)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256")
        || header.get("kid").and_then(Value::as_str) != Some(key.kid())
    {
        return Err(JwtError::UnknownKey);
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
    let signing_input_len = h.len() + 1 + c.len();
    if !key.verify(&token.as_bytes()[..signing_input_len], &sig) {
        return Err(JwtError::BadSignature);
    }
    decode_part(c)
}

fn decode_part(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}
