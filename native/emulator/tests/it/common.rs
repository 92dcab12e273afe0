//! Helpers shared by the integration tests: start an emulator in-process on the demo
//! scenario, call it with reqwest, check STS error shapes, verify JWTs against the JWKS with
//! an independent JWT library.

#![allow(dead_code)]

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use partnersecurity_emulator::{EmulatorConfig, RunningEmulator, ScenarioSource, serve};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

// --- demo scenario identifiers (scenarios/demo.json) -------------------------------------

pub const TENANT: &str = "6b3f2c1a-9d4e-4c7b-8a21-5e0f7d9c3b10";
pub const DOMAIN: &str = "contoso-csp.onmicrosoft.com";
pub const CUSTOMER_TENANT: &str = "2d7e9f10-4b6a-4c3d-9e8f-0a1b2c3d4e5f";

pub const ADMIN_ID: &str = "a1000001-0000-4000-8000-000000000001";
pub const ADMIN_UPN: &str = "adminagent@contoso-csp.onmicrosoft.com";
pub const ADMIN_PASSWORD: &str = "demo-password-adminagent-1!";
pub const SALES_ID: &str = "a1000001-0000-4000-8000-000000000002";
pub const DISABLED_UPN: &str = "former.employee@contoso-csp.onmicrosoft.com";
pub const DISABLED_PASSWORD: &str = "demo-password-former-5!";
pub const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";

pub const SAM_APP: &str = "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f";
pub const SAM_SECRET: &str = "demo-secret-sam-app-0001-NOT-A-REAL-SECRET";
pub const LEGACY_APP: &str = "7e1d3b5f-2a4c-4e6a-8c0e-9f1a2b3c4d5e";
pub const LEGACY_SECRET: &str = "demo-secret-legacy-expired-0002-NOT-A-REAL-SECRET";
pub const PUBLIC_APP: &str = "3c5e7a9b-4d6f-4b8a-9c1e-2f3a4b5c6d7e";
pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

pub const RT_ADMIN: &str =
    "1.AdemoRefreshToken-sam-admin-mfa-0001-NOT-A-REAL-TOKEN-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const RT_SALES: &str =
    "1.AdemoRefreshToken-sam-sales-nomfa-0002-NOT-A-REAL-TOKEN-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub const RT_AGING: &str =
    "1.AdemoRefreshToken-sam-admin-aging-0003-NOT-A-REAL-TOKEN-cccccccccccccccccccccccccccccc";
pub const RT_STALE: &str =
    "1.AdemoRefreshToken-sam-admin-stale-0004-NOT-A-REAL-TOKEN-dddddddddddddddddddddddddddddd";
pub const RT_AZCLI: &str =
    "1.AdemoRefreshToken-azcli-admin-mfa-0005-NOT-A-REAL-TOKEN-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

pub const PC: &str = "https://api.partnercenter.microsoft.com";
pub const GRAPH: &str = "https://graph.microsoft.com";

pub fn demo_json() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.json"))
        .expect("demo scenario readable")
}

/// The demo scenario with a change applied (e.g. MFA not required).
pub fn demo_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(&demo_json()).expect("demo scenario is JSON");
    edit(&mut v);
    v.to_string()
}

pub struct Env {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
}

pub fn install_crypto_provider() {
    // Err only means another test installed it already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(demo_json()).await
    }

    pub async fn start_with(scenario: String) -> Env {
        install_crypto_provider();
        let emu = serve(EmulatorConfig::new(ScenarioSource::Json(scenario)))
            .await
            .expect("emulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client builds");
        Env { emu, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url)
    }

    /// POSTs a token request. `version` is "v2" or "v1".
    pub async fn token(
        &self,
        tenant: &str,
        version: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value, HeaderMap) {
        let path = if version == "v2" {
            format!("/{tenant}/oauth2/v2.0/token")
        } else {
            format!("/{tenant}/oauth2/token")
        };
        let resp = self
            .http
            .post(self.url(&path))
            .form(form)
            .send()
            .await
            .expect("token request sent");
        split(resp).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> (StatusCode, Value, HeaderMap) {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        split(req.send().await.expect("GET sent")).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST sent");
        let (s, v, _) = split(resp).await;
        (s, v)
    }

    /// Access token from a successful request (panics with the body otherwise).
    pub async fn access_token(&self, tenant: &str, version: &str, form: &[(&str, &str)]) -> String {
        let (status, body, _) = self.token(tenant, version, form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn app_token(&self, scope: &str) -> String {
        self.access_token(
            TENANT,
            "v2",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", SAM_APP),
                ("client_secret", SAM_SECRET),
                ("scope", scope),
            ],
        )
        .await
    }

    pub async fn user_token(&self, refresh_token: &str, scope: &str) -> String {
        self.access_token(
            TENANT,
            "v2",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", SAM_APP),
                ("client_secret", SAM_SECRET),
                ("refresh_token", refresh_token),
                ("scope", scope),
            ],
        )
        .await
    }

    /// Verifies `token` against the published JWKS with jsonwebtoken and returns its claims.
    pub async fn verify(&self, token: &str) -> Value {
        let (status, jwks, _) = self.get("/common/discovery/keys", None).await;
        assert_eq!(status, StatusCode::OK);
        let header = jsonwebtoken::decode_header(token).expect("JWT header");
        let kid = header.kid.expect("kid in header");
        let key = jwks["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
            .expect("kid published in JWKS");
        let decoding = DecodingKey::from_rsa_components(
            key["n"].as_str().expect("n"),
            key["e"].as_str().expect("e"),
        )
        .expect("RSA key from JWKS");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
        jsonwebtoken::decode::<Value>(token, &decoding, &validation)
            .expect("signature verifies against JWKS")
            .claims
    }
}

pub async fn split(resp: reqwest::Response) -> (StatusCode, Value, HeaderMap) {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, headers)
}

/// Checks a complete STS error response (api-contracts §1.10) and returns the description.
pub fn assert_sts_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    want_error: &str,
    want_code: u64,
) -> String {
    assert_eq!(status.as_u16(), want_status, "status for {body}");
    assert_eq!(body["error"], want_error, "error for {body}");
    assert_eq!(
        body["error_codes"],
        serde_json::json!([want_code]),
        "error_codes for {body}"
    );
    let trace = body["trace_id"].as_str().expect("trace_id");
    let correlation = body["correlation_id"].as_str().expect("correlation_id");
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert!(uuid::Uuid::parse_str(trace).is_ok(), "trace_id is a GUID");
    assert!(
        chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%SZ").is_ok(),
        "timestamp format: {timestamp}"
    );
    let description = body["error_description"]
        .as_str()
        .expect("error_description");
    assert!(
        description.starts_with(&format!("AADSTS{want_code}: ")),
        "{description}"
    );
    let trailer =
        format!("\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}");
    assert!(
        description.ends_with(&trailer),
        "trailer of {description:?}"
    );
    assert!(
        body["error_uri"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/error?code={want_code}")))
    );
    description.to_owned()
}

pub fn claims_str<'a>(claims: &'a Value, name: &str) -> &'a str {
    claims[name]
        .as_str()
        .unwrap_or_else(|| panic!("claim {name} missing in {claims}"))
}
