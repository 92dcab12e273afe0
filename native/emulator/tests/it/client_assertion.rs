//! Certificate credentials: client assertions signed with a registered certificate's key.
//! The keys are fixed test fixtures (`fixtures/client-key-*.pem`, test-only); certificates are
//! made from them at test time so their validity can vary.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::flows::*;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

async fn client_credentials(
    env: &Env,
    tenant: &str,
    version: &str,
    assertion: &str,
) -> (StatusCode, Value) {
    let mut form = assertion_form(SAM_APP, assertion);
    form.push(("grant_type", "client_credentials"));
    if version == "v2" {
        form.push(("scope", GRAPH_DEFAULT));
    } else {
        form.push(("resource", GRAPH));
    }
    let (s, b, _) = env.token(tenant, version, &form).await;
    (s, b)
}

#[tokio::test]
async fn a_certificate_registered_at_run_time_authenticates_the_app() {
    let env = Env::start().await;
    let cert = TestCert::new(KEY_A, None);
    let aud = token_endpoint(&env, TENANT);

    // Before registration the key is unknown.
    let assertion = cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {});
    let (s, b) = client_credentials(&env, TENANT, "v2", &assertion).await;
    let d = assert_sts_error(s, &b, 401, "invalid_client", 700027);
    assert!(d.contains(&cert.thumbprint()), "{d}");

    let registered = register_cert(&env, SAM_APP, &cert).await;
    assert_eq!(registered["thumbprint"], cert.thumbprint().as_str());
    assert_eq!(registered["x5t"], cert.x5t().as_str());
    assert_eq!(registered["x5t#S256"], cert.x5t_s256().as_str());

    let (s, b) = client_credentials(&env, TENANT, "v2", &assertion).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let claims = env.verify(b["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["appidacr"], "2");
    assert_eq!(claims["appid"], SAM_APP);
    assert_eq!(claims["idtyp"], "app");

    // The same assertion again is a replay.
    let (s, b) = client_credentials(&env, TENANT, "v2", &assertion).await;
    let d = assert_sts_error(s, &b, 401, "invalid_client", 70002);
    assert!(d.contains("jti"), "{d}");

    // PS256 with only x5t#S256, as the current Microsoft docs describe it.
    let assertion = cert.assertion(Algorithm::PS256, (false, true), SAM_APP, &aud, |_| {});
    let (s, b) = client_credentials(&env, TENANT, "v2", &assertion).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Other accepted audiences: the v1 token URL, `{base}/{tenant}/v2.0`, a domain instead of
    // the tenant id; and the v1 endpoint itself.
    for aud in [
        format!("{}/{TENANT}/oauth2/token", env.emu.base_url),
        format!("{}/{TENANT}/v2.0", env.emu.base_url),
        format!("{}/{DOMAIN}/oauth2/v2.0/token", env.emu.base_url),
    ] {
        let assertion = cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {});
        let (s, b) = client_credentials(&env, TENANT, "v2", &assertion).await;
        assert_eq!(s, StatusCode::OK, "{aud}: {b}");
    }
    let aud = format!("{}/{DOMAIN}/oauth2/token", env.emu.base_url);
    let assertion = cert.assertion(Algorithm::RS256, (true, true), SAM_APP, &aud, |_| {});
    let (s, b) = client_credentials(&env, DOMAIN, "v1", &assertion).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        env.verify(b["access_token"].as_str().expect("at")).await["appidacr"],
        "2"
    );
}

#[tokio::test]
async fn assertion_failures() {
    let env = Env::start().await;
    let cert = TestCert::new(KEY_A, None);
    register_cert(&env, SAM_APP, &cert).await;
    let aud = token_endpoint(&env, TENANT);
    let check = |assertion: String, code: u64| {
        let env = &env;
        async move {
            let (s, b) = client_credentials(env, TENANT, "v2", &assertion).await;
            assert_sts_error(s, &b, 401, "invalid_client", code)
        }
    };

    // Signed by another key, claiming the registered certificate's thumbprint.
    let forged = TestCert {
        pem: cert.pem.clone(),
        der: cert.der.clone(),
        key_pem: KEY_B,
    };
    let d = check(
        forged.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {}),
        700027,
    )
    .await;
    assert!(d.contains("signature"), "{d}");
    // Another certificate altogether.
    let other = TestCert::new(KEY_B, None);
    let d = check(
        other.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {}),
        700027,
    )
    .await;
    assert!(
        d.contains("The key was not found") && d.contains(SAM_APP),
        "{d}"
    );

    check(
        cert.assertion(
            Algorithm::RS256,
            (true, false),
            SAM_APP,
            "https://login.microsoftonline.com/x/oauth2/v2.0/token",
            |_| {},
        ),
        50012,
    )
    .await;
    check(
        cert.assertion(
            Algorithm::RS256,
            (true, false),
            SAM_APP,
            &token_endpoint(&env, CUSTOMER_TENANT),
            |_| {},
        ),
        50012,
    )
    .await;
    check(
        cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |c| {
            c["iss"] = json!(PUBLIC_APP);
            c["sub"] = json!(PUBLIC_APP);
        }),
        700021,
    )
    .await;
    check(
        cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |c| {
            c["sub"] = json!("someone-else")
        }),
        50048,
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    let d = check(
        cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |c| {
            c["exp"] = json!(now - 400)
        }),
        700024,
    )
    .await;
    assert!(
        d.contains("Client assertion is not within its valid time range."),
        "{d}"
    );
    check(
        cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |c| {
            c["nbf"] = json!(now + 3600)
        }),
        700024,
    )
    .await;
    // Within the five minutes of skew both ways.
    let (s, b) = client_credentials(
        &env,
        TENANT,
        "v2",
        &cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |c| {
            c["exp"] = json!(now - 60);
            c["nbf"] = json!(now + 60);
        }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    check(
        cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |c| {
            c.as_object_mut().expect("claims").remove("jti");
        }),
        50027,
    )
    .await;
    check("not.a-jwt".to_owned(), 50027).await;
    check("a.b".to_owned(), 50027).await;

    // Time is the emulator clock.
    let valid = cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {});
    env.advance(3600).await;
    check(valid, 700024).await;

    // HMAC is not a certificate signature.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &json!({"iss": SAM_APP, "sub": SAM_APP, "aud": aud, "jti": "j", "exp": now + 600}),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .expect("hs256");
    check(hs, 700027).await;

    // Credential shape errors.
    let assertion = cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {});
    let mut form = assertion_form(SAM_APP, &assertion);
    form.extend([
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_DEFAULT),
    ]);
    let mut both = form.clone();
    both.push(("client_secret", SAM_SECRET));
    let (s, b, _) = env.token(TENANT, "v2", &both).await;
    assert_sts_error(s, &b, 401, "invalid_client", 70002);
    let mut wrong_type: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, _)| *k != "client_assertion_type")
        .copied()
        .collect();
    wrong_type.push((
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
    ));
    let (s, b, _) = env.token(TENANT, "v2", &wrong_type).await;
    assert_sts_error(s, &b, 401, "invalid_client", 70002);
    let no_type: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, _)| *k != "client_assertion_type")
        .copied()
        .collect();
    let (s, b, _) = env.token(TENANT, "v2", &no_type).await;
    assert_sts_error(s, &b, 400, "invalid_request", 900144);
    // A public client must not present an assertion.
    let public = [
        ("grant_type", "refresh_token"),
        ("client_id", AZURE_CLI),
        ("refresh_token", RT_AZCLI),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
    ];
    let (s, b, _) = env.token(TENANT, "v2", &public).await;
    assert_sts_error(s, &b, 401, "invalid_client", 700025);
}

