//! Client assertions: the signed JWT a confidential client presents instead of a secret when
//! its credential is a certificate (RFC 7523; Microsoft's "certificate credentials").

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// How long an assertion is valid; Microsoft's guidance is 5–10 minutes.
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate credential: the DER certificate and its RSA private key (PKCS#8 or PKCS#1 PEM).
#[derive(Clone)]
pub struct CertificateCredential {
    pub certificate_der: Vec<u8>,
    pub private_key_pem: Secret,
}

impl std::fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateCredential").field("thumbprint", &self.thumbprint()).finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl CertificateCredential {
    /// The SHA-1 thumbprint in upper-case hex, as Windows shows it.
    pub fn thumbprint(&self) -> String {
        hex::encode_upper(Sha1::digest(&self.certificate_der))
    }

    /// Signs an assertion for `client_id` whose audience is the token endpoint it is sent to.
    pub fn assertion(&self, client_id: &str, token_endpoint: &str) -> Result<Secret> {
        let key = EncodingKey::from_rsa_pem(self.private_key_pem.expose().as_bytes())
            .map_err(|_| Error::invalid_input("CertificateThumbprint", "the certificate's private key is not an RSA key that can sign (PKCS#1 or PKCS#8 PEM expected)"))?;
        let mut header = Header::new(Algorithm::RS256);
        header.x5t = Some(URL_SAFE_NO_PAD.encode(Sha1::digest(&self.certificate_der)));
        header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&self.certificate_der)));
        let now = Utc::now().timestamp();
        let claims = AssertionClaims {
            aud: token_endpoint,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &key)
            .map(Secret::new)
            .map_err(|e| Error::invalid_input("CertificateThumbprint", format!("signing the client assertion failed ({e})")))
    }
}
