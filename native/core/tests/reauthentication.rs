//! A Graph request whose access token is refused with `401 invalid_token` (the service's clock
//! runs ahead of ours, or the token was revoked mid-run): the core drops the cached token, gets
//! a fresh one and repeats the request exactly once; a fresh token refused again is a clear
//! authentication error. Against the in-process emulator, whose clock the tests move and whose
//! fault injector answers `401 invalid_token` on request.

mod support;

use partnersecurity_core::signins::page::fields;
use partnersecurity_core::signins::{Budget, FetchOptions, SignInQuery};
use partnersecurity_core::{Error, ErrorKind, PartnerSecurity};
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::{RunningEmulator, serve};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;
use support::TENANT;

struct Fx {
    emulator: RunningEmulator,
    core: PartnerSecurity,
    control: reqwest::Client,
}

impl Fx {
    async fn start() -> Fx {
        let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(support::signins_scenario().to_string())).with_tls(true)).await.expect("emulator starts");
        let pem = emulator.certificate_pem.clone().expect("TLS certificate");
        let core = support::connected(&emulator.base_url, &pem).await;
        Fx { control: support::control_client(&pem), emulator, core }
    }

    async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        support::control(&self.control, &self.emulator.base_url, method, path, body.unwrap_or(Value::Null)).await
    }

    /// (sign-in request statuses, token requests) the emulator logged since the last clear.
    async fn log(&self) -> (Vec<u64>, usize) {
        let log = self.control("GET", "requests", None).await;
        let entries = log.as_array().cloned().unwrap_or_default();
        let signins = entries.iter().filter(|e| e["path"].as_str().is_some_and(|p| p.contains("/auditLogs/signIns"))).map(|e| e["status"].as_u64().unwrap_or(0)).collect();
        let tokens = entries.iter().filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/token"))).count();
        (signins, tokens)
    }

    async fn count(&self) -> u64 {
        let url = reqwest::Url::parse_with_params(&format!("{}/_emulator/signins/count", self.emulator.base_url), &[("tenant", TENANT), ("version", "beta")]).expect("url");
        let answer: Value = self.control.get(url).send().await.expect("count").json().await.expect("count JSON");
        answer["count"].as_u64().expect("count")
    }

    /// Runs a query to the end: record ids, and the first failure.
    async fn run(&self, windows: u32) -> (Vec<String>, Option<Error>) {
        let options = FetchOptions { page_size: 500, windows, budget: Budget { requests: 1000, window: Duration::from_secs(1) }, ..Default::default() };
        let logs = self.core.sign_in_logs();
        let id = logs.open(self.core.sign_in_context().expect("context"), SignInQuery { options, ..Default::default() }).expect("open");
        let mut ids = Vec::new();
        loop {
            let batch = logs.next(&id).await.expect("next");
            ids.extend(batch.records.iter().map(|r| fields(r)["Id"].as_str().expect("Id").to_owned()));
            if batch.failure.is_some() || batch.done {
                logs.close(&id);
                return (ids, batch.failure);
            }
        }
    }
}

#[tokio::test]
async fn a_token_graph_finds_expired_is_replaced_once_and_the_query_goes_on() {
    let fx = Fx::start().await;
    let expected = fx.count().await;
    let (first, failure) = fx.run(1).await;
    assert!(failure.is_none(), "{failure:?}");
    assert_eq!(first.len() as u64, expected);

    // Graph's clock is now three hours ahead: the cached token is still valid by ours, expired by its.
    fx.control("POST", "clock/advance", Some(json!({"seconds": 3 * 3600}))).await;
    fx.control("DELETE", "requests", None).await;
    // Its retention window moved with its clock: compare with what it holds now.
    let expected = fx.count().await;
    let (second, failure) = fx.run(1).await;
    assert!(failure.is_none(), "{failure:?}");
    assert_eq!(second.len() as u64, expected, "every record arrives");
    assert_eq!(second.iter().collect::<HashSet<_>>().len(), second.len(), "none twice");
    let (statuses, tokens) = fx.log().await;
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 1, "one refusal, then the fresh token was used: {statuses:?}");
    assert_eq!(statuses[0], 401, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(tokens, 1, "exactly one fresh token was requested");
}

#[tokio::test]
async fn a_fresh_token_refused_again_is_a_clear_authentication_error() {
    let fx = Fx::start().await;
    let (warm, _) = fx.run(1).await;
    assert!(!warm.is_empty());
    fx.control("DELETE", "requests", None).await;
    fx.control("POST", "faults", Some(json!({"seed": 1, "rate": 1.0, "kinds": ["unauthorized"]}))).await;
    let (records, failure) = fx.run(1).await;
    let failure = failure.expect("the query fails");
    assert!(records.is_empty());
    assert_eq!(failure.kind(), ErrorKind::Authentication);
    assert_eq!(failure.code().as_deref(), Some("InvalidAuthenticationToken"));
    let text = failure.to_string();
    assert!(text.contains("not even a newly issued one") && text.contains("Connect-PartnerCenter") && text.contains(TENANT), "{text}");
    let (statuses, tokens) = fx.log().await;
    assert_eq!(statuses, vec![401, 401], "the request is repeated exactly once");
    assert_eq!(tokens, 1, "one fresh token, no more");

    // The session is still usable once the service accepts tokens again.
    fx.control("POST", "faults", Some(Value::Null)).await;
    let (again, failure) = fx.run(1).await;
    assert!(failure.is_none(), "{failure:?}");
    assert!(again == warm, "{} records instead of {}", again.len(), warm.len());
}

#[tokio::test]
async fn tokens_revoked_now_and_then_during_a_long_run_lose_nothing() {
    let fx = Fx::start().await;
    let expected = fx.count().await;
    let (reference, _) = fx.run(1).await;
    assert_eq!(reference.len() as u64, expected);
    fx.control("DELETE", "requests", None).await;
    // One window: requests go one after another, so the seeded draws fall on the same requests
    // every run. This seed refuses several requests, never one request's repetition too.
    fx.control("POST", "faults", Some(json!({"seed": 7, "rate": 0.25, "kinds": ["unauthorized"]}))).await;
    let (records, failure) = fx.run(1).await;
    assert!(failure.is_none(), "{failure:?}");
    assert!(records == reference, "records lost, repeated or reordered: {} instead of {}", records.len(), reference.len());
    let (statuses, tokens) = fx.log().await;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert!(refused >= 2, "the test needs refusals: {statuses:?}");
    assert_eq!(tokens, refused, "one fresh token per refusal");
}
