use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use sha1::{Digest as _, Sha1};

use crate::common::*;

#[tokio::test]
async fn v2_configuration_points_back_at_the_emulator() {
    let env = Env::start().await;
    let base = env.emu.base_url.clone();
    let (status, doc, _) = env
        .get(
            &format!("/{DOMAIN}/v2.0/.well-known/openid-configuration"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/{DOMAIN}/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/{DOMAIN}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{base}/{DOMAIN}/oauth2/v2.0/devicecode")
    );
    assert_eq!(doc["issuer"], format!("{base}/{TENANT}/v2.0"));
    assert_eq!(doc["tenant_region_scope"], "NA");

    let jwks_uri = doc["jwks_uri"].as_str().expect("jwks_uri");
    let path = jwks_uri.strip_prefix(&base).expect("jwks on the emulator");
    let (status, jwks, _) = env.get(path, None).await;
    assert_eq!(status, StatusCode::OK);
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], key["x5t"]);
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["issuer"], format!("{base}/{TENANT}/v2.0"));
    // kid/x5t is the base64url SHA-1 thumbprint of the certificate in x5c.
    let der = STANDARD
        .decode(key["x5c"][0].as_str().expect("x5c"))
        .expect("x5c is base64");
    assert_eq!(key["kid"], URL_SAFE_NO_PAD.encode(Sha1::digest(&der)));

    let (_, common, _) = env
        .get("/common/v2.0/.well-known/openid-configuration", None)
        .await;
    assert_eq!(common["issuer"], format!("{base}/{{tenantid}}/v2.0"));
    assert!(common["tenant_region_scope"].is_null());
}

#[tokio::test]
async fn v1_configuration_and_keys() {
    let env = Env::start().await;
    let base = env.emu.base_url.clone();
    let (status, doc, _) = env
        .get(&format!("/{TENANT}/.well-known/openid-configuration"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["issuer"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/token")
    );
    assert_eq!(doc["jwks_uri"], format!("{base}/common/discovery/keys"));
    assert_eq!(doc["microsoft_multi_refresh_token"], true);

    let (status, jwks, _) = env.get("/common/discovery/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        jwks["keys"][0].get("issuer").is_none(),
        "v1 keys carry no issuer"
    );
    let (status, _, _) = env.get(&format!("/{TENANT}/discovery/keys"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_tenant_is_aadsts90002() {
    let env = Env::start().await;
    for path in [
        "/nope.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        "/nope.onmicrosoft.com/.well-known/openid-configuration",
        "/nope.onmicrosoft.com/discovery/v2.0/keys",
    ] {
        let (s, b, _) = env.get(path, None).await;
        assert_sts_error(s, &b, 400, "invalid_request", 90002);
    }
}

#[tokio::test]
async fn msal_instance_discovery() {
    let env = Env::start().await;
    let base = env.emu.base_url.clone();
    let authorize = format!("{base}/{DOMAIN}/oauth2/v2.0/authorize");
    let resp = env
        .http
        .get(env.url("/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", authorize.as_str()),
        ])
        .send()
        .await
        .expect("sent");
    let (status, body, _) = split(resp).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["tenant_discovery_endpoint"],
        format!("{base}/{DOMAIN}/v2.0/.well-known/openid-configuration")
    );
    let host = base.trim_start_matches("http://");
    assert_eq!(body["metadata"][0]["aliases"][0], host);
}
