use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn redeem<'a>(
    client_id: &'a str,
    secret: Option<&'a str>,
    rt: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", rt),
        ("scope", scope),
    ];
    if let Some(s) = secret {
        form.push(("client_secret", s));
    }
    form
}

const PC_SCOPE: &str =
    "https://api.partnercenter.microsoft.com/user_impersonation openid profile offline_access";

#[tokio::test]
async fn rotation_returns_a_new_token_and_both_keep_working() {
    let env = Env::start().await;
    let mut form = redeem(SAM_APP, Some(SAM_SECRET), RT_ADMIN, PC_SCOPE);
    form.push(("client_info", "1"));
    let (status, body, _) = env.token(TENANT, "v2", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["scope"],
        "https://api.partnercenter.microsoft.com/user_impersonation profile openid"
    );
    assert!(body["expires_in"].is_i64());
    let new_rt = body["refresh_token"]
        .as_str()
        .expect("new refresh token")
        .to_owned();
    assert_ne!(new_rt, RT_ADMIN);
    assert!(new_rt.len() >= 60 && new_rt.starts_with("1.A"), "{new_rt}");
    assert!(
        new_rt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    );

    let client_info: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(body["client_info"].as_str().expect("client_info"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(client_info, json!({"uid": ADMIN_ID, "utid": TENANT}));

    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["aud"], PC);
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    assert_eq!(claims["scp"], "user_impersonation");
    assert_eq!(claims["oid"], ADMIN_ID);
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["upn"], ADMIN_UPN);
    assert_eq!(claims["unique_name"], ADMIN_UPN);
    assert_eq!(claims["name"], "Avery Adminagent");
    assert_eq!(claims["given_name"], "Avery");
    assert_eq!(claims["family_name"], "Adminagent");
    assert_eq!(claims["ipaddr"], "127.0.0.1");
    assert_eq!(claims["acr"], "1");
    assert_eq!(claims["appid"], SAM_APP);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["wids"], json!([GLOBAL_ADMIN_ROLE]));
    assert!(claims.get("roles").is_none() && claims.get("idtyp").is_none());

    let id = env
        .verify(body["id_token"].as_str().expect("id_token"))
        .await;
    assert_eq!(id["aud"], SAM_APP);
    assert_eq!(id["iss"], format!("{}/{TENANT}/v2.0", env.emu.base_url));
    assert_eq!(id["preferred_username"], ADMIN_UPN);
    assert_eq!(id["oid"], ADMIN_ID);
    assert_eq!(id["tid"], TENANT);
    assert_eq!(id["ver"], "2.0");
    assert_eq!(id["amr"], json!(["pwd", "mfa"]));

    // The old token still works (Entra does not revoke on rotation), and so does the new one.
    for rt in [RT_ADMIN, new_rt.as_str()] {
        let (status, body, _) = env
            .token(
                TENANT,
                "v2",
                &redeem(SAM_APP, Some(SAM_SECRET), rt, PC_SCOPE),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_ne!(body["refresh_token"], rt);
    }
}

#[tokio::test]
async fn one_refresh_token_serves_every_consented_resource() {
    let env = Env::start().await;
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(
                SAM_APP,
                Some(SAM_SECRET),
                RT_ADMIN,
                "https://graph.microsoft.com/.default",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Graph scopes come back without the resource prefix, as Entra returns them.
    assert_eq!(
        body["scope"],
        "User.Read AuditLog.Read.All Directory.Read.All Policy.Read.All DelegatedAdminRelationship.Read.All"
    );
    assert!(body.get("id_token").is_none(), "no openid, no id_token");
    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["aud"], GRAPH);
    assert_eq!(
        claims["scp"],
        "User.Read AuditLog.Read.All Directory.Read.All Policy.Read.All DelegatedAdminRelationship.Read.All"
    );

    // A bare Graph permission means Graph; aud is then Graph's app id.
    let claims = env
        .verify(&env.user_token(RT_ADMIN, "User.Read").await)
        .await;
    assert_eq!(claims["aud"], "00000003-0000-0000-c000-000000000000");

    // v1 resource for Key Vault on the same token.
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", SAM_APP),
        ("client_secret", SAM_SECRET),
        ("refresh_token", RT_ADMIN),
        ("resource", "https://vault.azure.net"),
    ];
    let (status, body, _) = env.token(TENANT, "v1", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resource"], "https://vault.azure.net");
    assert_eq!(body["scope"], "user_impersonation");

    // No delegated permission on Azure management: consent required.
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(
                SAM_APP,
                Some(SAM_SECRET),
                RT_ADMIN,
                "https://management.azure.com/.default",
            ),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 65001);
    assert_eq!(b["suberror"], "consent_required");
}

#[tokio::test]
async fn v1_refresh_shape() {
    let env = Env::start().await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", SAM_APP),
        ("client_secret", SAM_SECRET),
        ("refresh_token", RT_ADMIN),
        ("resource", PC),
    ];
    let (status, body, _) = env.token(TENANT, "v1", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "user_impersonation");
    assert_eq!(body["resource"], PC);
    for field in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
        assert!(body[field].is_string(), "{field} is a string in v1: {body}");
    }
    assert!(body["refresh_token"].is_string());
    assert!(
        body["id_token"].is_string(),
        "v1 user flows always return an id_token"
    );
    // Without a resource the grant's original resource (Partner Center) is used.
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", SAM_APP),
        ("client_secret", SAM_SECRET),
        ("refresh_token", RT_ADMIN),
    ];
    let (status, body, _) = env.token(TENANT, "v1", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resource"], PC);
}

