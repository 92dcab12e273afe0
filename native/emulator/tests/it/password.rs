use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

fn ropc<'a>(user: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", PUBLIC_APP),
        ("username", user),
        ("password", password),
        (
            "scope",
            "https://api.partnercenter.microsoft.com/user_impersonation openid offline_access",
        ),
    ]
}

#[tokio::test]
async fn mfa_tenant_refuses_password_grant() {
    let env = Env::start().await;
    let (s, b, _) = env
        .token(TENANT, "v2", &ropc(ADMIN_UPN, ADMIN_PASSWORD))
        .await;
    let d = assert_sts_error(s, &b, 400, "invalid_grant", 50076);
    assert_eq!(b["suberror"], "basic_action");
    assert!(d.contains(
        "you must use multi-factor authentication to access 'fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd'"
    ));

    // The password is checked before MFA is demanded.
    let (s, b, _) = env.token(TENANT, "v2", &ropc(ADMIN_UPN, "wrong")).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 50126);

    let (s, b, _) = env
        .token("common", "v2", &ropc(ADMIN_UPN, ADMIN_PASSWORD))
        .await;
    assert_sts_error(s, &b, 400, "invalid_request", 9001023);

    let (s, b, _) = env
        .token(TENANT, "v2", &ropc(DISABLED_UPN, DISABLED_PASSWORD))
        .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 50057);

    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &ropc("nobody@contoso-csp.onmicrosoft.com", "x"),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 50034);
}

#[tokio::test]
async fn password_grant_without_mfa_requirement_issues_single_factor_tokens() {
    let env = Env::start_with(demo_with(|v| v["tenants"][0]["requireMfa"] = json!(false))).await;
    let (status, body, _) = env
        .token("organizations", "v2", &ropc(ADMIN_UPN, ADMIN_PASSWORD))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["refresh_token"].is_string(),
        "offline_access asked for"
    );
    assert!(body["id_token"].is_string(), "openid asked for");
    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["appidacr"], "0");

    // The new refresh token works and keeps the single-factor state.
    let rt = body["refresh_token"].as_str().expect("rt");
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", PUBLIC_APP),
        ("refresh_token", rt),
        ("scope", "User.Read"),
    ];
    let (status, body, _) = env.token(TENANT, "v2", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["amr"], json!(["pwd"]));
}
