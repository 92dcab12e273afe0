use partnersecurity_emulator::{EmulatorConfig, ScenarioSource, serve};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn tls_mode_works_with_the_generated_ca_and_is_rejected_without_it() {
    install_crypto_provider();
    let emu = serve(EmulatorConfig::new(ScenarioSource::Json(demo_json())).with_tls(true))
        .await
        .expect("starts");
    assert!(
        emu.base_url.starts_with("https://127.0.0.1:"),
        "{}",
        emu.base_url
    );
    let pem = emu.certificate_pem.clone().expect("CA PEM in TLS mode");

    let trusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("PEM parses")])
        .build()
        .expect("client");
    let url = format!(
        "{}/{TENANT}/v2.0/.well-known/openid-configuration",
        emu.base_url
    );
    let resp = trusting
        .get(&url)
        .send()
        .await
        .expect("TLS request with the emulator CA trusted");
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: serde_json::Value = resp.json().await.expect("json");
    assert!(
        doc["token_endpoint"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://127.0.0.1:"))
    );

    // The certificate also names localhost.
    let localhost = url.replace("127.0.0.1", "localhost");
    assert_eq!(
        trusting
            .get(&localhost)
            .send()
            .await
            .expect("localhost")
            .status(),
        StatusCode::OK
    );

    let default_trust = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let err = default_trust
        .get(&url)
        .send()
        .await
        .expect_err("an untrusted certificate must be refused");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}