#[tokio::test]
async fn scenario_certificates_and_expired_certificates() {
    let cert = TestCert::new(KEY_A, None);
    let scenario = demo_with(|v| {
        v["tenants"][0]["applications"][0]["certificates"] = json!([{"thumbprint": cert.thumbprint().to_ascii_lowercase(), "certificatePem": cert.pem}]);
    });
    let env = Env::start_with(scenario).await;
    let aud = token_endpoint(&env, TENANT);
    let (s, b) = client_credentials(
        &env,
        TENANT,
        "v2",
        &cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // A certificate whose validity ended is refused even with a good signature.
    let expired = TestCert::new(KEY_B, Some(((2000, 1, 1), (2001, 1, 1))));
    register_cert(&env, SAM_APP, &expired).await;
    let (s, b) = client_credentials(
        &env,
        TENANT,
        "v2",
        &expired.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {}),
    )
    .await;
    let d = assert_sts_error(s, &b, 401, "invalid_client", 700027);
    assert!(d.contains("The key used is expired"), "{d}");

    // A thumbprint that does not match, or a broken PEM, stops the scenario from loading.
    install_crypto_provider();
    for bad in [
        json!([{"thumbprint": "00", "certificatePem": cert.pem}]),
        json!([{"thumbprint": cert.thumbprint(), "certificatePem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}]),
    ] {
        let scenario = demo_with(|v| v["tenants"][0]["applications"][0]["certificates"] = bad);
        let started =
            partnersecurity_emulator::serve(partnersecurity_emulator::EmulatorConfig::new(
                partnersecurity_emulator::ScenarioSource::Json(scenario),
            ))
            .await;
        assert!(started.is_err(), "the scenario must be rejected");
    }
    // Run-time registration checks the PEM and the app.
    let (s, _) = env
        .post_json(
            &format!("/_emulator/applications/{SAM_APP}/certificates"),
            json!({"certificatePem": "garbage"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = env
        .post_json(
            "/_emulator/applications/99999999-9999-4999-8999-999999999999/certificates",
            json!({"certificatePem": cert.pem}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn assertions_work_for_refresh_token_and_authorization_code_grants() {
    let env = Env::start().await;
    let cert = TestCert::new(KEY_A, None);
    register_cert(&env, SAM_APP, &cert).await;
    let aud = token_endpoint(&env, TENANT);

    let assertion = cert.assertion(Algorithm::RS256, (true, false), SAM_APP, &aud, |_| {});
    let mut form = assertion_form(SAM_APP, &assertion);
    form.extend([
        ("grant_type", "refresh_token"),
        ("refresh_token", RT_ADMIN),
        ("scope", "https://graph.microsoft.com/.default"),
    ]);
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let claims = env.verify(b["access_token"].as_str().expect("at")).await;
    assert_eq!(
        (claims["appidacr"].clone(), claims["amr"].clone()),
        (json!("2"), json!(["pwd", "mfa"]))
    );

    let redirect = "http://localhost:8402/";
    let code = env
        .authorize(TENANT, &authorize_params(SAM_APP, redirect))
        .await
        .code();
    let assertion = cert.assertion(Algorithm::PS256, (false, true), SAM_APP, &aud, |_| {});
    let mut form = assertion_form(SAM_APP, &assertion);
    form.extend([
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", VERIFIER),
    ]);
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let claims = env.verify(b["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["appidacr"], "2");
    assert_eq!(claims["oid"], ADMIN_ID);
}
