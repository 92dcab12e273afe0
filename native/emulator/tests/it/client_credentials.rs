use reqwest::StatusCode;

use crate::common::*;

fn cc<'a>(client_id: &'a str, secret: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

#[tokio::test]
async fn v2_app_token_is_signed_and_has_app_claims() {
    let env = Env::start().await;
    let (status, body, headers) = env
        .token(
            DOMAIN,
            "v2",
            &cc(SAM_APP, SAM_SECRET, "https://graph.microsoft.com/.default"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(body["token_type"], "Bearer");
    let expires_in = body["expires_in"]
        .as_i64()
        .expect("v2 expires_in is a number");
    assert!((3600..=4500).contains(&expires_in), "{expires_in}");
    assert_eq!(body["ext_expires_in"].as_i64(), Some(expires_in));
    for absent in [
        "refresh_token",
        "id_token",
        "scope",
        "expires_on",
        "resource",
    ] {
        assert!(
            body.get(absent).is_none(),
            "{absent} must not be in a client-credentials response: {body}"
        );
    }

    let token = body["access_token"].as_str().expect("access_token");
    let header = jsonwebtoken::decode_header(token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.x5t, header.kid);
    let claims = env.verify(token).await;
    assert_eq!(claims["aud"], GRAPH);
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(claims["idp"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["appid"], SAM_APP);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["oid"], claims["sub"]);
    assert!(uuid::Uuid::parse_str(claims_str(&claims, "oid")).is_ok());
    let roles: Vec<&str> = claims["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(
        roles,
        [
            "AuditLog.Read.All",
            "Directory.Read.All",
            "Policy.Read.All",
            "Organization.Read.All"
        ]
    );
    for absent in ["scp", "amr", "upn", "wids"] {
        assert!(claims.get(absent).is_none(), "{absent} in app-only token");
    }
    for present in ["aio", "uti", "rh", "iat", "nbf"] {
        assert!(claims.get(present).is_some(), "{present} missing");
    }
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        expires_in
    );
}

#[tokio::test]
async fn v1_response_uses_strings_and_names_the_resource() {
    let env = Env::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", SAM_APP),
        ("client_secret", SAM_SECRET),
        ("resource", "https://graph.microsoft.com/"),
    ];
    let (status, body, _) = env.token(TENANT, "v1", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for field in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
        let text = body[field]
            .as_str()
            .unwrap_or_else(|| panic!("v1 {field} must be a string: {body}"));
        assert!(text.parse::<i64>().is_ok());
    }
    assert_eq!(body["resource"], "https://graph.microsoft.com/");
    let claims = env
        .verify(body["access_token"].as_str().expect("token"))
        .await;
    // aud is the identifier exactly as sent.
    assert_eq!(claims["aud"], "https://graph.microsoft.com/");
    assert_eq!(
        body["expires_on"]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok()),
        claims["exp"].as_i64()
    );
}

#[tokio::test]
async fn http_basic_client_authentication_is_accepted() {
    let env = Env::start().await;
    let resp = env
        .http
        .post(env.url(&format!("/{TENANT}/oauth2/v2.0/token")))
        .basic_auth(SAM_APP, Some(SAM_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("sent");
    let (status, body, _) = split(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn emulator_identifier_uri_becomes_the_audience() {
    let env = Env::start().await;
    let scope = format!("{}/graph/.default", env.emu.base_url);
    let claims = env.verify(&env.app_token(&scope).await).await;
    assert_eq!(claims["aud"], format!("{}/graph", env.emu.base_url));
}

#[tokio::test]
async fn credential_errors() {
    let env = Env::start().await;
    let graph = "https://graph.microsoft.com/.default";

    let (s, b, _) = env
        .token(TENANT, "v2", &cc(SAM_APP, "wrong-secret", graph))
        .await;
    let d = assert_sts_error(s, &b, 401, "invalid_client", 7000215);
    assert!(d.contains(SAM_APP));
    assert!(
        !d.contains("wrong-secret"),
        "the presented secret must not be echoed"
    );

    let (s, b, _) = env
        .token(TENANT, "v2", &cc(LEGACY_APP, LEGACY_SECRET, graph))
        .await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000222);

    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", SAM_APP),
        ("scope", graph),
    ];
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000218);

    let unknown = "99999999-9999-4999-8999-999999999999";
    let (s, b, _) = env.token(TENANT, "v2", &cc(unknown, "x", graph)).await;
    let d = assert_sts_error(s, &b, 400, "unauthorized_client", 700016);
    assert!(d.contains(unknown));

    // A public client cannot prove it is the app.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", PUBLIC_APP),
        ("scope", graph),
    ];
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    assert_sts_error(s, &b, 401, "invalid_client", 7000218);
}

