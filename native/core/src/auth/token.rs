//! Token requests to the Entra ID token endpoints (v1 `resource`, v2 `scope`) and their answers.

use crate::auth::assertion::CertificateCredential;
use crate::auth::claims::Claims;
use crate::environment::Environment;
use crate::error::{Error, Result, StsError};
use crate::http::{self, HttpClients};
use crate::secret::Secret;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;
use url::Url;
use zeroize::{Zeroize, Zeroizing};

/// Scopes added to user flows so the answer carries a refresh token and an ID token, as MSAL does.
const USER_FLOW_SCOPES: &[&str] = &["openid", "profile", "offline_access"];

/// How the client application proves who it is.
#[derive(Debug, Clone)]
pub enum ClientCredential {
    /// A public client (native app): no secret.
    None,
    Secret(Secret),
    /// A certificate: each request carries a freshly signed client assertion.
    Certificate(CertificateCredential),
}

/// The `client_assertion_type` for a JWT client assertion.
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The device-code grant type of RFC 8628.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenTarget {
    /// v2 endpoint: scopes such as `https://graph.microsoft.com/.default`.
    Scopes(Vec<String>),
    /// v1 endpoint: a resource such as `https://api.partnercenter.microsoft.com`.
    Resource(String),
}

#[derive(Debug, Clone)]
pub enum Grant {
    RefreshToken(Secret),
    ClientCredentials,
    /// Redeems an authorization code (with the PKCE verifier that went with its challenge).
    AuthorizationCode { code: Secret, redirect_uri: String, code_verifier: Secret },
    /// Polls for a device code the user is approving.
    DeviceCode(Secret),
}

#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Tenant id, verified domain, `organizations` or `common`.
    pub tenant: String,
    pub client_id: String,
    pub credential: ClientCredential,
    pub grant: Grant,
    pub target: TokenTarget,
}

/// A successful answer. Tokens stay wrapped in `Secret` until a caller explicitly asks.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    pub expires_on: DateTime<Utc>,
    /// Granted scopes (v2), or the v1 `scope` value split on spaces.
    pub scopes: Vec<String>,
    /// The v1 `resource`, when answered.
    pub resource: Option<String>,
    pub claims: Claims,
    pub id_token_claims: Option<Claims>,
}

impl TokenRequest {
    pub fn validate(&self) -> Result<()> {
        validate_tenant(&self.tenant)?;
        if self.client_id.trim().is_empty() {
            return Err(Error::invalid_input("ApplicationId", "it is empty"));
        }
        // Entra ID names applications by their client id, a GUID; anything else would only
        // come back as AADSTS700016 after a round trip.
        if uuid::Uuid::try_parse(self.client_id.trim()).is_err() {
            return Err(Error::invalid_input("ApplicationId", format!("'{}' is not an application (client) id; use the GUID shown in the app registration, e.g. 04b07795-8ddb-461a-bbee-02f9e1bf7b46", truncate(self.client_id.trim(), 80))));
        }
        if let Grant::RefreshToken(rt) = &self.grant
            && rt.expose().trim().is_empty()
        {
            return Err(Error::invalid_input("RefreshToken", "it is empty"));
        }
        match &self.target {
            TokenTarget::Scopes(scopes) => {
                if scopes.iter().all(|s| s.trim().is_empty()) {
                    return Err(Error::invalid_input("Scopes", "at least one scope is required, e.g. 'https://api.partnercenter.microsoft.com/user_impersonation'"));
                }
                if let Some(bad) = scopes.iter().find(|s| s.chars().any(|c| c.is_whitespace() || c.is_control())) {
                    return Err(Error::invalid_input("Scopes", format!("'{}' contains white space; pass each scope as its own array element", bad.trim())));
                }
                if matches!(self.grant, Grant::ClientCredentials)
                    && (scopes.len() != 1 || !scopes[0].ends_with("/.default"))
                {
                    return Err(Error::invalid_input("Scopes", "an application (client credentials) sign-in takes exactly one scope ending in '/.default', e.g. 'https://graph.microsoft.com/.default'"));
                }
            }
            TokenTarget::Resource(resource) => {
                if resource.trim().is_empty() {
                    return Err(Error::invalid_input("Resource", "it is empty"));
                }
            }
        }
        if matches!(self.grant, Grant::ClientCredentials) {
            if matches!(self.credential, ClientCredential::None) {
                return Err(Error::invalid_input("Credential", "an application sign-in needs the application's secret (-Credential) or certificate (-CertificateThumbprint)"));
            }
            if is_multi_tenant_alias(&self.tenant) {
                return Err(Error::invalid_input("Tenant", "an application sign-in needs a specific tenant (its id or a verified domain), not 'common' or 'organizations'"));
            }
        }
        Ok(())
    }

