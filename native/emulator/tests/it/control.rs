use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn clock_hooks() {
    let env = Env::start().await;
    let (status, before, _) = env.get("/_emulator/clock", None).await;
    assert_eq!(status, StatusCode::OK);
    let before = chrono::DateTime::parse_from_rfc3339(before["now"].as_str().expect("now"))
        .expect("rfc3339");
    let (status, after) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 86_400}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let after =
        chrono::DateTime::parse_from_rfc3339(after["now"].as_str().expect("now")).expect("rfc3339");
    assert!(after - before >= chrono::Duration::days(1));

    let (status, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": -5}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn issued_tokens_lists_every_secret() {
    let env = Env::start().await;
    let (status, body, _) = env
        .token(
            TENANT,
            "v2",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", SAM_APP),
                ("client_secret", SAM_SECRET),
                ("refresh_token", RT_ADMIN),
                (
                    "scope",
                    "https://api.partnercenter.microsoft.com/.default openid",
                ),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let app = env.app_token("https://graph.microsoft.com/.default").await;

    let (status, ledger, _) = env.get("/_emulator/issued-tokens", None).await;
    assert_eq!(status, StatusCode::OK);
    let values: Vec<&str> = ledger
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for expected in [
        SAM_SECRET,
        LEGACY_SECRET,
        ADMIN_PASSWORD,
        RT_ADMIN,
        RT_SALES,
        app.as_str(),
        body["access_token"].as_str().expect("at"),
        body["refresh_token"].as_str().expect("rt"),
        body["id_token"].as_str().expect("id"),
    ] {
        assert!(
            values.contains(&expected),
            "ledger misses a value starting {}",
            &expected[..12]
        );
    }
}

#[tokio::test]
async fn request_log_counts_calls_without_secrets() {
    let env = Env::start().await;
    let _ = env.app_token("https://graph.microsoft.com/.default").await;
    let _ = env
        .user_token(RT_ADMIN, "https://graph.microsoft.com/.default")
        .await;
    let _ = env.get("/graph/v1.0/organization", None).await;
    let (status, log, _) = env.get("/_emulator/requests", None).await;
    assert_eq!(status, StatusCode::OK);
    let entries = log.as_array().expect("array");
    assert_eq!(
        entries.len(),
        3,
        "control-plane calls are not logged: {log}"
    );
    assert_eq!(entries[0]["grantType"], "client_credentials");
    assert_eq!(entries[0]["clientId"], SAM_APP);
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["grantType"], "refresh_token");
    assert_eq!(entries[2]["path"], "/graph/v1.0/organization");
    assert_eq!(entries[2]["status"], 401);
    let text = log.to_string();
    assert!(
        !text.contains(SAM_SECRET) && !text.contains(RT_ADMIN),
        "no secrets in the request log"
    );

    let resp = env
        .http
        .delete(env.url("/_emulator/requests"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, log, _) = env.get("/_emulator/requests", None).await;
    assert_eq!(log, json!([]));
}