#[tokio::test]
async fn scope_errors() {
    let env = Env::start().await;
    for scope in [
        "https://graph.microsoft.com/User.Read",
        "https://graph.microsoft.com/.default https://vault.azure.net/.default",
        "User.Read",
    ] {
        let (s, b, _) = env
            .token(TENANT, "v2", &cc(SAM_APP, SAM_SECRET, scope))
            .await;
        assert_sts_error(s, &b, 400, "invalid_scope", 1002012);
    }
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &cc(SAM_APP, SAM_SECRET, "https://nothing.example/.default"),
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_resource", 500011);

    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", SAM_APP),
        ("client_secret", SAM_SECRET),
    ];
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    let d = assert_sts_error(s, &b, 400, "invalid_request", 900144);
    assert!(d.starts_with(
        "AADSTS900144: The request body must contain the following parameter: 'scope'."
    ));

    // v2 rejects the v1 `resource` parameter.
    let mut form = cc(SAM_APP, SAM_SECRET, "https://graph.microsoft.com/.default");
    form.push(("resource", GRAPH));
    let (s, b, _) = env.token(TENANT, "v2", &form).await;
    assert_sts_error(s, &b, 400, "invalid_request", 901002);
}

#[tokio::test]
async fn tenant_and_grant_errors() {
    let env = Env::start().await;
    let graph = "https://graph.microsoft.com/.default";

    let (s, b, _) = env
        .token("common", "v2", &cc(SAM_APP, SAM_SECRET, graph))
        .await;
    assert_sts_error(s, &b, 400, "invalid_request", 50059);
    let (s, b, _) = env
        .token("organizations", "v2", &cc(LEGACY_APP, LEGACY_SECRET, graph))
        .await;
    assert_sts_error(s, &b, 400, "invalid_request", 50194);

    let (s, b, _) = env
        .token(
            "nosuchtenant.onmicrosoft.com",
            "v2",
            &cc(SAM_APP, SAM_SECRET, graph),
        )
        .await;
    let d = assert_sts_error(s, &b, 400, "invalid_request", 90002);
    assert!(d.starts_with("AADSTS90002: Tenant 'nosuchtenant.onmicrosoft.com' not found."));

    let (s, b, _) = env.token(TENANT, "v2", &[("client_id", SAM_APP)]).await;
    let d = assert_sts_error(s, &b, 400, "invalid_request", 900144);
    assert!(d.starts_with(
        "AADSTS900144: The request body must contain the following parameter: 'grant_type'."
    ));

    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
                ),
                ("client_id", SAM_APP),
            ],
        )
        .await;
    assert_sts_error(s, &b, 400, "unsupported_grant_type", 70003);
}

#[tokio::test]
async fn client_request_id_is_echoed_as_correlation_id() {
    let env = Env::start().await;
    let id = "0f1e2d3c-4b5a-4968-8776-655443322110";
    let resp = env
        .http
        .post(env.url(&format!("/{TENANT}/oauth2/v2.0/token")))
        .header("client-request-id", id)
        .form(&[("grant_type", "client_credentials"), ("client_id", SAM_APP)])
        .send()
        .await
        .expect("sent");
    let (s, b, headers) = split(resp).await;
    assert_sts_error(s, &b, 400, "invalid_request", 900144);
    assert_eq!(b["correlation_id"], id);
    assert_eq!(headers["client-request-id"], id);
}
