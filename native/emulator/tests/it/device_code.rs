//! The devicecode endpoints and the device-code grant, approved through the control plane.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::flows::*;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn new_code(env: &Env, client_id: &str) -> Value {
    let (s, b) = env
        .devicecode(
            TENANT,
            "v2",
            &[("client_id", client_id), ("scope", PC_USER_SCOPE)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

async fn poll(env: &Env, client_id: &str, device_code: &Value) -> (StatusCode, Value) {
    let (s, b, _) = env
        .token(
            TENANT,
            "v2",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", client_id),
                ("device_code", device_code.as_str().expect("device_code")),
            ],
        )
        .await;
    (s, b)
}

async fn summary(env: &Env, user_code: &Value) -> Value {
    let (s, list, _) = env.get("/_emulator/device-codes", None).await;
    assert_eq!(s, StatusCode::OK);
    list.as_array()
        .expect("array")
        .iter()
        .find(|d| d["userCode"] == *user_code)
        .cloned()
        .expect("device code listed")
}

#[tokio::test]
async fn devicecode_responses_v2_and_v1() {
    let env = Env::start().await;
    let b = new_code(&env, PUBLIC_APP).await;
    let user_code = b["user_code"].as_str().expect("user_code");
    assert_eq!(user_code.len(), 8);
    assert!(
        user_code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(b["device_code"].as_str().is_some_and(|d| d.len() > 60));
    let verification = format!("{}/devicelogin", env.emu.base_url);
    assert_eq!(b["verification_uri"], verification.as_str());
    assert_eq!(b["expires_in"], 900);
    assert_eq!(b["interval"], 1, "the demo polls every second");
    assert_eq!(
        b["message"],
        format!(
            "To sign in, use a web browser to open the page {verification} and enter the code {user_code} to authenticate."
        )
    );

    let (s, b) = env
        .devicecode(TENANT, "v1", &[("client_id", PUBLIC_APP), ("resource", PC)])
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["verification_url"], verification.as_str());
    assert!(b.get("verification_uri").is_none());
    assert_eq!(b["expires_in"], "900");
    assert_eq!(b["interval"], "1");

    // Errors use the STS error format.
    let (s, b) = env
        .devicecode(TENANT, "v2", &[("client_id", PUBLIC_APP)])
        .await;
    assert_sts_error(s, &b, 400, "invalid_request", 900144);
    let (s, b) = env
        .devicecode(
            TENANT,
            "v2",
            &[
                ("client_id", "99999999-9999-4999-8999-999999999999"),
                ("scope", "User.Read"),
            ],
        )
        .await;
    assert_sts_error(s, &b, 400, "unauthorized_client", 700016);
    let (s, b) = env
        .devicecode(
            "nosuch.example",
            "v2",
            &[("client_id", PUBLIC_APP), ("scope", "User.Read")],
        )
        .await;
    assert_sts_error(s, &b, 400, "invalid_request", 90002);

    // Lifetime and interval come from the scenario; the page exists.
    let env = Env::start_with(demo_with(|v| {
        v["deviceCodeLifetimeSeconds"] = json!(120);
        v["deviceCodePollIntervalSeconds"] = json!(7);
    }))
    .await;
    let b = new_code(&env, PUBLIC_APP).await;
    assert_eq!(
        (b["expires_in"].clone(), b["interval"].clone()),
        (json!(120), json!(7))
    );
    let resp = env
        .http
        .get(env.url("/devicelogin"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn pending_slow_down_approval_and_redemption() {
    let env = Env::start().await;
    let b = new_code(&env, PUBLIC_APP).await;
    let device_code = &b["device_code"];

    let (s, body) = poll(&env, PUBLIC_APP, device_code).await;
    let d = assert_sts_error(s, &body, 400, "authorization_pending", 70016);
    assert!(d.starts_with("AADSTS70016: OAuth 2.0 device flow error. Authorization is pending."));
    // Polling again at once is faster than the 1 s interval.
    let (s, body) = poll(&env, PUBLIC_APP, device_code).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "slow_down", "{body}");
    env.advance(1).await;
    let (s, body) = poll(&env, PUBLIC_APP, device_code).await;
    assert_sts_error(s, &body, 400, "authorization_pending", 70016);

    // The user approves (lower case and a dash, as people type it).
    let typed = {
        let u = b["user_code"]
            .as_str()
            .expect("user_code")
            .to_ascii_lowercase();
        format!("{}-{}", &u[..4], &u[4..])
    };
    let (s, r) = env
        .post_json(
            "/_emulator/device-codes/approve",
            json!({"userCode": typed, "userId": ADMIN_ID, "mfa": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "approved");
    env.advance(1).await;
    let (s, body) = poll(&env, PUBLIC_APP, device_code).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let claims = env.verify(body["access_token"].as_str().expect("at")).await;
    assert_eq!(claims["oid"], ADMIN_ID);
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    assert_eq!(claims["aud"], PC);
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string());

    let listed = summary(&env, &b["user_code"]).await;
    assert_eq!(listed["status"], "redeemed");
    assert_eq!(listed["slowDowns"], 1);
    assert_eq!(listed["pendingPolls"], 2);
    assert_eq!(listed["polls"], 4);

    env.advance(1).await;
    let (s, body) = poll(&env, PUBLIC_APP, device_code).await;
    assert_sts_error(s, &body, 400, "invalid_grant", 70000);
    // A redeemed code cannot be approved again.
    let (s, _) = env
        .post_json(
            "/_emulator/device-codes/approve",
            json!({"userCode": b["user_code"], "userId": ADMIN_ID}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn expired_declined_failed_and_unknown_codes() {
    let env = Env::start().await;
    let (s, body) = poll(&env, PUBLIC_APP, &json!("DAQABIQEAAABnot-a-device-code")).await;
    assert_sts_error(s, &body, 400, "bad_verification_code", 70018);

    // Issued to another client.
    let b = new_code(&env, PUBLIC_APP).await;
    let (s, body) = poll(&env, AZURE_CLI, &b["device_code"]).await;
    assert_sts_error(s, &body, 400, "bad_verification_code", 70018);

    // Declined.
    let (s, r) = env
        .post_json(
            "/_emulator/device-codes/approve",
            json!({"userCode": b["user_code"], "userId": ADMIN_ID, "decline": true}),
        )
        .await;
    assert_eq!(
        (s, r["status"].clone()),
        (StatusCode::OK, json!("declined"))
    );
    let (s, body) = poll(&env, PUBLIC_APP, &b["device_code"]).await;
    assert_sts_error(s, &body, 400, "authorization_declined", 70017);

    // A user without MFA in a tenant that requires it.
    let b = new_code(&env, PUBLIC_APP).await;
    let (s, r) = env
        .post_json(
            "/_emulator/device-codes/approve",
            json!({"userCode": b["user_code"], "userId": SALES_ID, "mfa": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["status"].clone(), r["errorCode"].clone()),
        (json!("failed"), json!(50076))
    );
    let (s, body) = poll(&env, PUBLIC_APP, &b["device_code"]).await;
    assert_sts_error(s, &body, 400, "interaction_required", 50076);
    assert_eq!(body["suberror"], "basic_action");

    // A disabled user.
    let b = new_code(&env, PUBLIC_APP).await;
    env.post_json(
        "/_emulator/device-codes/approve",
        json!({"userCode": b["user_code"], "userId": DISABLED_ID, "mfa": true}),
    )
    .await;
    let (s, body) = poll(&env, PUBLIC_APP, &b["device_code"]).await;
    assert_sts_error(s, &body, 400, "invalid_grant", 50057);

    // Expiry on the emulator clock (900 s); an expired code cannot be approved either.
    let b = new_code(&env, PUBLIC_APP).await;
    env.advance(901).await;
    let (s, body) = poll(&env, PUBLIC_APP, &b["device_code"]).await;
    assert_sts_error(s, &body, 400, "expired_token", 70019);
    let (s, _) = env
        .post_json(
            "/_emulator/device-codes/approve",
            json!({"userCode": b["user_code"], "userId": ADMIN_ID}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    let (s, _) = env
        .post_json(
            "/_emulator/device-codes/approve",
            json!({"userCode": "ZZZZZZZZ", "userId": ADMIN_ID}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn auto_approval_after_n_pending_polls_applies_to_the_next_code_only() {
    let env = Env::start().await;
    let (s, r) = env
        .post_json(
            "/_emulator/device-codes/auto-approve",
            json!({"afterPolls": 2, "userId": ADMIN_ID, "mfa": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let first = new_code(&env, PUBLIC_APP).await;
    let second = new_code(&env, PUBLIC_APP).await;
    for _ in 0..2 {
        let (s, body) = poll(&env, PUBLIC_APP, &first["device_code"]).await;
        assert_sts_error(s, &body, 400, "authorization_pending", 70016);
        env.advance(1).await;
    }
    let (s, body) = poll(&env, PUBLIC_APP, &first["device_code"]).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        env.verify(body["access_token"].as_str().expect("at")).await["amr"],
        json!(["pwd", "mfa"])
    );
    for _ in 0..4 {
        let (s, body) = poll(&env, PUBLIC_APP, &second["device_code"]).await;
        assert_sts_error(s, &body, 400, "authorization_pending", 70016);
        env.advance(1).await;
    }

    // A scenario rule applies to every code.
    let env = Env::start_with(demo_with(|v| {
        v["deviceCodeAutoApprove"] = json!({"afterPolls": 0, "userId": ADMIN_ID, "mfa": true});
    }))
    .await;
    for _ in 0..2 {
        let b = new_code(&env, PUBLIC_APP).await;
        let (s, body) = poll(&env, PUBLIC_APP, &b["device_code"]).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn confidential_clients_get_7000218_and_v1_polling_works() {
    let env = Env::start().await;
    // As Entra answers the PartnerCenter module's issue #169: a web app has no secret here.
    let (s, r) = env
        .post_json(
            "/_emulator/device-codes/auto-approve",
            json!({"afterPolls": 0, "userId": ADMIN_ID, "mfa": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let b = new_code(&env, SAM_APP).await;
    let (s, body) = poll(&env, SAM_APP, &b["device_code"]).await;
    let d = assert_sts_error(s, &body, 401, "invalid_client", 7000218);
    assert!(d.contains("'client_assertion' or 'client_secret'"), "{d}");

    // v1 (ADAL): grant_type=device_code and the code in `code`.
    env.post_json(
        "/_emulator/device-codes/auto-approve",
        json!({"afterPolls": 0, "userId": ADMIN_ID, "mfa": true}),
    )
    .await;
    let (s, b) = env
        .devicecode(TENANT, "v1", &[("client_id", PUBLIC_APP), ("resource", PC)])
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, body, _) = env
        .token(
            TENANT,
            "v1",
            &[
                ("grant_type", "device_code"),
                ("client_id", PUBLIC_APP),
                ("code", b["device_code"].as_str().expect("device_code")),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["resource"], PC);
    assert!(
        body["expires_in"].is_string()
            && body["refresh_token"].is_string()
            && body["id_token"].is_string()
    );
}
