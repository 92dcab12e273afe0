//! The core against the real emulator (in-process, over TLS): every grant, the cache, rotation,
//! error mapping and certificate trust. The emulator is an independent implementation of
//! Microsoft's contracts, so these tests catch a contract misread on either side.

use partnersecurity_core::auth::assertion::CertificateCredential;
use partnersecurity_core::auth::{ClientCredential, Grant, TokenRequest, TokenTarget};
use partnersecurity_core::environment::{CustomEnvironment, Environment};
use partnersecurity_core::http::HttpClients;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::{AccountType, ConnectRequest};
use partnersecurity_core::signin::{SignInPrompt, SignInRequest};
use partnersecurity_core::{AccessTokenRequest, Error, ErrorKind, PartnerSecurity};
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::{RunningEmulator, serve};
use serde_json::{Value, json};
use std::sync::Arc;

const TENANT: &str = "6b3f2c1a-9d4e-4c7b-8a21-5e0f7d9c3b10";
const SAM_APP: &str = "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f";
const SAM_SECRET: &str = "demo-secret-sam-app-0001-NOT-A-REAL-SECRET";
const ADMIN: &str = "a1000001-0000-4000-8000-000000000001";
const PUBLIC_CLIENT: &str = "3c5e7a9b-4d6f-4b8a-9c1e-2f3a4b5c6d7e";

struct Fixture {
    emulator: RunningEmulator,
    scenario: Value,
    core: PartnerSecurity,
    control: reqwest::Client,
}

