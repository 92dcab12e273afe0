//! `/authorize` with a scripted sign-in, and the `authorization_code` grant with PKCE.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::flows::*;

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

#[tokio::test]
async fn pkce_sign_in_issues_tokens_for_the_default_user() {
    let env = Env::start().await;
    let params = with(
        authorize_params(PUBLIC_APP, LOOPBACK),
        "nonce",
        Some("n-0S6_WzA2Mj"),
    );
    let reply = env.authorize(TENANT, &params).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    let location = reply.location.clone().expect("Location");
    assert!(
        location.starts_with("http://localhost:51234/?code="),
        "{location}"
    );
    assert_eq!(reply.params["state"], "st-123");
    let code = reply.code();

    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_APP),
                ("code", code.as_str()),
                ("redirect_uri", LOOPBACK),
                ("code_verifier", VERIFIER),
                ("scope", PC_USER_SCOPE),
                ("client_info", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["scope"],
        "https://api.partnercenter.microsoft.com/user_impersonation profile openid"
    );
    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    // The demo's interactiveSignIn: the admin agent, with MFA.
    assert_eq!(claims["oid"], ADMIN_ID);
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    assert_eq!(claims["aud"], PC);
    assert_eq!(claims["appid"], PUBLIC_APP);
    assert_eq!(claims["appidacr"], "0");
    let id = env
        .verify(body["id_token"].as_str().expect("id_token"))
        .await;
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["aud"], PUBLIC_APP);
    assert_eq!(id["amr"], json!(["pwd", "mfa"]));
    let client_info: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(body["client_info"].as_str().expect("client_info"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(client_info, json!({"uid": ADMIN_ID, "utid": TENANT}));

    // A new, tracked refresh token that keeps the MFA state of the sign-in.
    let rt = body["refresh_token"].as_str().expect("refresh_token");
    let (status, refreshed, _) = env
        .token(
            TENANT,
            "v2",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", PUBLIC_APP),
                ("refresh_token", rt),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let claims = env
        .verify(refreshed["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    assert_eq!(claims["aud"], GRAPH);

    // Codes are single use.
    let (s, b) = env.redeem_public(&code).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 54005);

    // The code and the new refresh token are in the leak ledger.
    let (_, ledger, _) = env.get("/_emulator/issued-tokens", None).await;
    let values: Vec<&str> = ledger
        .as_array()
        .expect("array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(values.contains(&code.as_str()) && values.contains(&rt));
    // The request log has the authorize path but never the query string (it holds the state
    // and, in the redirect, the code).
    let (_, log, _) = env.get("/_emulator/requests", None).await;
    let text = log.to_string();
    assert!(
        text.contains("/oauth2/v2.0/authorize")
            && !text.contains("st-123")
            && !text.contains(&code)
    );
}

#[tokio::test]
async fn the_user_comes_from_next_sign_in_then_login_hint_then_the_default() {
    let env = Env::start().await;
    let params = authorize_params(PUBLIC_APP, LOOPBACK);

    env.next_sign_in(json!({"userId": SALES_ID, "mfa": true}))
        .await;
    let code = env
        .authorize(TENANT, &with(params.clone(), "login_hint", Some(GUEST_UPN)))
        .await
        .code();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let claims = claims_of(b["access_token"].as_str().expect("at"));
    assert_eq!(
        claims["oid"], SALES_ID,
        "the scripted sign-in wins over login_hint"
    );
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));

    // Used once: now the login_hint decides.
    let code = env
        .authorize(TENANT, &with(params.clone(), "login_hint", Some(GUEST_UPN)))
        .await
        .code();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        claims_of(b["access_token"].as_str().expect("at"))["oid"],
        GUEST_ID
    );

    // A hint that names nobody falls back to the tenant's interactiveSignIn.
    let code = env
        .authorize(
            TENANT,
            &with(
                params.clone(),
                "login_hint",
                Some("nobody@contoso-csp.onmicrosoft.com"),
            ),
        )
        .await
        .code();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        claims_of(b["access_token"].as_str().expect("at"))["oid"],
        ADMIN_ID
    );

    // organizations: the user's tenant issues the code.
    let code = env.authorize("organizations", &params).await.code();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        claims_of(b["access_token"].as_str().expect("at"))["tid"],
        TENANT
    );

    // No default anywhere and nothing scripted: login_required.
    let env = Env::start_with(demo_with(|v| {
        v["tenants"][0]
            .as_object_mut()
            .expect("tenant")
            .remove("interactiveSignIn");
    }))
    .await;
    let reply = env.authorize(TENANT, &params).await;
    reply.error("login_required", 50058);
    assert_eq!(reply.params["state"], "st-123");
}

