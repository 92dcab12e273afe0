use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::*;

#[tokio::test]
async fn graph_organization_and_me() {
    let env = Env::start().await;
    let app = env.app_token("https://graph.microsoft.com/.default").await;
    for version in ["v1.0", "beta"] {
        let (status, body, headers) = env
            .get(&format!("/graph/{version}/organization"), Some(&app))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(headers.contains_key("request-id"));
        let org = &body["value"][0];
        assert_eq!(org["id"], TENANT);
        assert_eq!(org["displayName"], "Contoso CSP (demo partner)");
        assert_eq!(org["verifiedDomains"][0]["name"], DOMAIN);
        assert_eq!(org["verifiedDomains"][0]["isInitial"], true);
    }

    let user = env
        .user_token(RT_ADMIN, "https://graph.microsoft.com/.default")
        .await;
    let (status, me, _) = env.get("/graph/v1.0/me", Some(&user)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], ADMIN_ID);
    assert_eq!(me["userPrincipalName"], ADMIN_UPN);

    let (status, body, _) = env.get("/graph/v1.0/me", Some(&app)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");
}

#[tokio::test]
async fn graph_rejects_bad_tokens() {
    let env = Env::start().await;
    let pc_token = env
        .user_token(RT_ADMIN, "https://api.partnercenter.microsoft.com/.default")
        .await;
    let (status, body, headers) = env.get("/graph/v1.0/organization", Some(&pc_token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        body["error"]["message"],
        "Access token validation failure. Invalid audience."
    );
    for field in ["date", "request-id", "client-request-id"] {
        assert!(
            body["error"]["innerError"][field].is_string(),
            "innerError.{field}"
        );
    }
    let challenge = headers["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );

    let (status, body, _) = env.get("/graph/v1.0/organization", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "Access token is empty.");

    // Flip one character of the signature.
    let good = env.app_token("https://graph.microsoft.com/.default").await;
    let mut tampered = good.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, _, _) = env.get("/graph/v1.0/organization", Some(&tampered)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = env.get("/graph/v1.0/organization", Some("not.a.jwt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Expiry follows the emulator clock.
    let (status, _, _) = env.get("/graph/v1.0/organization", Some(&good)).await;
    assert_eq!(status, StatusCode::OK);
    let (s, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 2 * 3600}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (status, body, _) = env.get("/graph/v1.0/organization", Some(&good)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}

#[tokio::test]
async fn graph_requires_a_permission() {
    // Give the SAM app no Graph application permissions.
    let env = Env::start_with(demo_with(|v| {
        v["tenants"][0]["applications"][0]["applicationPermissions"] = json!({});
    }))
    .await;
    let app = env.app_token("https://graph.microsoft.com/.default").await;
    let (status, body, _) = env.get("/graph/v1.0/organization", Some(&app)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
}

#[tokio::test]
async fn partner_center_profile_with_mfa_token() {
    let env = Env::start().await;
    let token = env
        .user_token(
            RT_ADMIN,
            "https://api.partnercenter.microsoft.com/user_impersonation",
        )
        .await;
    let resp = env
        .http
        .get(env.url("/partnercenter/v1/profiles/organization"))
        .bearer_auth(&token)
        .header("MS-CorrelationId", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
        .send()
        .await
        .expect("sent");
    let (status, body, headers) = split(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers["ms-correlationid"],
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    );
    assert_eq!(body["id"], TENANT);
    assert_eq!(body["companyName"], "Contoso CSP (demo partner)");
    assert_eq!(body["defaultAddress"]["country"], "US");
    assert_eq!(body["culture"], "en-US");
    assert_eq!(body["language"], "en");
    assert_eq!(body["email"], "partner-admin@contoso-csp.example");
    assert_eq!(body["attributes"]["objectType"], "OrganizationProfile");

    // App-only tokens are not subject to the MFA check.
    let app = env
        .app_token("https://api.partnercenter.microsoft.com/.default")
        .await;
    let (status, body, _) = env
        .get("/partnercenter/v1/profiles/organization", Some(&app))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn partner_center_requires_mfa_for_app_plus_user() {
    let env = Env::start().await;
    let token = env
        .user_token(
            RT_SALES,
            "https://api.partnercenter.microsoft.com/user_impersonation",
        )
        .await;
    let (status, body, headers) = env
        .get("/partnercenter/v1/profiles/organization", Some(&token))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(body["code"], "900421");
    assert_eq!(body["description"], "MFA required");
    assert_eq!(body["data"], json!([]));

    // The documented reason phrase, visible on the HTTP/1.1 status line.
    let addr = env.emu.local_addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /partnercenter/v1/profiles/organization HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 401 Unauthorized - MFA required\r\n"),
        "{}",
        text.lines().next().unwrap_or_default()
    );
}

#[tokio::test]
async fn partner_center_rejects_bad_tokens() {
    let env = Env::start().await;
    let graph_token = env
        .user_token(RT_ADMIN, "https://graph.microsoft.com/.default")
        .await;
    let (status, body, headers) = env
        .get(
            "/partnercenter/v1/profiles/organization",
            Some(&graph_token),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "400");
    assert_eq!(body["source"], "PartnerFD");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .is_ok_and(|v| v.contains("error=\"invalid_token\""))
    );

    let (status, body, _) = env
        .get("/partnercenter/v1/profiles/organization", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "800001");
}