impl Fixture {
    async fn start() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../emulator/scenarios/demo.json");
        let scenario: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("demo scenario")).expect("scenario JSON");
        let emulator = serve(EmulatorConfig::new(ScenarioSource::File(path.into())).with_tls(true)).await.expect("emulator starts");
        let pem = emulator.certificate_pem.clone().expect("TLS certificate");
        let core = PartnerSecurity::new();
        core.environments().add(environment(&emulator.base_url, Some(pem.clone()))).expect("environment");
        let control = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem")])
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("control client");
        Fixture { emulator, scenario, core, control }
    }

    fn refresh_token(&self, consent: &str) -> Secret {
        let consents = self.scenario["tenants"][0]["consents"].as_array().expect("consents");
        let value = consents.iter().find(|c| c["name"] == consent).and_then(|c| c["refreshToken"].as_str()).expect("consent");
        Secret::new(value)
    }

    fn scope(&self, path: &str) -> String {
        format!("{}/{path}", self.emulator.base_url)
    }

    async fn control(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_emulator/{path}", self.emulator.base_url);
        let request = match body {
            Some(body) => self.control.post(url).json(&body),
            None => self.control.get(url),
        };
        let response = request.send().await.expect("control call");
        assert!(response.status().is_success(), "control {path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    /// Token requests the emulator saw so far.
    async fn token_requests(&self) -> usize {
        let log = self.control("requests", None).await;
        let entries = log.as_array().cloned().or_else(|| log["requests"].as_array().cloned()).unwrap_or_default();
        entries.iter().filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/token"))).count()
    }

    fn sam(&self, consent: &str) -> ConnectRequest {
        ConnectRequest::RefreshToken {
            application_id: SAM_APP.into(),
            credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
            refresh_token: self.refresh_token(consent),
            tenant: Some(TENANT.into()),
        }
    }
}

fn environment(base: &str, pem: Option<String>) -> CustomEnvironment {
    CustomEnvironment {
        name: "Emulator".into(),
        active_directory_authority: base.into(),
        graph_endpoint: format!("{base}/graph"),
        partner_center_endpoint: format!("{base}/partnercenter"),
        trusted_certificate_pem: pem,
        ..Default::default()
    }
}

fn sts_code(error: &Error) -> Option<u32> {
    match error {
        Error::Sts(sts) => sts.primary_code(),
        _ => None,
    }
}

#[tokio::test]
async fn refresh_token_session_reads_the_partner_profile_and_proves_mfa() {
    let f = Fixture::start().await;
    let context = f.core.connect("Emulator", f.sam("sam-admin")).await.expect("connect");
    assert_eq!(context.account.kind, AccountType::User);
    assert_eq!(context.account.tenant, TENANT);
    assert_eq!(context.account.object_id.as_deref(), Some(ADMIN));
    assert_eq!(context.country_code.as_deref(), Some("US"));
    assert_eq!(context.locale.as_deref(), Some("en-US"));
    assert!(context.authentication_methods.iter().any(|m| m == "mfa"));
    assert!(context.has_refresh_token);
    assert!(context.warnings.is_empty(), "{:?}", context.warnings);
}

#[tokio::test]
async fn a_cached_token_causes_no_request_and_eight_concurrent_callers_cause_one() {
    let f = Fixture::start().await;
    f.core.connect("Emulator", f.sam("sam-admin")).await.expect("connect");
    let session = f.core.session().expect("session");
    let graph = vec![f.scope("graph/.default")];
    let before = f.token_requests().await;
    let mut callers = Vec::new();
    for _ in 0..8 {
        let session = session.clone();
        let graph = graph.clone();
        let http = Arc::new(HttpClients::new());
        callers.push(tokio::spawn(async move { session.access_token(&http, &graph).await.map(|t| t.expires_on) }));
    }
    for caller in callers {
        caller.await.expect("join").expect("token");
    }
    assert_eq!(f.token_requests().await - before, 1, "eight concurrent callers share one token request");
    session.access_token(f.core.http(), &graph).await.expect("cached");
    assert_eq!(f.token_requests().await - before, 1, "a valid cached token causes no request");
}

#[tokio::test]
async fn each_exchange_rotates_the_refresh_token_and_the_new_one_works() {
    let f = Fixture::start().await;
    let request = |rt: Secret| AccessTokenRequest::RefreshToken {
        application_id: Some(SAM_APP.into()),
        credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
        refresh_token: rt,
        scopes: vec![f.scope("graph/.default")],
        tenant: Some(TENANT.into()),
    };
    let first = f.core.new_access_token("Emulator", request(f.refresh_token("sam-admin"))).await.expect("first");
    let rotated = first.response.refresh_token.clone().expect("a new refresh token");
    assert_ne!(rotated.expose(), f.refresh_token("sam-admin").expose());
    let second = f.core.new_access_token("Emulator", request(rotated.clone())).await.expect("the rotated token works");
    assert_ne!(second.response.refresh_token.expect("rotated again").expose(), rotated.expose());
    assert_eq!(second.tenant_id.as_deref(), Some(TENANT));
}

#[tokio::test]
async fn v1_resource_requests_read_string_numbers() {
    let f = Fixture::start().await;
    let env = f.core.environments().get("Emulator").expect("env");
    let request = TokenRequest {
        tenant: TENANT.into(),
        client_id: SAM_APP.into(),
        credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
        grant: Grant::RefreshToken(f.refresh_token("sam-admin")),
        target: TokenTarget::Resource(f.scope("partnercenter")),
    };
    let response = partnersecurity_core::auth::token::request_token(f.core.http(), &env, &request).await.expect("v1 token");
    assert_eq!(response.resource.as_deref(), Some(f.scope("partnercenter").as_str()));
    assert!(response.expires_on > chrono::Utc::now());
    assert_eq!(response.claims.audience.as_deref(), Some(f.scope("partnercenter").as_str()));
}

#[tokio::test]
async fn service_principal_tokens_are_app_only() {
    let f = Fixture::start().await;
    let token = f
        .core
        .new_access_token(
            "Emulator",
            AccessTokenRequest::ServicePrincipal {
                application_id: SAM_APP.into(),
                credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
                scopes: vec![f.scope("graph/.default")],
                tenant: TENANT.into(),
            },
        )
        .await
        .expect("client credentials");
    assert!(token.response.claims.is_app_only());
    assert!(token.response.claims.roles.iter().any(|r| r == "AuditLog.Read.All"));
    assert!(token.response.refresh_token.is_none());
}

#[tokio::test]
async fn entra_errors_arrive_typed_with_their_codes() {
    let f = Fixture::start().await;
    let wrong_secret = ConnectRequest::RefreshToken {
        application_id: SAM_APP.into(),
        credential: ClientCredential::Secret(Secret::new("not-the-secret")),
        refresh_token: f.refresh_token("sam-admin"),
        tenant: Some(TENANT.into()),
    };
    let err = f.core.connect("Emulator", wrong_secret).await.unwrap_err();
    assert_eq!(sts_code(&err), Some(7000215));
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!err.to_string().contains("not-the-secret"));

    let err = f.core.connect("Emulator", f.sam("sam-admin-stale")).await.unwrap_err();
    assert_eq!(sts_code(&err), Some(700082));
    assert!(err.to_string().contains("90 days"));

    let unknown_tenant = ConnectRequest::ServicePrincipal {
        application_id: SAM_APP.into(),
        credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
        tenant: "no-such-tenant.onmicrosoft.com".into(),
    };
    let err = f.core.connect("Emulator", unknown_tenant).await.unwrap_err();
    assert_eq!(sts_code(&err), Some(90002));
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(f.core.context().is_none(), "failed sign-ins leave no session");
}