#[tokio::test]
async fn failed_sign_ins_redirect_with_aadsts_errors() {
    let env = Env::start().await;
    let params = authorize_params(PUBLIC_APP, LOOPBACK);

    // The tenant requires MFA; a sign-in without it fails as Conditional Access would.
    env.next_sign_in(json!({"userId": SALES_ID, "mfa": false}))
        .await;
    let reply = env.authorize(TENANT, &params).await;
    let d = reply.error("interaction_required", 50076);
    assert!(d.contains("multi-factor authentication"), "{d}");
    assert_eq!(reply.params["suberror"], "basic_action");
    assert_eq!(reply.params["state"], "st-123");
    assert!(reply.params["error_uri"].ends_with("/error?code=50076"));

    // No MFA registered and no `mfa` given: the user cannot do MFA.
    env.authorize(
        TENANT,
        &with(params.clone(), "login_hint", Some(BREAKGLASS_UPN)),
    )
    .await
    .error("interaction_required", 50076);

    env.next_sign_in(json!({"userId": DISABLED_ID, "mfa": true}))
        .await;
    env.authorize(TENANT, &params)
        .await
        .error("access_denied", 50057);

    env.next_sign_in(json!({"userId": "00000000-0000-4000-8000-00000000dead"}))
        .await;
    env.authorize(TENANT, &params)
        .await
        .error("access_denied", 50034);

    env.next_sign_in(json!({"userId": ADMIN_ID, "mfa": true, "decline": true}))
        .await;
    env.authorize(TENANT, &params)
        .await
        .error("access_denied", 65004);

    // The public client has no delegated permission on Key Vault.
    env.authorize(
        TENANT,
        &with(
            params.clone(),
            "scope",
            Some("https://vault.azure.net/user_impersonation openid"),
        ),
    )
    .await
    .error("consent_required", 65001);

    env.authorize(
        TENANT,
        &with(params.clone(), "scope", Some("https://nothing.example/x")),
    )
    .await
    .error("invalid_resource", 500011);
    env.authorize(TENANT, &with(params.clone(), "scope", None))
        .await
        .error("invalid_request", 900144);
    env.authorize(
        TENANT,
        &with(params.clone(), "response_type", Some("token")),
    )
    .await
    .error("unsupported_response_type", 70005);
    env.authorize(
        TENANT,
        &with(params.clone(), "code_challenge_method", Some("S512")),
    )
    .await
    .error("invalid_request", 501491);
    env.authorize(
        TENANT,
        &with(params.clone(), "code_challenge", Some("too-short")),
    )
    .await
    .error("invalid_request", 501491);
    env.authorize(TENANT, &with(params.clone(), "code_challenge", None))
        .await
        .error("invalid_request", 50147);

    // Failed requests did not use up a scripted sign-in or issue codes: the default works.
    let code = env.authorize(TENANT, &params).await.code();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

#[tokio::test]
async fn untrusted_clients_and_redirect_uris_get_an_error_page() {
    let env = Env::start().await;
    let page = |reply: &AuthorizeReply, code: u32| {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
        assert!(
            reply.location.is_none(),
            "never redirect to an untrusted URI"
        );
        assert!(
            reply.body.contains(&format!("AADSTS{code}: ")),
            "{}",
            reply.body
        );
    };
    let unknown = "99999999-9999-4999-8999-999999999999";
    page(
        &env.authorize(TENANT, &authorize_params(unknown, LOOPBACK))
            .await,
        700016,
    );
    let evil = "https://evil.example/callback";
    let reply = env
        .authorize(TENANT, &authorize_params(PUBLIC_APP, evil))
        .await;
    page(&reply, 50011);
    assert!(reply.body.contains("https://evil.example/callback"));
    page(
        &env.authorize(
            TENANT,
            &authorize_params(PUBLIC_APP, "http://localhost:51234/other"),
        )
        .await,
        50011,
    );
    page(
        &env.authorize(
            TENANT,
            &authorize_params(PUBLIC_APP, "https://localhost:51234/"),
        )
        .await,
        50011,
    );
    page(
        &env.authorize(
            "nosuchtenant.example",
            &authorize_params(PUBLIC_APP, LOOPBACK),
        )
        .await,
        90002,
    );
    page(
        &env.authorize(
            TENANT,
            &with(authorize_params(PUBLIC_APP, LOOPBACK), "redirect_uri", None),
        )
        .await,
        900144,
    );

    // Loopback: any port, localhost or 127.0.0.1, for an app that registered
    // http://localhost:8400 (the SAM app) or http://localhost (the public client, Azure CLI).
    for (client, uri) in [
        (SAM_APP, "http://localhost:8999/"),
        (SAM_APP, "http://127.0.0.1:40123/"),
        (PUBLIC_APP, "http://127.0.0.1:8400/"),
        (AZURE_CLI, "http://localhost:49152/"),
    ] {
        let reply = env.authorize(TENANT, &authorize_params(client, uri)).await;
        assert!(reply.code().len() > 40);
        assert!(
            reply
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with(uri))
        );
    }
}

