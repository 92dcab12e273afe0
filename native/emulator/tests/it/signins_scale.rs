//! The generator: determinism (same seed, same bytes) and a 1,000,000-record tenant served
//! page by page without materialising it.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::signins_support::*;

/// Midnight UTC today: a fixed `end` makes generated records independent of start-up time.
fn today() -> chrono::DateTime<Utc> {
    Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Only generated sign-ins, `days` back from midnight (29 keeps them all inside the 30-day
/// retention whatever the time of day).
fn generated_only(seed: u64, count: u64, users: u32) -> String {
    unthrottled(|v| {
        v["tenants"][0]["signIns"] = json!({
            "generate": {"seed": seed, "count": count, "days": DAYS, "users": users, "end": stamp(today())}
        });
    })
}

const DAYS: i64 = 29;

/// The first two pages of a query, as raw `value` bytes plus the second page's skiptoken.
async fn two_pages(seed: u64) -> (String, String, String) {
    let env = Env::start_with(generated_only(seed, 20_000, 200)).await;
    let token = reporter_token(&env).await;
    let (status, first, _) = list(
        &env,
        "beta",
        &token,
        &[
            ("$top", "150"),
            (
                "$filter",
                "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'servicePrincipal')",
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let next = first["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let (status, second, _) = get_url(&env, &next, &token).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let skiptoken = next
        .split_once("$skiptoken=")
        .expect("skiptoken")
        .1
        .to_owned();
    (
        first["value"].to_string(),
        second["value"].to_string(),
        skiptoken,
    )
}

#[tokio::test]
async fn same_seed_same_page_bytes() {
    let a = two_pages(42).await;
    let b = two_pages(42).await;
    assert_eq!(a.0, b.0, "first page");
    assert_eq!(a.1, b.1, "second page");
    assert_eq!(a.2, b.2, "skiptoken");
    let c = two_pages(43).await;
    assert_ne!(a.0, c.0, "another seed");
}

#[tokio::test]
async fn a_million_sign_ins_page_by_page() {
    let env = Env::start_with(generated_only(2024, 1_000_000, 500)).await;
    let token = reporter_token(&env).await;
    let end = today();

    let resp = env
        .http
        .get(env.url("/_emulator/signins/count"))
        .query(&[("tenant", S_TENANT), ("version", "v1.0")])
        .send()
        .await
        .expect("sent");
    let (_, counted, _) = split(resp).await;
    assert_eq!(counted["total"], 1_000_000);
    let interactive = counted["count"].as_u64().expect("count");
    assert_eq!(interactive, 500_000, "50% of the mix is interactive");

    // First page: the newest 1000.
    let (status, first, _) = list(&env, "v1.0", &token, &[("$top", "1000")]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let items = first["value"].as_array().expect("value");
    assert_eq!(items.len(), 1000);
    assert!(first["@odata.nextLink"].is_string());
    assert!(created(&items[0]) <= end);
    for pair in items.windows(2) {
        assert!(created(&pair[0]) >= created(&pair[1]));
    }

    // A middle page, reached directly by time.
    let mid = end - Duration::days(15);
    let le = format!("createdDateTime le {}", stamp(mid));
    let (status, middle, _) =
        list(&env, "v1.0", &token, &[("$top", "1000"), ("$filter", &le)]).await;
    assert_eq!(status, StatusCode::OK, "{middle}");
    let items = middle["value"].as_array().expect("value");
    assert_eq!(items.len(), 1000);
    assert!(created(&items[0]) <= mid && created(&items[0]) > mid - Duration::hours(2));
    let gt = format!("createdDateTime gt {}", stamp(mid));
    let older = count_hook(&env, S_TENANT, "v1.0", Some(&le)).await;
    let newer = count_hook(&env, S_TENANT, "v1.0", Some(&gt)).await;
    assert_eq!(
        older + newer,
        interactive,
        "the two halves cover everything once"
    );

    // The last pages: the oldest hour, followed to the end.
    let oldest = end - Duration::days(DAYS) + Duration::hours(1);
    let filter = format!("createdDateTime lt {}", stamp(oldest));
    let items: Vec<Value> = all_pages(
        &env,
        "v1.0",
        &token,
        &[("$top", "250"), ("$filter", &filter)],
    )
    .await
    .concat();
    let n = assert_unique(&items);
    assert!(n > 0);
    assert_eq!(
        n as u64,
        count_hook(&env, S_TENANT, "v1.0", Some(&filter)).await
    );
    assert!(
        items
            .iter()
            .all(|i| created(i) < oldest && created(i) >= end - Duration::days(DAYS))
    );

    // Ascending order starts at the very oldest record.
    let (status, asc, _) = list(
        &env,
        "v1.0",
        &token,
        &[("$top", "5"), ("$orderby", "createdDateTime asc")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(asc["value"][0]["id"], items.last().expect("oldest")["id"]);

    // A selective condition inside a time window scans without trouble.
    let user = first["value"][0]["userId"]
        .as_str()
        .expect("userId")
        .to_owned();
    let filter = format!(
        "userId eq '{user}' and createdDateTime ge {}",
        stamp(end - Duration::days(2))
    );
    let items: Vec<Value> = all_pages(&env, "v1.0", &token, &[("$filter", &filter)])
        .await
        .concat();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["userId"] == user.as_str()));

}
