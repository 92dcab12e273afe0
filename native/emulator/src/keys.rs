//! The STS signing key: RSA 2048, published as a JWKS with a self-signed certificate (`x5c`)
//! whose SHA-1 thumbprint is the `kid`/`x5t`, as Entra publishes its keys (api-contracts §2.6).
//!
//! The `rsa` crate generates the key (ring cannot); ring signs and verifies, because it is
//! fast even in debug builds, where the pure-Rust big-number code takes tens of milliseconds
//! per signature. Generation itself is slow in debug builds, so one key is generated per
//! process and shared by every emulator started in it (tests start many).

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, RsaPublicKeyComponents};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha1::{Digest as _, Sha1};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed: {0}")]
    Generate(String),
    #[error("key rejected: {0}")]
    Rejected(String),
    #[error("certificate for the signing key: {0}")]
    Certificate(String),
    #[error("signing failed")]
    Sign,
}

pub struct SigningKey {
    key_pair: RsaKeyPair,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    kid: String,
    certificate_der: Vec<u8>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Adapts rand 0.9's thread RNG (a CSPRNG) to the rand_core 0.6 traits the `rsa` crate wants.
struct CompatRng;

impl rsa::rand_core::RngCore for CompatRng {
    fn next_u32(&mut self) -> u32 {
        rand::random()
    }
    fn next_u64(&mut self) -> u64 {
        rand::random()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::fill(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for CompatRng {}

impl SigningKey {
    /// The key shared by every emulator in this process (generated on first use).
    pub fn process_default() -> Result<Arc<SigningKey>, KeyError> {
        static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
        if let Some(k) = KEY.get() {
            return Ok(k.clone());
        }
        let generated = Arc::new(SigningKey::generate()?);
        // A concurrent caller may have won the race; either key is fine, use the stored one.
        Ok(KEY.get_or_init(|| generated).clone())
    }

    pub fn generate() -> Result<Self, KeyError> {
        let private = rsa::RsaPrivateKey::new(&mut CompatRng, 2048)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let pkcs8 = private
            .to_pkcs8_der()
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_pkcs8_der(pkcs8.as_bytes())
    }

    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let key_pair =
            RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| KeyError::Rejected(e.to_string()))?;
        let public = rsa::RsaPublicKey::from(
            <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_der(pkcs8)
                .map_err(|e| KeyError::Rejected(e.to_string()))?,
        );
        let certificate_der = self_signed_certificate(pkcs8)?;
        let kid = URL_SAFE_NO_PAD.encode(Sha1::digest(&certificate_der));
        Ok(Self {
            key_pair,
            modulus: public.n().to_bytes_be(),
            exponent: public.e().to_bytes_be(),
            kid,
            certificate_der,
            rng: SystemRandom::new(),
        })
    }

    /// Key id; also the `x5t` (base64url SHA-1 thumbprint of the certificate).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut sig = vec![0u8; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
            .map_err(|_| KeyError::Sign)?;
        Ok(sig)
    }

    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        let public = RsaPublicKeyComponents {
            n: &self.modulus,
            e: &self.exponent,
        };
        public
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
            .is_ok()
    }

    /// The key as a JWK. v2 key sets carry an `issuer`, v1 ones do not (api-contracts §2.6).
    pub fn jwk(&self, issuer: Option<&str>) -> Value {
        let mut jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.modulus),
            "e": URL_SAFE_NO_PAD.encode(&self.exponent),
            "x5c": [STANDARD.encode(&self.certificate_der)],
        });
        if let (Some(issuer), Some(obj)) = (issuer, jwk.as_object_mut()) {
            obj.insert("issuer".to_owned(), Value::String(issuer.to_owned()));
        }
        jwk
    }
}

fn self_signed_certificate(pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.to_vec());
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| KeyError::Certificate(e.to_string()))?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "partnersec-emulator token signing",
    );
    let cert = params
        .self_signed(&key)
        .map_err(|e| KeyError::Certificate(e.to_string()))?;
    Ok(cert.der().to_vec())
}