#[tokio::test]
async fn amr_follows_the_consent_mfa_flag() {
    let env = Env::start().await;
    let claims = env
        .verify(
            &env.user_token(RT_SALES, "https://api.partnercenter.microsoft.com/.default")
                .await,
        )
        .await;
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["oid"], SALES_ID);
    assert!(claims.get("wids").is_none(), "no directory roles, no wids");
}

#[tokio::test]
async fn public_client_refresh_and_credential_rules() {
    let env = Env::start().await;
    let form = redeem(
        AZURE_CLI,
        None,
        RT_AZCLI,
        "https://graph.microsoft.com/.default",
    );
    let (status, body, _) = env.token("organizations", "v2", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["appidacr"], "0");
    assert_eq!(claims["appid"], AZURE_CLI);

    let form = redeem(
        AZURE_CLI,
        Some("anything"),
        RT_AZCLI,
        "https://graph.microsoft.com/.default",
    );
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    assert_sts_error(s, &b, 401, "invalid_client", 700025);
}

#[tokio::test]
async fn grant_errors() {
    let env = Env::start().await;
    // Confidential client without its secret.
    let (s, b, _) = env
        .token(TENANT, "v2", &redeem(SAM_APP, None, RT_ADMIN, PC_SCOPE))
        .await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000218);
    // Wrong secret.
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some("nope"), RT_ADMIN, PC_SCOPE),
        )
        .await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000215);
    // Garbage token.
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), "not-a-token", PC_SCOPE),
        )
        .await;
    let d = assert_sts_error(s, &b, 400, "invalid_grant", 9002313);
    assert!(d.starts_with("AADSTS9002313: Invalid request. Request is malformed or invalid."));
    // Token issued to another client.
    let (s, b, _) = env
        .token(TENANT, "v2", &redeem(PUBLIC_APP, None, RT_ADMIN, PC_SCOPE))
        .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 70000);
    // Named permission the resource does not have.
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(
                SAM_APP,
                Some(SAM_SECRET),
                RT_ADMIN,
                "https://graph.microsoft.com/Mail.Read",
            ),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_scope", 70011);
    // Two resources in one request.
    let two = "https://graph.microsoft.com/User.Read https://api.partnercenter.microsoft.com/user_impersonation";
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_ADMIN, two),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_scope", 28000);
    // Missing refresh_token parameter.
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", SAM_APP),
        ("client_secret", SAM_SECRET),
    ];
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    let d = assert_sts_error(s, &b, 400, "invalid_request", 900144);
    assert!(d.contains("'refresh_token'"));
}

#[tokio::test]
async fn other_tenant_is_refused_until_gdap_exists() {
    let env = Env::start().await;
    // The SAM app is not registered in the customer tenant.
    let (s, b, _) = env
        .token(
            CUSTOMER_TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_ADMIN, PC_SCOPE),
        )
        .await;
    assert_sts_error(s, &b, 400, "unauthorized_client", 700016);
    // Azure CLI exists everywhere, but the grant belongs to the partner tenant.
    let (s, b, _) = env
        .token(
            CUSTOMER_TENANT,
            "v2",
            &redeem(
                AZURE_CLI,
                None,
                RT_AZCLI,
                "https://graph.microsoft.com/.default",
            ),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 90099);
}

#[tokio::test]
async fn ninety_days_of_inactivity_expires_a_token() {
    let env = Env::start().await;
    // Use the seeded token now: rotation yields a fresh one, and the seeded one is marked used.
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_ADMIN, PC_SCOPE),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = body["refresh_token"].as_str().expect("rt").to_owned();

    let (s, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 89 * 86_400}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), &rotated, PC_SCOPE),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "89 days idle is still fine: {body}");

    let (s, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 2 * 86_400}))
        .await;
    assert_eq!(s, StatusCode::OK);
    // RT_ADMIN was last used 91 days ago (emulator clock).
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_ADMIN, PC_SCOPE),
        )
        .await;
    let d = assert_sts_error(s, &b, 400, "invalid_grant", 700082);
    assert!(d.starts_with(
        "AADSTS700082: The refresh token has expired due to inactivity. The token was issued on "
    ));
    assert!(d.contains("and was inactive for 90.00:00:00."));
    // The rotated one was used 2 days ago.
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), &rotated, PC_SCOPE),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn seeded_stale_and_aging_consents() {
    let env = Env::start().await;
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_STALE, PC_SCOPE),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 700082);
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_AGING, PC_SCOPE),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "80 days idle still works: {body}");
}

#[tokio::test]
async fn revoking_a_user_kills_all_their_grants() {
    let env = Env::start().await;
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_ADMIN, PC_SCOPE),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = body["refresh_token"].as_str().expect("rt").to_owned();

    let (s, result) = env
        .post_json(
            "/_emulator/refresh-tokens/revoke",
            json!({"userId": ADMIN_ID}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{result}");
    assert!(result["revokedRefreshTokens"].as_u64().unwrap_or(0) >= 2);

    for rt in [RT_ADMIN, rotated.as_str()] {
        let (s, b, _) = env
            .token(
                TENANT,
                "v2",
                &redeem(SAM_APP, Some(SAM_SECRET), rt, PC_SCOPE),
            )
            .await;
        let d = assert_sts_error(s, &b, 400, "invalid_grant", 50173);
        assert!(
            d.contains("The grant was issued on '") && d.contains("TokensValidFrom"),
            "{d}"
        );
    }
    // Other users are unaffected.
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &redeem(SAM_APP, Some(SAM_SECRET), RT_SALES, PC_SCOPE),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (s, _) = env
        .post_json(
            "/_emulator/refresh-tokens/revoke",
            json!({"userId": "00000000-0000-4000-8000-000000000000"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