#[tokio::test]
async fn an_access_token_session_cannot_renew_and_says_so() {
    let f = Fixture::start().await;
    let token = f
        .core
        .new_access_token(
            "Emulator",
            AccessTokenRequest::RefreshToken {
                application_id: Some(SAM_APP.into()),
                credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
                refresh_token: f.refresh_token("sam-admin"),
                scopes: vec![f.scope("partnercenter/user_impersonation")],
                tenant: Some(TENANT.into()),
            },
        )
        .await
        .expect("token");
    let context = f.core.connect("Emulator", ConnectRequest::AccessToken { access_token: token.response.access_token.clone(), tenant: None }).await.expect("connect");
    assert_eq!(context.account.kind, AccountType::AccessToken);
    assert!(!context.has_refresh_token);
    let session = f.core.session().expect("session");
    let err = session.access_token(f.core.http(), &[f.scope("graph/.default")]).await.unwrap_err();
    assert!(err.to_string().contains("-RefreshToken"), "{err}");
}

#[tokio::test]
async fn the_emulator_certificate_is_trusted_only_when_the_environment_says_so() {
    let f = Fixture::start().await;
    let untrusted = Environment { trusted_certificate_pem: None, ..f.core.environments().get("Emulator").expect("env") };
    let mut custom = environment(&f.emulator.base_url, None);
    custom.name = "Untrusted".into();
    f.core.environments().add(custom).expect("untrusted env");
    let err = f.core.connect("Untrusted", f.sam("sam-admin")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(untrusted.trusted_certificate_pem.is_none());
}

#[tokio::test]
async fn device_code_sign_in_completes_when_approved() {
    let f = Fixture::start().await;
    f.control("device-codes/auto-approve", Some(json!({"afterPolls": 1, "userId": ADMIN, "mfa": true}))).await;
    let request = SignInRequest {
        tenant: Some(TENANT.into()),
        application_id: Some(PUBLIC_CLIENT.into()),
        credential: ClientCredential::None,
        scopes: vec![f.scope("partnercenter/user_impersonation")],
        use_device_code: true,
        login_hint: None,
    };
    let (id, prompt) = f.core.begin_sign_in("Emulator", request).await.expect("device code");
    let SignInPrompt::DeviceCode { message, user_code, .. } = prompt else { panic!("expected a device code prompt") };
    assert!(message.contains(&user_code));
    let context = f.core.finish_sign_in_and_connect(&id).await.expect("approved");
    assert_eq!(context.account.object_id.as_deref(), Some(ADMIN));
    assert!(context.authentication_methods.iter().any(|m| m == "mfa"));
    assert!(context.has_refresh_token);
}

#[tokio::test]
async fn browser_sign_in_redeems_the_code_with_pkce() {
    let f = Fixture::start().await;
    let request = SignInRequest {
        tenant: Some(TENANT.into()),
        application_id: Some(SAM_APP.into()),
        credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
        scopes: vec![f.scope("partnercenter/user_impersonation")],
        use_device_code: false,
        login_hint: None,
    };
    let (id, prompt) = f.core.begin_sign_in("Emulator", request).await.expect("begin");
    let SignInPrompt::Browser { url, redirect_uri } = prompt else { panic!("expected a browser prompt") };
    // Play the browser: the emulator signs the scenario's interactive user in and redirects.
    let answer = f.control.get(&url).send().await.expect("authorize");
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let location = answer.headers()["location"].to_str().expect("location").to_owned();
    assert!(location.starts_with(&redirect_uri), "{location}");
    let finish = tokio::spawn(async move { f.core.finish_sign_in_for_token(&id).await.map(|t| (t, f)) });
    let page = reqwest::get(&location).await.expect("loopback").text().await.expect("page");
    assert!(page.contains("Sign-in complete"));
    let (token, _f) = finish.await.expect("join").expect("redeemed");
    assert!(token.response.claims.has_mfa());
    assert!(token.response.refresh_token.is_some());
    assert!(token.response.id_token.is_some());
}

#[tokio::test]
async fn certificate_credentials_sign_the_app_in() {
    let f = Fixture::start().await;
    let key_pem = include_str!("fixtures/test-app-certificate-key.pem");
    let key = rcgen::KeyPair::from_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256).expect("test key");
    let certificate = rcgen::CertificateParams::new(vec!["partnersecurity-core-test".to_owned()]).expect("params").self_signed(&key).expect("certificate");
    f.control(&format!("applications/{SAM_APP}/certificates"), Some(json!({"certificatePem": certificate.pem()}))).await;
    let credential = CertificateCredential { certificate_der: certificate.der().to_vec(), private_key_pem: Secret::new(key_pem) };
    let context = f
        .core
        .connect("Emulator", ConnectRequest::ServicePrincipal { application_id: SAM_APP.into(), credential: ClientCredential::Certificate(credential), tenant: TENANT.into() })
        .await
        .expect("certificate sign-in");
    assert_eq!(context.account.kind, AccountType::Certificate);
}

