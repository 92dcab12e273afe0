//! Helpers for the interactive flows (authorize + code redemption, device code) and for
//! certificate client assertions. The emulator has no login page: tests script who signs in
//! through the control plane.

#![allow(dead_code)]

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::common::*;

pub const LOOPBACK: &str = "http://localhost:51234/";
pub const BREAKGLASS_UPN: &str = "breakglass@contoso-csp.onmicrosoft.com";
pub const GUEST_ID: &str = "a1000001-0000-4000-8000-000000000003";
pub const GUEST_UPN: &str = "guest.auditor_fabrikam.example#EXT#@contoso-csp.onmicrosoft.com";
pub const DISABLED_ID: &str = "a1000001-0000-4000-8000-000000000005";
pub const BREAKGLASS_ID: &str = "a1000001-0000-4000-8000-000000000004";
pub const PC_USER_SCOPE: &str =
    "https://api.partnercenter.microsoft.com/user_impersonation openid profile offline_access";

/// RFC 7636 appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// What `/authorize` answered.
#[derive(Debug)]
pub struct AuthorizeReply {
    pub status: StatusCode,
    pub location: Option<String>,
    /// Query (or fragment) parameters of the redirect.
    pub params: HashMap<String, String>,
    pub body: String,
}

impl AuthorizeReply {
    pub fn code(&self) -> String {
        assert_eq!(self.status, StatusCode::FOUND, "{self:?}");
        self.params
            .get("code")
            .unwrap_or_else(|| panic!("no code in {self:?}"))
            .clone()
    }

    /// Asserts an error redirect and returns its description.
    pub fn error(&self, want_error: &str, want_code: u32) -> String {
        assert_eq!(self.status, StatusCode::FOUND, "{self:?}");
        assert!(!self.params.contains_key("code"), "{self:?}");
        assert_eq!(
            self.params.get("error").map(String::as_str),
            Some(want_error),
            "{self:?}"
        );
        let description = self
            .params
            .get("error_description")
            .cloned()
            .unwrap_or_default();
        assert!(
            description.starts_with(&format!("AADSTS{want_code}: ")),
            "{description}"
        );
        assert!(description.contains("\r\nTrace ID: "), "{description:?}");
        description
    }
}

pub fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

/// Standard v2 authorize parameters for the demo public client with PKCE S256.
pub fn authorize_params(client_id: &str, redirect_uri: &str) -> Vec<(String, String)> {
    [
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("response_mode", "query"),
        ("scope", PC_USER_SCOPE),
        ("state", "st-123"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("prompt", "login"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn with(
    mut params: Vec<(String, String)>,
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != name);
    if let Some(v) = value {
        params.push((name.to_owned(), v.to_owned()));
    }
    params
}

impl Env {
    pub async fn authorize_at(&self, path: &str, params: &[(String, String)]) -> AuthorizeReply {
        let resp = no_redirect_client()
            .get(self.url(path))
            .query(params)
            .send()
            .await
            .expect("authorize sent");
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.text().await.unwrap_or_default();
        let params = location
            .as_deref()
            .map(|l| {
                let url = url::Url::parse(l).expect("Location is a URL");
                let source = match url.fragment() {
                    Some(f) => f.to_owned(),
                    None => url.query().unwrap_or_default().to_owned(),
                };
                url::form_urlencoded::parse(source.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        AuthorizeReply {
            status,
            location,
            params,
            body,
        }
    }

    pub async fn authorize(&self, tenant: &str, params: &[(String, String)]) -> AuthorizeReply {
        self.authorize_at(&format!("/{tenant}/oauth2/v2.0/authorize"), params)
            .await
    }

    pub async fn next_sign_in(&self, body: Value) {
        let (s, b) = self.post_json("/_emulator/sign-in/next", body).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }

    pub async fn advance(&self, seconds: u64) {
        let (s, b) = self
            .post_json("/_emulator/clock/advance", json!({"seconds": seconds}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }

    /// Redeems a code for the demo public client with the RFC 7636 verifier.
    pub async fn redeem_public(&self, code: &str) -> (StatusCode, Value) {
        let (s, b, _) = self
            .token(
                TENANT,
                "v2",
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", PUBLIC_APP),
                    ("code", code),
                    ("redirect_uri", LOOPBACK),
                    ("code_verifier", VERIFIER),
                    ("scope", PC_USER_SCOPE),
                ],
            )
            .await;
        (s, b)
    }

    pub async fn devicecode(
        &self,
        tenant: &str,
        version: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let path = if version == "v2" {
            format!("/{tenant}/oauth2/v2.0/devicecode")
        } else {
            format!("/{tenant}/oauth2/devicecode")
        };
        let resp = self
            .http
            .post(self.url(&path))
            .form(form)
            .send()
            .await
            .expect("devicecode sent");
        let (s, b, _) = split(resp).await;
        (s, b)
    }
}

// --- certificates and client assertions ----------------------------------------------------

pub const KEY_A: &str = include_str!("fixtures/client-key-a.pem");
pub const KEY_B: &str = include_str!("fixtures/client-key-b.pem");

/// A calendar date (year, month, day).
pub type Ymd = (i32, u8, u8);

pub struct TestCert {
    pub pem: String,
    pub der: Vec<u8>,
    pub key_pem: &'static str,
}

impl TestCert {
    /// A self-signed certificate for a fixed test key, valid 1975–4096 unless `validity` says
    /// otherwise.
    pub fn new(key_pem: &'static str, validity: Option<(Ymd, Ymd)>) -> TestCert {
        let key = rcgen::KeyPair::from_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256)
            .expect("fixture key loads");
        let mut params = rcgen::CertificateParams::new(vec!["partnersec-test-client".to_owned()])
            .expect("params");
        if let Some(((y1, m1, d1), (y2, m2, d2))) = validity {
            params.not_before = rcgen::date_time_ymd(y1, m1, d1);
            params.not_after = rcgen::date_time_ymd(y2, m2, d2);
        }
        let cert = params.self_signed(&key).expect("self-signed certificate");
        TestCert {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key_pem,
        }
    }

    pub fn thumbprint(&self) -> String {
        Sha1::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha1::digest(&self.der))
    }

    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.der))
    }

    /// A client assertion. `edit` can change the claims before signing.
    pub fn assertion(
        &self,
        alg: Algorithm,
        header_ids: (bool, bool),
        client_id: &str,
        aud: &str,
        edit: impl FnOnce(&mut Value),
    ) -> String {
        let mut header = Header::new(alg);
        if header_ids.0 {
            header.x5t = Some(self.x5t());
        }
        if header_ids.1 {
            header.x5t_s256 = Some(self.x5t_s256());
        }
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "aud": aud, "iss": client_id, "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now, "iat": now, "exp": now + 600,
        });
        edit(&mut claims);
        let key = EncodingKey::from_rsa_pem(self.key_pem.as_bytes()).expect("RSA key");
        jsonwebtoken::encode(&header, &claims, &key).expect("assertion signs")
    }
}

pub fn token_endpoint(env: &Env, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", env.emu.base_url)
}

pub fn assertion_form<'a>(client_id: &'a str, assertion: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client_id),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ]
}

pub async fn register_cert(env: &Env, app_id: &str, cert: &TestCert) -> Value {
    let (s, b) = env
        .post_json(
            &format!("/_emulator/applications/{app_id}/certificates"),
            json!({"certificatePem": cert.pem}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}
