//! Certificate credentials of app registrations (api-contracts §1.3): the public half of the
//! key a confidential client signs its client assertions with.
//!
//! Certificates come from the scenario (`applications[].certificates`) and, at run time, from
//! `POST /_emulator/applications/{appId}/certificates`. Only what the STS needs is read from
//! the X.509 DER: the SHA-1 / SHA-256 thumbprints (`x5t` / `x5t#S256`), the validity period
//! and the RSA public key. The DER walk is hand-rolled on purpose (a few dozen lines), so the
//! emulator does not share an X.509 library with the client it tests.
//!
//! The store also remembers the `jti` of every accepted assertion, because Entra refuses a
//! replayed assertion.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use parking_lot::Mutex;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use crate::scenario::Scenario;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("no certificate found (expected PEM '-----BEGIN CERTIFICATE-----' or base64 DER)")]
    NoCertificate,
    #[error("the certificate is not valid base64")]
    Base64,
    #[error("the certificate is not DER-encoded X.509 ({0})")]
    Der(&'static str),
    #[error("only RSA certificates are supported")]
    NotRsa,
}

/// A registered certificate credential, reduced to what assertion validation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateKey {
    /// SHA-1 of the DER in upper-case hex, as the portal and Windows show it.
    pub thumbprint: String,
    /// base64url SHA-1 of the DER (the JWT header `x5t`).
    pub x5t: String,
    /// base64url SHA-256 of the DER (the JWT header `x5t#S256`).
    pub x5t_s256: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// RSA modulus and public exponent, big-endian without leading zeros.
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

impl CertificateKey {
    /// Whether a `thumbprint` written in a scenario (hex, any case, `:`/space separators
    /// allowed) names this certificate.
    pub fn has_thumbprint(&self, hex: &str) -> bool {
        let cleaned: String = hex
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        cleaned.eq_ignore_ascii_case(&self.thumbprint)
    }
}

/// Parses a PEM certificate (the first `CERTIFICATE` block) or bare base64 DER.
pub fn parse_certificate(text: &str) -> Result<CertificateKey, CertificateError> {
    let der = decode_pem_or_base64(text)?;
    parse_der(&der)
}

fn decode_pem_or_base64(text: &str) -> Result<Vec<u8>, CertificateError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let body = match text.find(BEGIN) {
        Some(start) => {
            let rest = &text[start + BEGIN.len()..];
            let end = rest.find(END).ok_or(CertificateError::NoCertificate)?;
            &rest[..end]
        }
        None if text.contains("-----BEGIN") => return Err(CertificateError::NoCertificate),
        None => text,
    };
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(CertificateError::NoCertificate);
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| CertificateError::Base64)
}

// --- a minimal DER reader ------------------------------------------------------------------

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_VERSION: u8 = 0xA0;

/// DER of OID 1.2.840.113549.1.1.1 (rsaEncryption).
const OID_RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// One TLV: (tag, content, rest of the input).
fn read_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), CertificateError> {
    let (&tag, rest) = input
        .split_first()
        .ok_or(CertificateError::Der("truncated"))?;
    let (&first, rest) = rest
        .split_first()
        .ok_or(CertificateError::Der("truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(CertificateError::Der("bad length"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(CertificateError::Der("truncated"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn expect<'a>(
    input: &'a [u8],
    want: u8,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), CertificateError> {
    let (tag, content, rest) = read_tlv(input)?;
    if tag != want {
        return Err(CertificateError::Der(what));
    }
    Ok((content, rest))
}

fn parse_der(der: &[u8]) -> Result<CertificateKey, CertificateError> {
    let (certificate, _) = expect(der, TAG_SEQUENCE, "certificate is not a SEQUENCE")?;
    let (tbs, _) = expect(
        certificate,
        TAG_SEQUENCE,
        "tbsCertificate is not a SEQUENCE",
    )?;
    let mut rest = tbs;
    if rest.first() == Some(&TAG_VERSION) {
        rest = read_tlv(rest)?.2;
    }
    let (_, rest) = expect(rest, TAG_INTEGER, "serial number")?;
    let (_, rest) = expect(rest, TAG_SEQUENCE, "signature algorithm")?;
    let (_, rest) = expect(rest, TAG_SEQUENCE, "issuer")?;
    let (validity, rest) = expect(rest, TAG_SEQUENCE, "validity")?;
    let (_, rest) = expect(rest, TAG_SEQUENCE, "subject")?;
    let (spki, _) = expect(rest, TAG_SEQUENCE, "subjectPublicKeyInfo")?;

    let (not_before, after) = read_time(validity)?;
    let (not_after, _) = read_time(after)?;

    let (algorithm, rest) = expect(spki, TAG_SEQUENCE, "public key algorithm")?;
    let (oid, _) = expect(algorithm, TAG_OID, "public key algorithm OID")?;
    if oid != OID_RSA_ENCRYPTION {
        return Err(CertificateError::NotRsa);
    }
    let (bits, _) = expect(rest, TAG_BIT_STRING, "public key")?;
    let (&unused, key) = bits
        .split_first()
        .ok_or(CertificateError::Der("public key"))?;
    if unused != 0 {
        return Err(CertificateError::Der("public key"));
    }
    let (rsa, _) = expect(key, TAG_SEQUENCE, "RSA public key")?;
    let (modulus, rest) = expect(rsa, TAG_INTEGER, "RSA modulus")?;
    let (exponent, _) = expect(rest, TAG_INTEGER, "RSA exponent")?;

    let sha1 = Sha1::digest(der);
    Ok(CertificateKey {
        thumbprint: sha1.iter().map(|b| format!("{b:02X}")).collect(),
        x5t: URL_SAFE_NO_PAD.encode(sha1),
        x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(der)),
        not_before,
        not_after,
        modulus: strip_leading_zeros(modulus),
        exponent: strip_leading_zeros(exponent),
    })
}

fn strip_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn read_time(input: &[u8]) -> Result<(DateTime<Utc>, &[u8]), CertificateError> {
    let (tag, content, rest) = read_tlv(input)?;
    let text = std::str::from_utf8(content).map_err(|_| CertificateError::Der("time"))?;
    let digits = text
        .strip_suffix('Z')
        .ok_or(CertificateError::Der("time zone"))?;
    let full = match (tag, digits.len()) {
        (TAG_UTC_TIME, 12) => {
            let yy: u32 = digits[..2]
                .parse()
                .map_err(|_| CertificateError::Der("time"))?;
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{digits}")
        }
        (TAG_GENERALIZED_TIME, 14) => digits.to_owned(),
        _ => return Err(CertificateError::Der("time")),
    };
    let num = |range: std::ops::Range<usize>| -> Result<u32, CertificateError> {
        full.get(range)
            .and_then(|s| s.parse().ok())
            .ok_or(CertificateError::Der("time"))
    };
    let year = i32::try_from(num(0..4)?).map_err(|_| CertificateError::Der("time"))?;
    let (month, day) = (num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(8..10)?, num(10..12)?, num(12..14)?);
    let time = NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(hour, minute, second))
        .ok_or(CertificateError::Der("time"))?;
    Ok((time.and_utc(), rest))
}