#[tokio::test]
async fn redemption_errors_and_expiry() {
    let env = Env::start().await;
    let code = env
        .authorize(TENANT, &authorize_params(PUBLIC_APP, LOOPBACK))
        .await
        .code();
    let base = |overrides: &[(&'static str, Option<&'static str>)]| {
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("client_id", PUBLIC_APP.into()),
            ("code", code.clone()),
            ("redirect_uri", LOOPBACK.into()),
            ("code_verifier", VERIFIER.into()),
        ];
        for (k, v) in overrides {
            form.retain(|(name, _)| name != k);
            if let Some(v) = v {
                form.push((k, (*v).into()));
            }
        }
        form
    };
    let send = |form: Vec<(&'static str, String)>, tenant: &'static str| {
        let env = &env;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (s, b, _) = env.token(tenant, "v2", &pairs).await;
            (s, b)
        }
    };

    let (s, b) = send(base(&[("code_verifier", None)]), TENANT).await;
    let d = assert_sts_error(s, &b, 400, "invalid_request", 900144);
    assert!(d.contains("'code_verifier'"), "{d}");
    let (s, b) = send(
        base(&[(
            "code_verifier",
            Some("wrong-verifier-wrong-verifier-wrong-verifier-1"),
        )]),
        TENANT,
    )
    .await;
    let d = assert_sts_error(s, &b, 400, "invalid_grant", 501481);
    assert!(d.starts_with(
        "AADSTS501481: The Code_Verifier doesn't match the code_challenge supplied in the authorization request."
    ));
    let (s, b) = send(
        base(&[("redirect_uri", Some("http://localhost:51235/"))]),
        TENANT,
    )
    .await;
    assert_sts_error(s, &b, 400, "invalid_grant", 500112);
    let (s, b) = send(base(&[("redirect_uri", None)]), TENANT).await;
    assert_sts_error(s, &b, 400, "invalid_request", 900144);
    let (s, b) = send(base(&[("client_id", Some(AZURE_CLI))]), TENANT).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 70000);
    let (s, b) = send(base(&[]), CUSTOMER_TENANT).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 700005);
    let (s, b) = send(base(&[("code", Some("1.AQnot-a-code"))]), TENANT).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 70000);
    let (s, b) = send(base(&[("client_secret", Some("x"))]), TENANT).await;
    assert_sts_error(s, &b, 401, "invalid_client", 700025);

    // Failed redemptions do not spend the code; `organizations` redeems in the code's tenant.
    let (s, b) = send(base(&[]), "organizations").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(
        b["refresh_token"].is_string(),
        "offline_access was authorized at /authorize, so the redemption needs no scope: {b}"
    );
    let (s, b) = send(base(&[]), TENANT).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 54005);

    // Ten minutes on the emulator clock.
    let code = env
        .authorize(TENANT, &authorize_params(PUBLIC_APP, LOOPBACK))
        .await
        .code();
    env.advance(601).await;
    let (s, b) = env.redeem_public(&code).await;
    assert_sts_error(s, &b, 400, "invalid_grant", 70008);
}