    /// The form fields. Values are wiped when the form is dropped: several are secrets (refresh
    /// token, client secret, code, assertion).
    fn form(&self, token_endpoint: &Url) -> Result<Vec<(&'static str, Zeroizing<String>)>> {
        let mut form: Vec<(&'static str, Zeroizing<String>)> = vec![("client_id", field(self.client_id.trim()))];
        match &self.grant {
            Grant::RefreshToken(rt) => {
                form.push(("grant_type", field("refresh_token")));
                form.push(("refresh_token", field(rt.expose())));
            }
            Grant::ClientCredentials => form.push(("grant_type", field("client_credentials"))),
            Grant::AuthorizationCode { code, redirect_uri, code_verifier } => {
                form.push(("grant_type", field("authorization_code")));
                form.push(("code", field(code.expose())));
                form.push(("redirect_uri", field(redirect_uri)));
                form.push(("code_verifier", field(code_verifier.expose())));
            }
            Grant::DeviceCode(device_code) => {
                form.push(("grant_type", field(DEVICE_CODE_GRANT)));
                form.push(("device_code", field(device_code.expose())));
            }
        }
        match &self.target {
            TokenTarget::Scopes(scopes) => {
                let mut all: Vec<String> = scopes.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
                if !matches!(self.grant, Grant::ClientCredentials) {
                    for extra in USER_FLOW_SCOPES {
                        if !all.iter().any(|s| s.eq_ignore_ascii_case(extra)) {
                            all.push((*extra).to_owned());
                        }
                    }
                    form.push(("client_info", field("1")));
                }
                form.push(("scope", field(all.join(" "))));
            }
            TokenTarget::Resource(resource) => form.push(("resource", field(resource.trim()))),
        }
        match &self.credential {
            ClientCredential::None => {}
            ClientCredential::Secret(secret) => form.push(("client_secret", field(secret.expose()))),
            ClientCredential::Certificate(certificate) => {
                let assertion = certificate.assertion(self.client_id.trim(), &http::endpoint_label(token_endpoint))?;
                form.push(("client_assertion_type", field(JWT_BEARER_ASSERTION)));
                form.push(("client_assertion", field(assertion.expose())));
            }
        }
        Ok(form)
    }

    fn secrets(&self) -> Vec<&Secret> {
        let mut secrets = Vec::new();
        match &self.grant {
            Grant::RefreshToken(rt) | Grant::DeviceCode(rt) => secrets.push(rt),
            Grant::AuthorizationCode { code, code_verifier, .. } => {
                secrets.push(code);
                secrets.push(code_verifier);
            }
            Grant::ClientCredentials => {}
        }
        if let ClientCredential::Secret(s) = &self.credential {
            secrets.push(s);
        }
        secrets
    }
}

/// A form value, wiped from memory when dropped.
fn field(value: impl Into<String>) -> Zeroizing<String> {
    Zeroizing::new(value.into())
}

fn is_multi_tenant_alias(tenant: &str) -> bool {
    ["common", "organizations", "consumers"].iter().any(|a| a.eq_ignore_ascii_case(tenant.trim()))
}

/// A tenant is a GUID, a verified domain, or `common`/`organizations`; anything else would let
/// a caller change the token endpoint's path.
pub fn validate_tenant(tenant: &str) -> Result<()> {
    let t = tenant.trim();
    if t.is_empty() {
        return Err(Error::invalid_input("Tenant", "it is empty"));
    }
    if t.len() > 253 || !is_tenant_segment(t) {
        return Err(Error::invalid_input("Tenant", format!("'{}' is neither a tenant id (GUID) nor a domain such as 'contoso.onmicrosoft.com'", truncate(t, 80))));
    }
    Ok(())
}

/// A GUID, a DNS name (a verified domain) or one of the multi-tenant aliases, in ASCII only.
fn is_tenant_segment(t: &str) -> bool {
    (t.len() == 36 && uuid::Uuid::try_parse(t).is_ok()) || is_multi_tenant_alias(t) || is_domain_name(t)
}

/// Two or more labels of 1-63 letters, digits and inner hyphens.
fn is_domain_name(t: &str) -> bool {
    let label_ok = |label: &[u8]| {
        matches!(label.len(), 1..=63)
            && label.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
    };
    t.split('.').all(|label| label_ok(label.as_bytes())) && t.contains('.')
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { format!("{}…", text.chars().take(max).collect::<String>()) }
}

/// The token endpoint URL for a request.
pub fn token_endpoint(environment: &Environment, tenant: &str, target: &TokenTarget) -> Result<Url> {
    let path = match target {
        TokenTarget::Scopes(_) => "oauth2/v2.0/token",
        TokenTarget::Resource(_) => "oauth2/token",
    };
    let text = format!("{}{}/{}", environment.active_directory_authority, tenant.trim(), path);
    Url::parse(&text).map_err(|e| Error::invalid_input("Environment", format!("the authority '{}' does not form a valid URL ({e})", environment.active_directory_authority)))
}

/// Sends a token request and reads the answer.
pub async fn request_token(clients: &HttpClients, environment: &Environment, request: &TokenRequest) -> Result<TokenResponse> {
    request.validate()?;
    let url = token_endpoint(environment, &request.tenant, &request.target)?;
    let client = clients.client(environment.trusted_certificate_pem.as_deref())?;
    let form = request.form(&url)?;
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let mut answer = http::send(&url, &request.secrets(), || {
        client
            .post(url.clone())
            .header("client-request-id", &correlation_id)
            .header("return-client-request-id", "true")
            .form(&form)
    })
    .await?;
    drop(form);
    let parsed = parse_answer(&url, answer.status, &answer.body);
    // The answer's bytes hold the new access and refresh tokens; they now live in `Secret`s only.
    answer.body.zeroize();
    parsed
}

#[derive(Deserialize)]
struct RawSuccess {
    access_token: Zeroizing<String>,
    #[serde(default)]
    refresh_token: Option<Zeroizing<String>>,
    #[serde(default)]
    id_token: Option<Zeroizing<String>>,
    #[serde(default)]
    expires_in: Option<Value>,
    #[serde(default)]
    expires_on: Option<Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
    #[serde(default)]
    suberror: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
}

/// The AADSTS codes mentioned in an error description, in order.
pub fn aadsts_codes(description: &str) -> Vec<u32> {
    description
        .split("AADSTS")
        .skip(1)
        .filter_map(|rest| {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            rest[..digits].parse().ok()
        })
        .collect()
}

/// Reads a token endpoint answer: success JSON, OAuth2 error JSON, or something else.
pub fn parse_answer(url: &Url, status: u16, body: &[u8]) -> Result<TokenResponse> {
    let label = http::endpoint_label(url);
    let invalid = |reason: String| Error::InvalidResponse { url: label.clone(), reason };
    if !(200..300).contains(&status) {
        let Ok(raw) = serde_json::from_slice::<RawError>(body) else {
            return Err(Error::Service {
                service: "Entra ID".into(),
                status,
                code: None,
                message: format!("the token endpoint {label} answered without an OAuth2 error description"),
            });
        };
        let description = raw.error_description.unwrap_or_default();
        // Entra ID echoes what it was sent (a scope, an app id): a huge value is cut, not repeated whole.
        let first_line = truncate(description.lines().next().unwrap_or_default().trim(), 500);
        let mut codes = raw.error_codes;
        if codes.is_empty() {
            codes = aadsts_codes(&description);
        }
        return Err(Error::from(StsError {
            error: raw.error,
            codes,
            description: if first_line.is_empty() { "(no description)".into() } else { first_line },
            suberror: raw.suberror,
            correlation_id: raw.correlation_id,
            trace_id: raw.trace_id,
            status,
        }));
    }
    let raw: RawSuccess = serde_json::from_slice(body).map_err(|e| invalid(format!("the token answer is not the expected JSON ({})", e.classify_name())))?;
    if let Some(kind) = &raw.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(invalid(format!("token_type '{kind}' is not Bearer")));
    }
    let claims = Claims::from_jwt(&raw.access_token, "access token")?;
    let id_token_claims = raw.id_token.as_deref().map(|t| Claims::from_jwt(t, "ID token")).transpose()?;
    let now = Utc::now();
    let expires_on = number(&raw.expires_on)
        .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0))
        .or_else(|| number(&raw.expires_in).map(|secs| now + Duration::seconds(secs)))
        .or(claims.expires_on)
        .ok_or_else(|| invalid("the answer says neither expires_in nor expires_on".into()))?;
    Ok(TokenResponse {
        access_token: Secret::new(raw.access_token.as_str()),
        refresh_token: raw.refresh_token.as_deref().filter(|t| !t.is_empty()).map(Secret::new),
        id_token: raw.id_token.as_deref().filter(|t| !t.is_empty()).map(Secret::new),
        expires_on,
        scopes: raw.scope.map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
        resource: raw.resource,
        claims,
        id_token_claims,
    })
}