// --- the store -----------------------------------------------------------------------------

#[derive(Debug, Default)]
pub struct CertificateStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Lower-case app id -> certificates registered for it (scenario first, then run time).
    by_app: HashMap<String, Vec<Arc<CertificateKey>>>,
    /// `client_id|jti` of accepted assertions -> their `exp` (epoch seconds), for replay checks.
    seen_jti: HashMap<String, i64>,
}

impl CertificateStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the scenario's certificates (already validated by `Scenario::load`).
    pub fn seed(&self, scenario: &Scenario) {
        for tenant in &scenario.tenants {
            for app in &tenant.applications {
                for cert in &app.certificates {
                    if let Ok(key) = parse_certificate(&cert.certificate_pem) {
                        self.register(&app.app_id, key);
                    }
                }
            }
        }
    }

    /// Adds a certificate to an app; registering the same certificate twice is a no-op.
    /// Returns the stored key.
    pub fn register(&self, app_id: &str, key: CertificateKey) -> Arc<CertificateKey> {
        let mut inner = self.inner.lock();
        let list = inner.by_app.entry(app_id.to_ascii_lowercase()).or_default();
        if let Some(existing) = list.iter().find(|k| k.thumbprint == key.thumbprint) {
            return existing.clone();
        }
        let key = Arc::new(key);
        list.push(key.clone());
        key
    }

    pub fn for_app(&self, app_id: &str) -> Vec<Arc<CertificateKey>> {
        self.inner
            .lock()
            .by_app
            .get(&app_id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// Records an accepted assertion's `jti`. Returns false when this client already used it.
    /// Entries are forgotten once their assertion has expired (plus skew), since an expired
    /// assertion is refused anyway.
    pub fn use_jti(&self, client_id: &str, jti: &str, exp: i64, now: i64) -> bool {
        let key = format!("{}|{jti}", client_id.to_ascii_lowercase());
        let mut inner = self.inner.lock();
        inner
            .seen_jti
            .retain(|_, e| *e + crate::sts::assertion::CLOCK_SKEW_SECONDS >= now);
        if inner.seen_jti.contains_key(&key) {
            return false;
        }
        inner.seen_jti.insert(key, exp);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap_or_else(|e| panic!("{e}"));
        let cert = rcgen::CertificateParams::new(vec!["x".to_owned()])
            .and_then(|p| p.self_signed(&key))
            .unwrap_or_else(|e| panic!("{e}"));
        (cert.pem(), cert.der().to_vec())
    }

    #[test]
    fn non_rsa_certificates_are_refused_after_a_full_walk() {
        let (pem, _) = self_signed();
        assert_eq!(parse_certificate(&pem), Err(CertificateError::NotRsa));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            parse_certificate("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            Err(CertificateError::Base64)
        );
        assert_eq!(
            parse_certificate("  "),
            Err(CertificateError::NoCertificate)
        );
        assert_eq!(
            parse_certificate("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            Err(CertificateError::NoCertificate)
        );
        assert!(matches!(
            parse_certificate("MAMCAQA="),
            Err(CertificateError::Der(_))
        ));
    }

    #[test]
    fn times_parse_in_both_encodings() {
        let utc = [
            TAG_UTC_TIME,
            13,
            b'4',
            b'9',
            b'1',
            b'2',
            b'3',
            b'1',
            b'2',
            b'3',
            b'5',
            b'9',
            b'5',
            b'9',
            b'Z',
        ];
        let (t, rest) = read_time(&utc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_rfc3339(), "2049-12-31T23:59:59+00:00");
        assert!(rest.is_empty());
        let mut generalized = vec![TAG_GENERALIZED_TIME, 15];
        generalized.extend_from_slice(b"99991231235959Z");
        let (t, _) = read_time(&generalized).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }

    #[test]
    fn jti_is_single_use_per_client() {
        let store = CertificateStore::new();
        assert!(store.use_jti("A", "j1", 1_000, 900));
        assert!(!store.use_jti("a", "j1", 1_000, 901));
        assert!(store.use_jti("b", "j1", 1_000, 902));
    }
}
