//! MFA policy on the non-interactive grants: ROPC in an MFA tenant, and Conditional Access on
//! refresh (`requireMfaForRefreshTokens`).

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

const PC_SCOPE: &str =
    "https://api.partnercenter.microsoft.com/user_impersonation openid offline_access";

#[tokio::test]
async fn ropc_needs_a_tenant_without_mfa_and_then_is_single_factor() {
    let form = |client: &'static str, secret: Option<&'static str>| {
        let mut f = vec![
            ("grant_type", "password"),
            ("client_id", client),
            ("username", ADMIN_UPN),
            ("password", ADMIN_PASSWORD),
            ("scope", PC_SCOPE),
        ];
        if let Some(s) = secret {
            f.push(("client_secret", s));
        }
        f
    };
    let env = Env::start().await;
    for (client, secret) in [(PUBLIC_APP, None), (SAM_APP, Some(SAM_SECRET))] {
        let (s, b, _) = env.token(TENANT, "v2", &form(client, secret)).await;
        assert_sts_error(s, &b, 400, "invalid_grant", 50076);
        assert_eq!(b["suberror"], "basic_action");
    }

    let env = Env::start_with(demo_with(|v| v["tenants"][0]["requireMfa"] = json!(false))).await;
    let (s, b, _) = env
        .token(TENANT, "v2", &form(SAM_APP, Some(SAM_SECRET)))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let claims = env.verify(b["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["appidacr"], "1");
}

#[tokio::test]
async fn conditional_access_on_refresh_refuses_single_factor_grants() {
    let redeem = |rt: &'static str| {
        [
            ("grant_type", "refresh_token"),
            ("client_id", SAM_APP),
            ("client_secret", SAM_SECRET),
            ("refresh_token", rt),
            ("scope", "https://graph.microsoft.com/.default"),
        ]
    };
    // Default off: the single-factor grant is redeemed (Partner Center refuses it later).
    let env = Env::start().await;
    let (s, b, _) = env.token(TENANT, "v2", &redeem(RT_SALES)).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let env = Env::start_with(demo_with(|v| {
        v["tenants"][0]["requireMfaForRefreshTokens"] = json!(true);
    }))
    .await;
    let (s, b, _) = env.token(TENANT, "v2", &redeem(RT_SALES)).await;
    let d = assert_sts_error(s, &b, 400, "interaction_required", 50076);
    assert_eq!(b["suberror"], "basic_action");
    assert!(d.contains("'00000003-0000-0000-c000-000000000000'"), "{d}");
    let (s, b, _) = env.token(TENANT, "v2", &redeem(RT_ADMIN)).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // A single-factor ROPC grant in such a tenant works once, then its refresh token does not.
    let env = Env::start_with(demo_with(|v| {
        v["tenants"][0]["requireMfa"] = json!(false);
        v["tenants"][0]["requireMfaForRefreshTokens"] = json!(true);
    }))
    .await;
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", ADMIN_UPN),
                ("password", ADMIN_PASSWORD),
                ("scope", PC_SCOPE),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let rt = b["refresh_token"].as_str().expect("refresh_token");
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_APP),
                ("refresh_token", rt),
            ],
        )
        .await;
    assert_sts_error(s, &b, 400, "interaction_required", 50076);
}