/// v1 answers carry numbers as strings, v2 as numbers.
fn number(value: &Option<Value>) -> Option<i64> {
    match value.as_ref()? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Data => "missing or mistyped fields",
            serde_json::error::Category::Eof => "the answer was cut short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn url() -> Url {
        Url::parse("https://login.example/t/oauth2/v2.0/token?x=1").unwrap()
    }

    fn jwt(payload: serde_json::Value) -> String {
        let e = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.s", e(serde_json::json!({"alg":"RS256"})), e(payload))
    }

    fn request(grant: Grant, target: TokenTarget, credential: ClientCredential) -> TokenRequest {
        TokenRequest { tenant: "contoso.onmicrosoft.com".into(), client_id: "3c5e7a9b-4d6f-4b8a-9c1e-2f3a4b5c6d7e".into(), credential, grant, target }
    }

    #[test]
    fn v1_answers_with_string_numbers_parse() {
        let body = serde_json::json!({
            "token_type": "Bearer", "expires_in": "3599", "expires_on": "1900000000", "resource": "https://api.partnercenter.microsoft.com",
            "access_token": jwt(serde_json::json!({"amr": ["pwd","mfa"], "tid": "t"})), "refresh_token": "rt-value", "scope": "user_impersonation"
        });
        let r = parse_answer(&url(), 200, body.to_string().as_bytes()).unwrap();
        assert_eq!(r.expires_on.timestamp(), 1_900_000_000);
        assert!(r.claims.has_mfa());
        assert_eq!(r.refresh_token.unwrap().expose(), "rt-value");
        assert_eq!(r.resource.as_deref(), Some("https://api.partnercenter.microsoft.com"));
    }

    #[test]
    fn aadsts_codes_are_read_in_order_and_oddities_skipped() {
        assert_eq!(aadsts_codes("AADSTS50076: MFA. See AADSTS50079 and AADSTS1."), vec![50076, 50079, 1]);
        assert_eq!(aadsts_codes("AADSTSAADSTS70011 AADSTS: AADSTS99999999999 aadsts50076"), vec![70011]);
        assert!(aadsts_codes("").is_empty());
    }

    #[test]
    fn error_answers_keep_the_aadsts_code_but_not_the_trailer() {
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: 2026",
            "error_codes": [7000215], "correlation_id": "def"
        });
        let Err(Error::Sts(e)) = parse_answer(&url(), 401, body.to_string().as_bytes()) else { panic!("expected an STS error") };
        assert_eq!(e.codes, vec![7000215]);
        assert_eq!(e.description, "AADSTS7000215: Invalid client secret provided.");
        assert_eq!(e.correlation_id.as_deref(), Some("def"));
    }

    #[test]
    fn codes_are_parsed_from_the_description_when_missing() {
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS70002: Error. AADSTS70008: expired"}"#;
        let Err(Error::Sts(e)) = parse_answer(&url(), 400, body) else { panic!() };
        assert_eq!(e.codes, vec![70002, 70008]);
    }

    #[test]
    fn garbage_answers_are_reported_without_echoing_them() {
        let err = parse_answer(&url(), 502, b"<html>bad gateway</html>").unwrap_err();
        assert!(matches!(err, Error::Service { status: 502, .. }));
        assert!(!err.to_string().contains("html"));
        let err = parse_answer(&url(), 200, b"{\"access_token\": \"ab").unwrap_err();
        assert!(err.to_string().contains("malformed JSON") || err.to_string().contains("cut short"), "{err}");
        assert!(!err.to_string().contains("x=1"), "query strings never appear: {err}");
    }

    #[test]
    fn form_adds_user_flow_scopes_and_client_info() {
        let r = request(Grant::RefreshToken(Secret::new("rt")), TokenTarget::Scopes(vec!["https://pc/user_impersonation".into()]), ClientCredential::None);
        let form = r.form(&url()).unwrap();
        let scope = &form.iter().find(|(k, _)| *k == "scope").unwrap().1;
        assert_eq!(scope.as_str(), "https://pc/user_impersonation openid profile offline_access");
        assert!(form.iter().any(|(k, v)| *k == "client_info" && v.as_str() == "1"));
    }

    #[test]
    fn validation_names_the_parameter() {
        let cases = [
            (request(Grant::ClientCredentials, TokenTarget::Scopes(vec!["https://g/User.Read".into()]), ClientCredential::Secret("s".into())), "Scopes"),
            (request(Grant::ClientCredentials, TokenTarget::Scopes(vec!["https://g/.default".into()]), ClientCredential::None), "Credential"),
            (request(Grant::RefreshToken(Secret::new(" ")), TokenTarget::Scopes(vec!["x".into()]), ClientCredential::None), "RefreshToken"),
            (request(Grant::RefreshToken(Secret::new("rt")), TokenTarget::Scopes(vec!["a b".into()]), ClientCredential::None), "Scopes"),
            (request(Grant::RefreshToken(Secret::new("rt")), TokenTarget::Scopes(vec![]), ClientCredential::None), "Scopes"),
        ];
        let mut not_a_guid = request(Grant::ClientCredentials, TokenTarget::Scopes(vec!["https://g/.default".into()]), ClientCredential::Secret("s".into()));
        not_a_guid.client_id = "my-app".into();
        let cases = cases.into_iter().chain([(not_a_guid, "ApplicationId")]);
        for (req, param) in cases {
            let err = req.validate().unwrap_err();
            assert!(err.to_string().contains(&format!("'{param}'")), "{err}");
        }
        let mut common = request(Grant::ClientCredentials, TokenTarget::Scopes(vec!["https://g/.default".into()]), ClientCredential::Secret("s".into()));
        common.tenant = "organizations".into();
        assert!(common.validate().unwrap_err().to_string().contains("'Tenant'"));
    }

    #[test]
    fn tenants_cannot_inject_paths() {
        for ok in ["contoso.onmicrosoft.com", "0f0e7c5c-1c2b-4a4e-8f2a-0123456789ab", "organizations", "Common"] {
            assert!(validate_tenant(ok).is_ok(), "{ok}");
        }
        let longest_label = format!("{}.com", "a".repeat(63));
        for ok in ["a.b", "x-1.y-2.z", "0f0e7c5c-1c2b-4a4e-8f2a-0123456789AB", longest_label.as_str()] {
            assert!(validate_tenant(ok).is_ok(), "{ok}");
        }
        let label_too_long = format!("{}.com", "a".repeat(64));
        let too_long = format!("{}.com", "a.".repeat(125));
        let bad = ["", "../x", "a/b", "contoso", "x?y=1", "a b.com", "tenant%2F..", "-bad.com", "bad-.com", "a..b", "contoso.com.", ".contoso.com"];
        // Not ASCII: the Kelvin sign folds to 'k' under Unicode case-insensitive matching.
        let more = ["\u{212A}.com", "0f0e7c5c1c2b4a4e8f2a0123456789ab", "{0f0e7c5c-1c2b-4a4e-8f2a-0123456789ab}", "commons"];
        for bad in bad.iter().chain(&more).copied().chain([label_too_long.as_str(), too_long.as_str()]) {
            assert!(validate_tenant(bad).is_err(), "{bad}");
        }
    }
}
