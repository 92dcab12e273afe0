//! Helpers for the sign-in tests: the `scenarios/signins.json` identifiers, tokens, list calls
//! and a nextLink follower.

#![allow(dead_code)]

use std::collections::HashSet;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::*;

pub const S_TENANT: &str = "7c4e1b2a-5d3f-4a6b-9c8d-1e2f3a4b5c6d";
pub const S_CUSTOMER: &str = "8d5f2c3b-6e4a-4b7c-8d9e-2f3a4b5c6d7e";
pub const REPORTER: &str = "9f1e2d3c-4b5a-4c6d-8e7f-1a2b3c4d5e6f";
pub const REPORTER_SECRET: &str = "signins-secret-reporter-0001-NOT-A-REAL-SECRET";
/// GDAP customers of the sign-in scenario: P2 with an active relationship, one whose
/// relationship has ended, and one with none.
pub const S_NORTHWIND: &str = "9e6a3d4c-7f5b-4c8d-9eaf-3a4b5c6d7e8f";
pub const S_TAILSPIN: &str = "af7b4e5d-8a6c-4d9e-8fb0-4b5c6d7e8f90";
pub const S_WOODGROVE: &str = "b08c5f6e-9b7d-4eaf-90c1-5c6d7e8f9a01";
pub const DIR_READER: &str = "8e2d1c0b-5a4f-4e3d-9c2b-2b3c4d5e6f70";
pub const DIR_READER_SECRET: &str = "signins-secret-dirreader-0002-NOT-A-REAL-SECRET";
pub const RT_REPORTER_ADMIN: &str =
    "1.AsigninsRefreshToken-reporter-admin-0001-NOT-A-REAL-TOKEN-ffffffffffffffffffffffffffff";
pub const S_ADMIN: &str = "c1000001-0000-4000-8000-000000000001";
pub const S_SALES: &str = "c1000001-0000-4000-8000-000000000002";
pub const S_GUEST: &str = "c1000001-0000-4000-8000-000000000003";

/// Literal sign-in `n` of the scenario (1-based).
pub fn literal(n: u32) -> String {
    format!("51000000-0000-4000-8000-{n:012}")
}

/// The v1.0 signIn properties, in Graph's order (api-contracts §3.3, §3.5).
pub const V1_PROPERTIES: [&str; 24] = [
    "id",
    "createdDateTime",
    "userDisplayName",
    "userPrincipalName",
    "userId",
    "appId",
    "appDisplayName",
    "ipAddress",
    "clientAppUsed",
    "correlationId",
    "conditionalAccessStatus",
    "isInteractive",
    "riskDetail",
    "riskLevelAggregated",
    "riskLevelDuringSignIn",
    "riskState",
    "riskEventTypes",
    "riskEventTypes_v2",
    "resourceDisplayName",
    "resourceId",
    "status",
    "deviceDetail",
    "location",
    "appliedConditionalAccessPolicies",
];

pub fn signins_json() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/signins.json"
    ))
    .expect("signins scenario readable")
}

/// The sign-in scenario with a change applied.
pub fn signins_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(&signins_json()).expect("scenario is JSON");
    edit(&mut v);
    v.to_string()
}

/// The sign-in scenario without the reports throttle (most tests page freely).
pub fn unthrottled(edit: impl FnOnce(&mut Value)) -> String {
    signins_with(|v| {
        v["graph"]["signInsThrottle"] = Value::Null;
        edit(v);
    })
}

pub async fn reporter_token(env: &Env) -> String {
    app_token_for(env, S_TENANT, REPORTER, REPORTER_SECRET).await
}

pub async fn app_token_for(env: &Env, tenant: &str, client: &str, secret: &str) -> String {
    env.access_token(
        tenant,
        "v2",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await
}

pub async fn delegated_token(env: &Env) -> String {
    env.access_token(
        S_TENANT,
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", REPORTER),
            ("client_secret", REPORTER_SECRET),
            ("refresh_token", RT_REPORTER_ADMIN),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await
}

/// `GET /graph/{version}/auditLogs/signIns` with query options.
pub async fn list(
    env: &Env,
    version: &str,
    token: &str,
    params: &[(&str, &str)],
) -> (StatusCode, Value, HeaderMap) {
    let resp = env
        .http
        .get(env.url(&format!("/graph/{version}/auditLogs/signIns")))
        .query(params)
        .bearer_auth(token)
        .send()
        .await
        .expect("list sent");
    split(resp).await
}

pub async fn get_url(env: &Env, url: &str, token: &str) -> (StatusCode, Value, HeaderMap) {
    let resp = env
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET sent");
    split(resp).await
}

/// Every page from the first request to the last nextLink; asserts each is 200.
pub async fn all_pages(
    env: &Env,
    version: &str,
    token: &str,
    params: &[(&str, &str)],
) -> Vec<Vec<Value>> {
    let (status, mut body, _) = list(env, version, token, params).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut pages = Vec::new();
    loop {
        pages.push(body["value"].as_array().expect("value").clone());
        let Some(next) = body["@odata.nextLink"].as_str().map(str::to_owned) else {
            break;
        };
        assert!(
            next.starts_with(&format!(
                "{}/graph/{version}/auditLogs/signIns?",
                env.emu.base_url
            )),
            "{next}"
        );
        let (status, b, _) = get_url(env, &next, token).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        body = b;
        assert!(pages.len() < 10_000, "paging does not end");
    }
    pages
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Asserts no id repeats and returns how many there are.
pub fn assert_unique(items: &[Value]) -> usize {
    let all = ids(items);
    let set: HashSet<&String> = all.iter().collect();
    assert_eq!(set.len(), all.len(), "duplicate ids across pages");
    all.len()
}

pub async fn count_hook(env: &Env, tenant: &str, version: &str, filter: Option<&str>) -> u64 {
    let mut params = vec![("tenant", tenant), ("version", version)];
    if let Some(f) = filter {
        params.push(("filter", f));
    }
    let resp = env
        .http
        .get(env.url("/_emulator/signins/count"))
        .query(&params)
        .send()
        .await
        .expect("count sent");
    let (status, body, _) = split(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["count"].as_u64().expect("count")
}

pub async fn set_graph_settings(env: &Env, settings: Value) -> Value {
    let (status, body) = env.post_json("/_emulator/graph/settings", settings).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub fn assert_graph_error(status: StatusCode, body: &Value, want: u16, code: &str) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    for field in ["date", "request-id", "client-request-id"] {
        assert!(
            body["error"]["innerError"][field].is_string(),
            "innerError.{field} in {body}"
        );
    }
}

pub fn created(item: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(item["createdDateTime"].as_str().expect("time"))
        .expect("rfc3339")
}

pub fn no_throttle() -> Value {
    json!({"signInsThrottle": null})
}
