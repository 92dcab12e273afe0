//! Fault injection: each kind through the `x-emulator-fault` header, the seeded random mode,
//! and where faults never apply (token service, control plane).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::*;
use crate::signins_support::*;

const SIGNINS: &str = "/graph/v1.0/auditLogs/signIns?$top=20";

async fn with_fault(
    env: &Env,
    path: &str,
    token: &str,
    fault: &str,
) -> reqwest::Result<reqwest::Response> {
    env.http
        .get(env.url(path))
        .bearer_auth(token)
        .header("x-emulator-fault", fault)
        .send()
        .await
}

/// Sends a raw HTTP/1.1 request and returns every byte the server wrote before closing.
async fn raw(env: &Env, path: &str, token: &str, fault: &str) -> Vec<u8> {
    let addr = env.emu.local_addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nx-emulator-fault: {fault}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "server kept the connection open");
    out
}

#[tokio::test]
async fn every_fault_kind_on_request() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;

    // Baseline.
    let normal = with_fault(&env, SIGNINS, &token, "none")
        .await
        .expect("sent");
    assert_eq!(normal.status(), StatusCode::OK);
    let normal_body: Value = normal.json().await.expect("JSON");

    for (kind, status, code) in [
        ("http500", 500, "UnknownError"),
        ("http503", 503, "serviceNotAvailable"),
    ] {
        let resp = with_fault(&env, SIGNINS, &token, kind).await.expect("sent");
        let headers = resp.headers().clone();
        let (s, body, _) = split(resp).await;
        assert_graph_error(s, &body, status, code);
        if status == 503 {
            assert_eq!(headers["retry-after"], "1");
        }
    }
    // Named only, never drawn by default: a refused token with Graph's challenge.
    let resp = with_fault(&env, SIGNINS, &token, "unauthorized").await.expect("sent");
    let challenge = resp.headers()["www-authenticate"].to_str().expect("ASCII").to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let (s, body, _) = split(resp).await;
    assert_graph_error(s, &body, 401, "InvalidAuthenticationToken");
    for (kind, status) in [("http502", 502), ("http504", 504)] {
        let resp = with_fault(&env, SIGNINS, &token, kind).await.expect("sent");
        assert_eq!(resp.status().as_u16(), status);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .is_ok_and(|c| c.starts_with("text/html"))
        );
        let text = resp.text().await.expect("body");
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "a gateway page, not JSON"
        );
    }

    // reset: not a single byte of HTTP.
    assert!(raw(&env, SIGNINS, &token, "reset").await.is_empty());
    assert!(with_fault(&env, SIGNINS, &token, "reset").await.is_err());

    // truncated: Content-Length promises more than arrives before the close.
    let bytes = raw(&env, SIGNINS, &token, "truncated").await;
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    assert!(body.len() < length, "{} of {length}", body.len());
    let resp = with_fault(&env, SIGNINS, &token, "truncated")
        .await
        .expect("head arrives");
    assert!(resp.bytes().await.is_err(), "reading the body fails");

    // malformedJson: a complete 200 that does not parse.
    let resp = with_fault(&env, SIGNINS, &token, "malformedJson")
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.expect("complete body");
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(text.starts_with("{\"@odata.context\""));

    // slowBody: the real page, trickled.
    let started = Instant::now();
    let resp = with_fault(&env, SIGNINS, &token, "slowBody; seconds=1")
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let slow: Value = resp.json().await.expect("valid JSON");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        ids(slow["value"].as_array().expect("value")),
        ids(normal_body["value"].as_array().expect("value"))
    );

    // Partner Center gets its own envelope.
    let resp = with_fault(
        &env,
        "/partnercenter/v1/profiles/organization",
        &token,
        "http500",
    )
    .await
    .expect("sent");
    let (s, body, _) = split(resp).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["source"], "PartnerFD");

    // Typos in the header are reported, not ignored.
    let resp = with_fault(&env, SIGNINS, &token, "teapot")
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // The request log names each fault; a reset has no status.
    let (_, log, _) = env.get("/_emulator/requests", None).await;
    let faults: Vec<(String, u64)> = log
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| Some((e["fault"].as_str()?.to_owned(), e["status"].as_u64()?)))
        .collect();
    assert!(faults.contains(&("reset".to_owned(), 0)), "{faults:?}");
    assert!(faults.contains(&("http503".to_owned(), 503)), "{faults:?}");
    assert!(faults.iter().any(|(k, _)| k == "slowBody"));
}

#[tokio::test]
async fn faults_never_touch_the_token_service_or_control_plane() {
    let env = Env::start_with(unthrottled(|v| {
        v["faults"] = json!({"seed": 1, "rate": 1.0, "kinds": ["http500"]});
    }))
    .await;
    // With every data request failing, tokens and hooks still work.
    let token = reporter_token(&env).await;
    let resp = env
        .http
        .get(env.url("/_emulator/health"))
        .header("x-emulator-fault", "reset")
        .send()
        .await
        .expect("control plane answers");
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, _, _) = list(&env, "v1.0", &token, &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, body, _) = env.get("/_emulator/faults", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["faults"]["rate"], 1.0);
    // Turning faults off at run time.
    let (status, _) = env.post_json("/_emulator/faults", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = env
        .post_json("/_emulator/faults", json!({"rate": 2.0}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_token_service_outage_refuses_exactly_the_requests_named() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let (status, _) = env
        .post_json("/_emulator/faults", json!({"rate": 0.0, "tokenOutage": 2}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", REPORTER),
        ("client_secret", REPORTER_SECRET),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    for version in ["v2", "v1"] {
        let (status, body, _) = env.token(S_TENANT, version, &form).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable");
        assert_eq!(body["error_codes"][0], 90033);
    }
    // The third request finds the service back; 429 without Retry-After on request.
    let token = reporter_token(&env).await;
    let resp = with_fault(&env, SIGNINS, &token, "http429").await.expect("sent");
    assert!(resp.headers().get("retry-after").is_none());
    let (s, body, _) = split(resp).await;
    assert_graph_error(s, &body, 429, "TooManyRequests");
}

/// Statuses of `n` sign-in requests against a fresh emulator with seeded faults.
async fn fault_sequence(seed: u64, n: usize) -> Vec<u16> {
    let env = Env::start_with(unthrottled(|v| {
        v["faults"] =
            json!({"seed": seed, "rate": 0.4, "kinds": ["http500", "http503", "http502"]});
    }))
    .await;
    let token = reporter_token(&env).await;
    let mut out = Vec::new();
    for _ in 0..n {
        let (status, _, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
        out.push(status.as_u16());
    }
    out
}

#[tokio::test]
async fn seeded_faults_are_reproducible() {
    let a = fault_sequence(1234, 30).await;
    let b = fault_sequence(1234, 30).await;
    assert_eq!(a, b, "same seed, same requests, same faults");
    assert!(a.contains(&200) && a.iter().any(|s| *s >= 500), "{a:?}");
    let c = fault_sequence(99, 30).await;
    assert_ne!(a, c, "another seed, other faults");
}
