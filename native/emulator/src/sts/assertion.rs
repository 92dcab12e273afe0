//! Client assertions: the JWT a confidential client signs with its certificate's private key
//! instead of sending a secret (RFC 7523, api-contracts §1.3).
//!
//! Checks, in order, and the AADSTS code each failure gives (all `invalid_client`, HTTP 401):
//!
//! | check | code |
//! |---|---|
//! | three base64url parts with JSON header and claims | 50027 |
//! | `alg` is RS256 or PS256 | 700027 |
//! | `x5t#S256`, `x5t` (or `kid` = hex thumbprint) names a certificate of the app | 700027 "key was not found" |
//! | the signature verifies with that certificate's public key | 700027 |
//! | the certificate is within its validity period (emulator clock) | 700027 "key used is expired" |
//! | `iss` = `sub` | 50048 |
//! | `sub` = `client_id` | 700021 |
//! | `aud` is the token endpoint the request went to (v2 or v1 form, or `{base}/{tenant}/v2.0`) | 50012 |
//! | `exp` present; `exp` and `nbf` within 5 minutes of skew of the emulator clock | 50027 / 700024 |
//! | `jti` present and not used before by this client | 50027 / 70002 |

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::signature::{self, RsaPublicKeyComponents};
use serde_json::{Map, Value};

use crate::certificates::CertificateKey;
use crate::scenario::{Application, Tenant};
use crate::sts::errors::StsError;
use crate::sts::grants::GrantContext;
use crate::sts::request::Endpoint;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew tolerated on `exp` and `nbf`.
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// Validates `assertion` for `app`; on success the `jti` is spent.
pub fn verify(
    ctx: &GrantContext<'_>,
    tenant: &Tenant,
    app: &Application,
    assertion: &str,
) -> Result<(), StsError> {
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StsError::assertion_malformed(
            "A client assertion has three base64url parts.",
        ));
    };
    let header = decode_json(h)?;
    let claims = decode_json(c)?;
    let signature = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| StsError::assertion_malformed("The signature is not base64url."))?;

    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let algorithm: &'static signature::RsaParameters = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        other => return Err(StsError::assertion_unsupported_algorithm(other)),
    };

    let presented = presented_thumbprint(&header);
    let keys = ctx.st.certificates.for_app(&app.app_id);
    let key = find_key(&keys, &header)
        .ok_or_else(|| StsError::assertion_key_not_found(&presented, &app.app_id))?;
    let signing_input = &assertion.as_bytes()[..h.len() + 1 + c.len()];
    let public = RsaPublicKeyComponents {
        n: &key.modulus,
        e: &key.exponent,
    };
    if public.verify(algorithm, signing_input, &signature).is_err() {
        return Err(StsError::assertion_bad_signature(&key.thumbprint));
    }
    if ctx.now > key.not_after || ctx.now < key.not_before {
        return Err(StsError::assertion_key_expired(
            &key.thumbprint,
            key.not_before,
            key.not_after,
        ));
    }

    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss != sub {
        return Err(StsError::assertion_subject_mismatch());
    }
    if !sub.is_some_and(|s| s.eq_ignore_ascii_case(&app.app_id)) {
        return Err(StsError::assertion_wrong_client());
    }

    let accepted = accepted_audiences(ctx, tenant);
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => audience_matches(&accepted, a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audience_matches(&accepted, a)),
        _ => false,
    };
    if !audience_ok {
        return Err(StsError::assertion_audience(
            accepted.first().map(String::as_str).unwrap_or_default(),
        ));
    }

    let now = ctx.now.timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| StsError::assertion_malformed("The 'exp' claim is missing."))?;
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    if exp + CLOCK_SKEW_SECONDS <= now || nbf.is_some_and(|n| n - CLOCK_SKEW_SECONDS > now) {
        return Err(StsError::assertion_time_range(
            ctx.now,
            nbf.and_then(epoch),
            epoch(exp).unwrap_or(ctx.now),
        ));
    }

    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| StsError::assertion_malformed("The 'jti' claim is missing."))?;
    if !ctx.st.certificates.use_jti(&app.app_id, jti, exp, now) {
        return Err(StsError::assertion_replayed());
    }
    Ok(())
}

fn epoch(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

fn decode_json(part: &str) -> Result<Map<String, Value>, StsError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| StsError::assertion_malformed("A part is not base64url."))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| StsError::assertion_malformed("A part is not a JSON object."))
}

/// The certificate the header names: `x5t#S256`, then `x5t`, then a `kid` holding the hex
/// thumbprint or the `x5t` value.
fn find_key<'k>(
    keys: &'k [std::sync::Arc<CertificateKey>],
    header: &Map<String, Value>,
) -> Option<&'k CertificateKey> {
    let field = |name: &str| header.get(name).and_then(Value::as_str);
    let by =
        |pred: &dyn Fn(&CertificateKey) -> bool| keys.iter().map(AsRef::as_ref).find(|k| pred(k));
    if let Some(s256) = field("x5t#S256") {
        return by(&|k| k.x5t_s256 == s256.trim_end_matches('='));
    }
    if let Some(x5t) = field("x5t") {
        return by(&|k| k.x5t == x5t.trim_end_matches('='));
    }
    let kid = field("kid")?;
    by(&|k| k.has_thumbprint(kid) || k.x5t == kid)
}

/// The hex SHA-1 thumbprint the client claims to have used, for error messages.
fn presented_thumbprint(header: &Map<String, Value>) -> String {
    let field = |name: &str| header.get(name).and_then(Value::as_str);
    if let Some(bytes) =
        field("x5t").and_then(|x| URL_SAFE_NO_PAD.decode(x.trim_end_matches('=')).ok())
    {
        return bytes.iter().map(|b| format!("{b:02X}")).collect();
    }
    field("x5t#S256")
        .or_else(|| field("kid"))
        .unwrap_or("(none)")
        .to_owned()
}

/// Every `aud` value accepted for a request to this token endpoint: the v2 and v1 token URLs
/// and the v2 issuer-style `{base}/{tenant}/v2.0`, with the tenant as sent in the path or as
/// any of its names. The endpoint actually called comes first (shown in errors).
fn accepted_audiences(ctx: &GrantContext<'_>, tenant: &Tenant) -> Vec<String> {
    let base = ctx.st.base_url.trim_end_matches('/');
    let mut segments = vec![ctx.segment_text.to_owned(), tenant.id.clone()];
    segments.extend(tenant.domains.iter().cloned());
    let suffixes: [&str; 3] = match ctx.endpoint {
        Endpoint::V2 => ["oauth2/v2.0/token", "oauth2/token", "v2.0"],
        Endpoint::V1 => ["oauth2/token", "oauth2/v2.0/token", "v2.0"],
    };
    let mut out = Vec::new();
    for suffix in suffixes {
        for seg in &segments {
            out.push(format!("{base}/{seg}/{suffix}"));
        }
    }
    out
}

fn audience_matches(accepted: &[String], aud: &str) -> bool {
    let aud = aud.trim_end_matches('/');
    accepted.iter().any(|a| a.eq_ignore_ascii_case(aud))
}