#[tokio::test]
async fn confidential_clients_authenticate_and_v1_works() {
    let env = Env::start().await;
    let redirect = "http://localhost:8401/";
    let code = env
        .authorize(TENANT, &authorize_params(SAM_APP, redirect))
        .await
        .code();
    let form = |secret: Option<&'static str>| {
        let mut f = vec![
            ("grant_type", "authorization_code"),
            ("client_id", SAM_APP),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
        ];
        if let Some(s) = secret {
            f.push(("client_secret", s));
        }
        f
    };
    let mut f = form(None);
    f.push(("code", code.as_str()));
    let (s, b, _) = env.token(TENANT, "v2", &f).await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000218);
    let mut f = form(Some("wrong"));
    f.push(("code", code.as_str()));
    let (s, b, _) = env.token(TENANT, "v2", &f).await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000215);
    let mut f = form(Some(SAM_SECRET));
    f.push(("code", code.as_str()));
    let (s, b, _) = env.token(TENANT, "v2", &f).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let claims = env.verify(b["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["appidacr"], "1");
    assert!(
        b["refresh_token"].is_string(),
        "offline_access was authorized"
    );

    // v1: `resource` instead of scopes, string numbers, always an ID token and a refresh token.
    let params: Vec<(String, String)> = [
        ("client_id", SAM_APP),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("resource", PC),
        ("state", "v1-state"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let reply = env
        .authorize_at(&format!("/{TENANT}/oauth2/authorize"), &params)
        .await;
    assert_eq!(reply.params["state"], "v1-state");
    let code = reply.code();
    let mut f = form(Some(SAM_SECRET));
    f.retain(|(k, _)| *k != "code_verifier");
    f.push(("code", code.as_str()));
    let (s, b, _) = env.token(TENANT, "v1", &f).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["resource"], PC);
    assert!(
        b["expires_in"].is_string() && b["id_token"].is_string() && b["refresh_token"].is_string()
    );
}

#[tokio::test]
async fn form_post_and_fragment_response_modes() {
    let env = Env::start().await;
    let params = with(
        authorize_params(PUBLIC_APP, LOOPBACK),
        "response_mode",
        Some("form_post"),
    );
    let reply = env.authorize(TENANT, &params).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.location.is_none());
    assert!(
        reply.body.contains("action=\"http://localhost:51234/\""),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("name=\"state\" value=\"st-123\""));
    assert!(reply.body.contains("document.forms[0].submit()"));
    let code = reply
        .body
        .split("name=\"code\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("code input")
        .to_owned();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let params = with(
        authorize_params(PUBLIC_APP, LOOPBACK),
        "response_mode",
        Some("fragment"),
    );
    let reply = env.authorize(TENANT, &params).await;
    assert!(
        reply
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("http://localhost:51234/#code="))
    );
    assert!(reply.code().len() > 40);
}

#[tokio::test]
async fn single_factor_sign_in_where_mfa_is_not_required() {
    let env = Env::start_with(demo_with(|v| v["tenants"][0]["requireMfa"] = json!(false))).await;
    env.next_sign_in(json!({"userId": ADMIN_ID, "mfa": false}))
        .await;
    let code = env
        .authorize(TENANT, &authorize_params(PUBLIC_APP, LOOPBACK))
        .await
        .code();
    let (s, b) = env.redeem_public(&code).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let at = b["access_token"].as_str().expect("at");
    assert_eq!(env.verify(at).await["amr"], json!(["pwd"]));
    // Partner Center still refuses a single-factor App+User token.
    let (s, _, _) = env
        .get("/partnercenter/v1/profiles/organization", Some(at))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
