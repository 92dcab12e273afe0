//! The reports throttle (5 requests / 10 s per tenant and app by default), run-time settings
//! and page latency.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;
use crate::signins_support::*;

#[tokio::test]
async fn sixth_request_in_ten_seconds_gets_429_with_retry_after() {
    let env = Env::start_with(signins_json()).await;
    let token = reporter_token(&env).await;
    let resp = env
        .http
        .delete(env.url("/_emulator/requests"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    for _ in 0..5 {
        let (status, body, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body, headers) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
    assert_graph_error(status, &body, 429, "TooManyRequests");
    let retry_after: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("Retry-After is whole seconds");
    assert!((1..=10).contains(&retry_after), "{retry_after}");

    // Per tenant and app: the customer tenant's budget is untouched (it gets its licence 403).
    let customer = app_token_for(&env, S_CUSTOMER, REPORTER, REPORTER_SECRET).await;
    let (status, body, _) = list(&env, "v1.0", &customer, &[]).await;
    assert_graph_error(
        status,
        &body,
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    );
    // Other Graph endpoints are not in the reports budget.
    let (status, _, _) = env.get("/graph/v1.0/organization", Some(&token)).await;
    assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);

    // The request log shows each call with its status, so tests can count 429s.
    let (_, log, _) = env.get("/_emulator/requests", None).await;
    let signin_statuses: Vec<u64> = log
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["path"] == "/graph/v1.0/auditLogs/signIns")
        .map(|e| e["status"].as_u64().expect("status"))
        .collect();
    assert_eq!(signin_statuses, [200, 200, 200, 200, 200, 429, 403]);
    let entry = log
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["status"] == 429)
        .expect("429 logged");
    assert_eq!(entry["clientId"], REPORTER);

    // Waiting Retry-After (on the emulator clock) is enough.
    let (s, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": retry_after}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (status, body, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn throttle_and_latency_change_at_run_time() {
    let env = Env::start_with(signins_json()).await;
    let token = reporter_token(&env).await;
    let settings = set_graph_settings(
        &env,
        json!({"signInsThrottle": {"requests": 2, "windowSeconds": 60}}),
    )
    .await;
    assert_eq!(settings["signInsThrottle"]["requests"], 2);
    for _ in 0..2 {
        let (status, _, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, headers) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = headers["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((50..=60).contains(&retry_after), "{retry_after}");

    let settings = set_graph_settings(&env, no_throttle()).await;
    assert!(settings["signInsThrottle"].is_null());
    for _ in 0..12 {
        let (status, _, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
        assert_eq!(status, StatusCode::OK);
    }

    let settings = set_graph_settings(&env, json!({"pageLatencyMs": 300})).await;
    assert_eq!(settings["pageLatencyMs"], 300);
    let started = Instant::now();
    let (status, _, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed().as_millis() >= 300);
    let settings = set_graph_settings(&env, json!({"pageLatencyMs": {"min": 0, "max": 20}})).await;
    assert_eq!(settings["pageLatencyMs"], json!({"min": 0, "max": 20}));

    for bad in [
        json!({"signInsThrottle": {"requests": 0, "windowSeconds": 10}}),
        json!({"pageLatencyMs": {"min": 10, "max": 5}}),
        json!({"pageLatencyMs": "slow"}),
        json!({"turbo": true}),
    ] {
        let (status, _) = env
            .post_json("/_emulator/graph/settings", bad.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // A rejected change changes nothing.
    let (_, current, _) = env.get("/_emulator/graph/settings", None).await;
    assert!(current["signInsThrottle"].is_null(), "{current}");
}

/// The latencies the request log gives the sign-in pages, in order.
async fn logged_latencies(env: &Env) -> Vec<u64> {
    let (_, log, _) = env.get("/_emulator/requests", None).await;
    log.as_array()
        .expect("request log")
        .iter()
        .filter_map(|entry| entry["latencyMs"].as_u64())
        .collect()
}

#[tokio::test]
async fn a_seeded_page_latency_draws_the_same_sequence_each_time_it_is_set() {
    let env = Env::start_with(signins_json()).await;
    let token = reporter_token(&env).await;
    set_graph_settings(&env, no_throttle()).await;
    let mut runs = Vec::new();
    for seed in [7, 7, 8] {
        let setting = json!({"min": 5, "max": 60, "seed": seed});
        let settings = set_graph_settings(&env, json!({"pageLatencyMs": setting})).await;
        assert_eq!(settings["pageLatencyMs"], setting, "the seed is part of the setting");
        let _ = env.http.delete(env.url("/_emulator/requests")).send().await;
        for _ in 0..6 {
            let (status, _, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
            assert_eq!(status, StatusCode::OK);
        }
        runs.push(logged_latencies(&env).await);
    }
    assert_eq!(runs[0].len(), 6, "{runs:?}");
    assert!(runs[0].iter().all(|ms| (5..=60).contains(ms)), "{runs:?}");
    assert!(runs[0].iter().any(|ms| *ms != runs[0][0]), "draws vary: {runs:?}");
    assert_eq!(runs[0], runs[1], "setting the same seed again starts its sequence again");
    assert_ne!(runs[0], runs[2], "another seed, another sequence");
}