#[tokio::test]
async fn a_refresh_token_session_renews_itself_past_the_access_token_lifetime() {
    // Access tokens that live 302 s are inside the 5-minute skew after two seconds: the session
    // must fetch a new one by itself, rotating the refresh token as it does.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../emulator/scenarios/demo.json");
    let mut scenario: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("scenario")).expect("json");
    scenario["accessTokenLifetimeSeconds"] = json!(302);
    let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(scenario.to_string())).with_tls(true)).await.expect("emulator");
    let core = PartnerSecurity::new();
    core.environments().add(environment(&emulator.base_url, emulator.certificate_pem.clone())).expect("env");
    let consent = scenario["tenants"][0]["consents"][0]["refreshToken"].as_str().expect("rt");
    let connect = ConnectRequest::RefreshToken {
        application_id: SAM_APP.into(),
        credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
        refresh_token: Secret::new(consent),
        tenant: Some(TENANT.into()),
    };
    let context = core.connect("Emulator", connect).await.expect("connect");
    let first_expiry = context.access_token_expires_on;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let session = core.session().expect("session");
    let scope = vec![format!("{}/partnercenter/user_impersonation", emulator.base_url)];
    let renewed = session.access_token(core.http(), &scope).await.expect("renewed");
    assert!(renewed.expires_on > first_expiry, "a new access token was fetched");
    let again = session.access_token(core.http(), &scope).await.expect("renewed again");
    assert!(again.expires_on >= renewed.expires_on);
    assert!(session.cache_stats().misses >= 2, "each renewal went to the token endpoint");
}
