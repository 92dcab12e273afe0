//! `auditLogs/signIns`: property sets, permissions, licence, query options, `$filter`,
//! paging against the count hook, retention and the literal records of `signins.json`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::signins_support::*;

#[tokio::test]
async fn v1_has_exactly_the_v1_properties_and_beta_adds_its_own() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;

    let (status, body, headers) = list(&env, "v1.0", &token, &[("$top", "5")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("application/json")),
        "{headers:?}"
    );
    assert!(headers.contains_key("request-id"));
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/graph/v1.0/$metadata#auditLogs/signIns",
            env.emu.base_url
        )
    );
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["@odata.context", "@odata.nextLink", "value"]);
    let items = body["value"].as_array().expect("value");
    assert_eq!(items.len(), 5);
    for item in items {
        let keys: Vec<&str> = item
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, V1_PROPERTIES, "v1.0 property set");
        assert_eq!(
            item["isInteractive"], true,
            "v1.0 lists interactive sign-ins only"
        );
        let status = item["status"].as_object().expect("status");
        assert_eq!(
            status.keys().map(String::as_str).collect::<Vec<_>>(),
            ["errorCode", "failureReason", "additionalDetails"]
        );
        assert!(item["status"]["errorCode"].is_i64());
        for k in [
            "deviceId",
            "displayName",
            "operatingSystem",
            "browser",
            "isCompliant",
            "isManaged",
            "trustType",
        ] {
            assert!(item["deviceDetail"].get(k).is_some(), "deviceDetail.{k}");
        }
        for k in ["city", "state", "countryOrRegion", "geoCoordinates"] {
            assert!(item["location"].get(k).is_some(), "location.{k}");
        }
        assert!(uuid::Uuid::parse_str(item["id"].as_str().expect("id")).is_ok());
        assert!(created(item).timestamp() > 0);
    }

    let (status, body, _) = list(&env, "beta", &token, &[("$top", "5")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/graph/beta/$metadata#auditLogs/signIns",
            env.emu.base_url
        )
    );
    for item in body["value"].as_array().expect("value") {
        let obj = item.as_object().expect("object");
        for k in V1_PROPERTIES {
            assert!(obj.contains_key(k), "beta keeps {k}");
        }
        for k in [
            "authenticationRequirement",
            "authenticationDetails",
            "authenticationMethodsUsed",
            "mfaDetail",
            "signInEventTypes",
            "servicePrincipalId",
            "servicePrincipalName",
            "userType",
            "crossTenantAccessType",
            "homeTenantId",
            "resourceTenantId",
            "authenticationProtocol",
            "incomingTokenType",
            "userAgent",
            "uniqueTokenIdentifier",
        ] {
            assert!(obj.contains_key(k), "beta adds {k}");
        }
        let req = item["authenticationRequirement"]
            .as_str()
            .expect("requirement");
        assert!(
            ["singleFactorAuthentication", "multiFactorAuthentication"].contains(&req),
            "{req}"
        );
        assert_eq!(item["signInEventTypes"], json!(["interactiveUser"]));
        assert!(["member", "guest"].contains(&item["userType"].as_str().expect("userType")));
    }
}

#[tokio::test]
async fn permissions_are_checked() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let (status, body, headers) = list(&env, "v1.0", "", &[]).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    assert!(headers.contains_key("www-authenticate"));

    let reader = app_token_for(&env, S_TENANT, DIR_READER, DIR_READER_SECRET).await;
    let (status, body, _) = list(&env, "v1.0", &reader, &[("$top", "1")]).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    assert_eq!(
        body["error"]["message"],
        "Insufficient privileges to complete the operation."
    );

    let delegated = delegated_token(&env).await;
    let (status, body, _) = list(&env, "beta", &delegated, &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A token for another resource is not a Graph token.
    let pc = env
        .access_token(
            S_TENANT,
            "v2",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", REPORTER),
                ("client_secret", REPORTER_SECRET),
                ("refresh_token", RT_REPORTER_ADMIN),
                (
                    "scope",
                    "https://api.partnercenter.microsoft.com/user_impersonation",
                ),
            ],
        )
        .await;
    let (status, body, _) = list(&env, "v1.0", &pc, &[]).await;
    assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn tenant_without_p1_or_p2_gets_the_licence_error() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = app_token_for(&env, S_CUSTOMER, REPORTER, REPORTER_SECRET).await;
    for version in ["v1.0", "beta"] {
        let (status, body, _) = list(&env, version, &token, &[]).await;
        assert_graph_error(
            status,
            &body,
            403,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        );
        assert_eq!(
            body["error"]["message"],
            "Neither tenant is B2C or tenant doesn't have premium license"
        );
    }
    // Buying P1 (here via a bundle) unlocks the report.
    let env = Env::start_with(unthrottled(|v| {
        v["tenants"][1]["licenses"] = json!(["SPE_E3"]);
    }))
    .await;
    let token = app_token_for(&env, S_CUSTOMER, REPORTER, REPORTER_SECRET).await;
    let (status, body, _) = list(&env, "v1.0", &token, &[("$top", "3")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Risk levels need P2; with P1 they read "hidden".
    let item = &body["value"][0];
    assert_eq!(item["riskLevelDuringSignIn"], "hidden", "{item}");
    assert_eq!(item["riskLevelAggregated"], "hidden");
}

#[tokio::test]
async fn top_bounds_and_default_page_size() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    for bad in ["0", "1001", "-1", "ten", "1.5", ""] {
        let (status, body, _) = list(&env, "v1.0", &token, &[("$top", bad)]).await;
        assert_graph_error(status, &body, 400, "BadRequest");
    }
    let (status, body, _) = list(&env, "v1.0", &token, &[("$top", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1));
    let next = body["@odata.nextLink"].as_str().expect("nextLink");
    assert!(
        next.contains("$top=1&") && next.contains("$skiptoken="),
        "{next}"
    );

    // Default and maximum page size: 1000 (the tenant has about 2,500 interactive sign-ins).
    let (status, body, _) = list(&env, "v1.0", &token, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1000));
    assert!(body["@odata.nextLink"].is_string());
    let (status, body, _) = list(&env, "v1.0", &token, &[("$top", "1000")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1000));

    // Repeated or unsupported query options.
    let url = env.url("/graph/v1.0/auditLogs/signIns?$top=1&$top=2");
    let (status, body, _) = get_url(&env, &url, &token).await;
    assert_graph_error(status, &body, 400, "BadRequest");
    let (status, body, _) = list(&env, "v1.0", &token, &[("$skip", "10")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body, _) = list(&env, "v1.0", &token, &[("$orderby", "userId")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn select_limits_and_validates_properties() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let (status, body, _) = list(
        &env,
        "v1.0",
        &token,
        &[("$select", "userPrincipalName,id,status"), ("$top", "3")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/graph/v1.0/$metadata#auditLogs/signIns(id,userPrincipalName,status)",
            env.emu.base_url
        )
    );
    for item in body["value"].as_array().expect("value") {
        let keys: Vec<&str> = item
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["id", "userPrincipalName", "status"]);
    }
    // $select survives into the next link.
    let next = body["@odata.nextLink"].as_str().expect("nextLink");
    let (status, page2, _) = get_url(&env, next, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page2["value"][0].as_object().map(|o| o.len()), Some(3));

    let (status, body, _) = list(&env, "v1.0", &token, &[("$select", "id,bogus")]).await;
    assert_graph_error(status, &body, 400, "BadRequest");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'bogus'")),
        "{body}"
    );
    // Beta-only properties do not exist on v1.0.
    let (status, body, _) = list(
        &env,
        "v1.0",
        &token,
        &[("$select", "authenticationRequirement")],
    )
    .await;
    assert_graph_error(status, &body, 400, "BadRequest");
    let (status, body, _) = list(
        &env,
        "beta",
        &token,
        &[
            ("$select", "authenticationRequirement,mfaDetail"),
            ("$top", "2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"][0].as_object().map(|o| o.len()), Some(2));
}

#[tokio::test]
async fn bad_filters_are_client_errors_never_500() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let cases: &[(&str, &str, &str)] = &[
        ("v1.0", "userId eq 'x' or true", "BadRequest"),
        ("v1.0", "userId eq 'x' or 1 eq 1", "BadRequest"),
        ("v1.0", "userId eq 'x", "BadRequest"),
        ("v1.0", "userId eq 'x'')", "BadRequest"),
        ("v1.0", "((userId eq 'x')", "BadRequest"),
        ("v1.0", "userId eq 'x'))", "BadRequest"),
        ("v1.0", "userId eq x", "BadRequest"),
        ("v1.0", "userId == 'x'", "BadRequest"),
        ("v1.0", "userId eq 'x'; DROP TABLE signIns", "BadRequest"),
        ("v1.0", "userId eq \"x\"", "BadRequest"),
        ("v1.0", "bogus eq 'x'", "BadRequest"),
        (
            "v1.0",
            "createdDateTime ge '2024-01-01T00:00:00Z'",
            "BadRequest",
        ),
        (
            "v1.0",
            "createdDateTime ge 2024-02-30T00:00:00Z",
            "BadRequest",
        ),
        ("v1.0", "status/errorCode eq 'abc'", "BadRequest"),
        ("v1.0", "isInteractive eq 1", "BadRequest"),
        ("v1.0", "conditionalAccessStatus eq 'maybe'", "BadRequest"),
        (
            "v1.0",
            "signInEventTypes/any(t: t eq 'interactiveUser')",
            "BadRequest",
        ),
        ("v1.0", "", "BadRequest"),
        ("v1.0", "\u{0}", "BadRequest"),
        ("v1.0", "userId ne 'x'", "Request_UnsupportedQuery"),
        (
            "v1.0",
            "endswith(userPrincipalName,'.com')",
            "Request_UnsupportedQuery",
        ),
        (
            "v1.0",
            "startswith(appId,'c44')",
            "Request_UnsupportedQuery",
        ),
        (
            "beta",
            "signInEventTypes/all(t: t eq 'interactiveUser')",
            "Request_UnsupportedQuery",
        ),
        ("beta", "userAgent eq 'x'", "Request_UnsupportedQuery"),
        (
            "beta",
            "signInEventTypes/any(t: t eq 'nobody')",
            "BadRequest",
        ),
    ];
    for (version, filter, code) in cases {
        let (status, body, _) = list(&env, version, &token, &[("$filter", filter)]).await;
        assert_graph_error(status, &body, 400, code);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Invalid filter clause")),
            "{filter}: {body}"
        );
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{}userId eq 'x'{}", "(".repeat(5000), ")".repeat(5000));
    let (status, body, _) = list(&env, "v1.0", &token, &[("$filter", &deep)]).await;
    assert_graph_error(status, &body, 400, "BadRequest");
    // Quotes inside a literal are data: this matches nothing and is not an error.
    let (status, body, _) = list(
        &env,
        "v1.0",
        &token,
        &[("$filter", "userId eq 'x'' or ''1'' eq ''1'")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], json!([]));
    assert!(body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn filters_select_the_right_records() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let check = |items: &[Value], pred: &dyn Fn(&Value) -> bool, what: &str| {
        assert!(!items.is_empty(), "{what}: nothing matched");
        for item in items {
            assert!(pred(item), "{what}: {item}");
        }
    };
    let filtered = |version: &'static str, filter: &'static str| {
        let env = &env;
        let token = &token;
        async move {
            let pages = all_pages(env, version, token, &[("$filter", filter)]).await;
            let items: Vec<Value> = pages.concat();
            let n = count_hook(env, S_TENANT, version, Some(filter)).await;
            assert_eq!(items.len() as u64, n, "{filter}: pages vs count hook");
            items
        }
    };

    let items = filtered("v1.0", "userId eq 'c1000001-0000-4000-8000-000000000002'").await;
    check(&items, &|i| i["userId"] == S_SALES, "userId");
    let items = filtered("v1.0", "startswith(userPrincipalName,'ADMIN@')").await;
    check(
        &items,
        &|i| i["userPrincipalName"] == "admin@contoso-signins.onmicrosoft.com",
        "startswith",
    );
    let items = filtered("v1.0", "status/errorCode eq 50126").await;
    check(&items, &|i| i["status"]["errorCode"] == 50126, "errorCode");
    let items = filtered("v1.0", "status/errorCode ne 0").await;
    check(&items, &|i| i["status"]["errorCode"] != 0, "errorCode ne");
    let items = filtered(
        "v1.0",
        "clientAppUsed eq 'IMAP4' or clientAppUsed eq 'Authenticated SMTP' or clientAppUsed eq 'Exchange ActiveSync'",
    )
    .await;
    check(
        &items,
        &|i| {
            ["IMAP4", "Authenticated SMTP", "Exchange ActiveSync"]
                .contains(&i["clientAppUsed"].as_str().unwrap_or_default())
        },
        "legacy clients",
    );
    let items = filtered(
        "v1.0",
        "conditionalAccessStatus eq 'failure' and (status/errorCode eq 53003)",
    )
    .await;
    check(
        &items,
        &|i| i["conditionalAccessStatus"] == "failure" && i["status"]["errorCode"] == 53003,
        "CA",
    );
    let items = filtered(
        "beta",
        "authenticationRequirement eq 'singleFactorAuthentication' and status/errorCode eq 0",
    )
    .await;
    check(
        &items,
        &|i| {
            i["authenticationRequirement"] == "singleFactorAuthentication"
                && i["mfaDetail"].is_null()
        },
        "single factor",
    );
    let items = filtered("beta", "userType eq 'guest'").await;
    check(
        &items,
        &|i| i["userType"] == "guest" && i["crossTenantAccessType"] == "b2bCollaboration",
        "guests",
    );
    let items = filtered("v1.0", "riskLevelDuringSignIn eq 'high'").await;
    check(&items, &|i| i["riskLevelDuringSignIn"] == "high", "risky");

    // Event types: beta returns other types only when asked for them.
    let items = filtered("beta", "signInEventTypes/any(t: t eq 'nonInteractiveUser')").await;
    check(
        &items,
        &|i| i["signInEventTypes"] == json!(["nonInteractiveUser"]) && i["isInteractive"] == false,
        "non-interactive",
    );
    let items = filtered("beta", "signInEventTypes/any(t: t eq 'servicePrincipal')").await;
    check(
        &items,
        &|i| {
            i["servicePrincipalId"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
                && i["userId"] == ""
                && i["clientAppUsed"].is_null()
        },
        "service principals",
    );
    let items = filtered(
        "beta",
        "signInEventTypes/any(t: t ne 'interactiveUser') and isInteractive eq false",
    )
    .await;
    check(&items, &|i| i["isInteractive"] == false, "ne");
    let everything = count_hook(
        &env,
        S_TENANT,
        "beta",
        Some("signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser' or t eq 'servicePrincipal')"),
    )
    .await;
    let interactive = count_hook(&env, S_TENANT, "beta", None).await;
    assert_eq!(interactive, count_hook(&env, S_TENANT, "v1.0", None).await);
    assert!(
        everything > interactive * 3 / 2,
        "{everything} vs {interactive}"
    );
    // 5,000 generated + 7 visible literal sign-ins (one is 40 days old, one in the future).
    assert_eq!(everything, 5_007);
}

#[tokio::test]
async fn paging_follows_next_links_without_gaps_or_duplicates() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;

    let pages = all_pages(&env, "v1.0", &token, &[("$top", "300")]).await;
    assert!(pages.len() > 5);
    assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == 300));
    let items: Vec<Value> = pages.concat();
    let n = assert_unique(&items);
    assert_eq!(n as u64, count_hook(&env, S_TENANT, "v1.0", None).await);
    for pair in items.windows(2) {
        assert!(created(&pair[0]) >= created(&pair[1]), "newest first");
    }

    // Ascending order visits exactly the same records in exactly the reverse order.
    let asc: Vec<Value> = all_pages(
        &env,
        "v1.0",
        &token,
        &[("$top", "700"), ("$orderby", "createdDateTime asc")],
    )
    .await
    .concat();
    let mut desc_ids = ids(&items);
    desc_ids.reverse();
    assert_eq!(ids(&asc), desc_ids);

    // A time window with other conditions, across event types, in small pages.
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let to = (now - chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let filter = format!(
        "createdDateTime ge {from} and createdDateTime lt {to} and (signInEventTypes/any(t: t eq 'nonInteractiveUser') or status/errorCode ne 0)"
    );
    let items: Vec<Value> = all_pages(
        &env,
        "beta",
        &token,
        &[("$filter", &filter), ("$top", "97")],
    )
    .await
    .concat();
    let n = assert_unique(&items);
    assert!(n > 100, "{n}");
    assert_eq!(
        n as u64,
        count_hook(&env, S_TENANT, "beta", Some(&filter)).await
    );
    for item in &items {
        let t = created(item).to_rfc3339();
        assert!(
            t.as_str() >= from.replace('Z', "+00:00").as_str()
                && t.as_str() < to.replace('Z', "+00:00").as_str(),
            "{t}"
        );
    }
}

#[tokio::test]
async fn next_links_can_be_pointed_at_another_origin_for_client_tests() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let settings = set_graph_settings(&env, json!({"nextLinkBase": "https://evil.example/"})).await;
    assert_eq!(settings["nextLinkBase"], "https://evil.example");
    let (status, body, _) = list(&env, "v1.0", &token, &[("$top", "10")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = body["@odata.nextLink"].as_str().expect("nextLink");
    assert!(next.starts_with("https://evil.example/graph/v1.0/auditLogs/signIns?"), "{next}");
    // Not a URL: refused, nothing changed.
    let (status, _) = env.post_json("/_emulator/graph/settings", json!({"nextLinkBase": "evil"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // null: back to the emulator's own address.
    let settings = set_graph_settings(&env, json!({"nextLinkBase": null})).await;
    assert!(settings["nextLinkBase"].is_null());
    let (_, body, _) = list(&env, "v1.0", &token, &[("$top", "10")]).await;
    assert!(body["@odata.nextLink"].as_str().expect("nextLink").starts_with(&env.url("/graph/v1.0/")), "{body}");
}

#[tokio::test]
async fn skiptoken_is_opaque_and_tamper_evident() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let (_, body, _) = list(
        &env,
        "v1.0",
        &token,
        &[("$top", "10"), ("$filter", "status/errorCode eq 0")],
    )
    .await;
    let next = body["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let (status, _, _) = get_url(&env, &next, &token).await;
    assert_eq!(status, StatusCode::OK);

    let (prefix, skiptoken) = next.split_once("$skiptoken=").expect("skiptoken");
    let mut chars: Vec<char> = skiptoken.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [
        format!("{prefix}$skiptoken={tampered}"),
        format!("{prefix}$skiptoken={}", &skiptoken[..skiptoken.len() - 4]),
        format!("{prefix}$skiptoken=not-a-token"),
        // A valid token used with a different filter.
        next.replace("errorCode%20eq%200", "errorCode%20eq%2050126"),
    ] {
        let (status, body, _) = get_url(&env, &bad, &token).await;
        assert_graph_error(status, &body, 400, "BadRequest");
    }
    // Another API version does not accept it either.
    let (status, body, _) = get_url(&env, &next.replace("/v1.0/", "/beta/"), &token).await;
    assert_graph_error(status, &body, 400, "BadRequest");
}

#[tokio::test]
async fn literal_sign_ins_retention_and_the_clock() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let by_id = |id: String| {
        let env = &env;
        let token = &token;
        async move {
            let filter = format!("id eq '{id}'");
            let (status, body, _) = list(env, "beta", token, &[("$filter", &filter)]).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["value"].as_array().expect("value").clone()
        }
    };

    let admin = by_id(literal(1)).await;
    assert_eq!(admin.len(), 1);
    let a = &admin[0];
    assert_eq!(
        a["userPrincipalName"],
        "admin@contoso-signins.onmicrosoft.com"
    );
    assert_eq!(a["userDisplayName"], "Ada Admin");
    assert_eq!(a["appDisplayName"], "Azure Portal");
    assert_eq!(
        a["resourceDisplayName"],
        "Windows Azure Service Management API"
    );
    assert_eq!(a["ipAddress"], "198.51.100.7");
    assert_eq!(a["authenticationRequirement"], "multiFactorAuthentication");
    assert_eq!(a["authenticationDetails"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        a["authenticationDetails"][1]["authenticationMethod"],
        "Mobile app notification"
    );
    assert_eq!(a["authenticationDetails"][1]["succeeded"], true);
    assert_eq!(a["mfaDetail"]["authMethod"], "Mobile app notification");
    let age = chrono::Utc::now() - created(a).with_timezone(&chrono::Utc);
    assert!((55..=65).contains(&age.num_minutes()), "{age}");
    assert!(
        a["createdDateTime"]
            .as_str()
            .is_some_and(|t| t.ends_with(":00Z") || t.len() == 20),
        "{a}"
    );

    let imap = &by_id(literal(2)).await[0];
    assert_eq!(imap["clientAppUsed"], "IMAP4");
    assert_eq!(
        imap["authenticationRequirement"],
        "singleFactorAuthentication"
    );
    assert!(imap["mfaDetail"].is_null());
    assert_eq!(imap["userAgent"], "BAV2ROPC");
    assert_eq!(imap["deviceDetail"]["operatingSystem"], "");
    assert_eq!(
        imap["deviceDetail"]["isManaged"], false,
        "objects merge key by key"
    );

    let failed = &by_id(literal(3)).await[0];
    assert_eq!(failed["status"]["errorCode"], 50126);
    assert_eq!(
        failed["status"]["failureReason"],
        "Error validating credentials due to invalid username or password."
    );
    assert_eq!(failed["authenticationDetails"][0]["succeeded"], false);

    let guest = &by_id(literal(4)).await[0];
    assert_eq!(guest["userType"], "guest");
    assert_eq!(guest["crossTenantAccessType"], "b2bCollaboration");
    assert_eq!(guest["homeTenantId"], S_CUSTOMER);

    // Non-interactive and service-principal items appear only when asked for.
    assert!(by_id(literal(5)).await.is_empty());
    let (_, body, _) = list(
        &env,
        "beta",
        &token,
        &[(
            "$filter",
            &format!(
                "id eq '{}' and signInEventTypes/any(t: t eq 'nonInteractiveUser')",
                literal(5)
            ),
        )],
    )
    .await;
    assert_eq!(body["value"][0]["isInteractive"], false, "{body}");
    let (_, body, _) = list(
        &env,
        "beta",
        &token,
        &[("$filter", "signInEventTypes/any(t: t eq 'servicePrincipal') and servicePrincipalName eq 'Contoso Sign-in Reporter'")],
    )
    .await;
    let sp: Vec<&Value> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter(|v| v["id"] == literal(6).as_str())
        .collect();
    assert_eq!(sp.len(), 1, "{body}");
    assert_eq!(sp[0]["clientCredentialType"], "clientSecret");
    assert!(sp[0]["userPrincipalName"].is_null());

    let risky = &by_id(literal(7)).await[0];
    assert_eq!(risky["riskLevelDuringSignIn"], "high");
    assert_eq!(risky["riskEventTypes_v2"], json!(["anonymizedIPAddress"]));
    assert_eq!(risky["location"]["city"], "Frankfurt am Main");
    assert!(
        risky["location"]["geoCoordinates"].is_object(),
        "merged, not replaced"
    );

    // 40 days old: beyond the 30-day retention of a P2 tenant.
    assert!(by_id(literal(8)).await.is_empty());
    // Two hours in the future: appears once the emulator clock gets there.
    assert!(by_id(literal(9)).await.is_empty());
    let before = count_hook(&env, S_TENANT, "v1.0", None).await;
    let (s, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 3 * 3600}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let token = reporter_token(&env).await;
    let filter = format!("id eq '{}'", literal(9));
    let (_, body, _) = list(&env, "v1.0", &token, &[("$filter", &filter)]).await;
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1), "{body}");
    let after = count_hook(&env, S_TENANT, "v1.0", None).await;
    assert!(after > 0 && after != before);

    // A filter that starts before the retention window just returns what is inside it.
    let (status, body, _) = list(
        &env,
        "v1.0",
        &token,
        &[
            ("$filter", "createdDateTime ge 2001-01-01T00:00:00Z"),
            ("$top", "1000"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn get_by_id() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = reporter_token(&env).await;
    let (_, body, _) = list(&env, "beta", &token, &[("$top", "3")]).await;
    for item in body["value"].as_array().expect("value") {
        let id = item["id"].as_str().expect("id");
        let (status, one, _) = env
            .get(&format!("/graph/beta/auditLogs/signIns/{id}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_eq!(
            one["@odata.context"],
            format!(
                "{}/graph/beta/$metadata#auditLogs/signIns/$entity",
                env.emu.base_url
            )
        );
        let mut one = one.as_object().expect("object").clone();
        one.remove("@odata.context");
        assert_eq!(Value::Object(one), *item);
    }
    let (status, one, _) = env
        .get(
            &format!(
                "/graph/v1.0/auditLogs/signIns/{}?$select=id,userId",
                literal(1)
            ),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one.as_object().map(|o| o.len()), Some(3));
    for missing in [
        literal(8),
        "00000000-0000-4000-8000-000000000000".to_owned(),
        "nope".to_owned(),
    ] {
        let (status, body, _) = env
            .get(
                &format!("/graph/v1.0/auditLogs/signIns/{missing}"),
                Some(&token),
            )
            .await;
        assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    }
}

#[tokio::test]
async fn count_hook_validates_its_input() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let get = |q: &'static str| {
        let env = &env;
        async move {
            let resp = env
                .http
                .get(env.url(&format!("/_emulator/signins/count{q}")))
                .send()
                .await
                .expect("sent");
            split(resp).await
        }
    };
    let (status, body, _) = get("?tenant=contoso-signins.onmicrosoft.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tenant"], S_TENANT);
    assert_eq!(body["total"], 5_009);
    let (status, _, _) = get("?tenant=nobody.example").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body, _) = get("?tenant=contoso-signins.onmicrosoft.com&filter=userId%20eq").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "BadRequest");
    let (status, _, _) = get("").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn scenario_mistakes_fail_at_start_up() {
    install_crypto_provider();
    for (edit, needle) in [
        (
            json!({"createdDateTime": "-1h", "userId": S_ADMIN, "userPrincipleName": "typo"}),
            "userPrincipleName",
        ),
        (json!({"userId": S_ADMIN}), "createdDateTime"),
        (
            json!({"createdDateTime": "-1h"}),
            "userId or userPrincipalName",
        ),
        (
            json!({"createdDateTime": "-1h", "userId": S_ADMIN, "status": {"errorCode": "x"}}),
            "errorCode",
        ),
        (
            json!({"createdDateTime": "-1h", "userId": S_ADMIN, "id": "51000000-0000-4000-8000-000000000001"}),
            "used twice",
        ),
    ] {
        let text = signins_with(|v| {
            v["tenants"][0]["signIns"]["items"]
                .as_array_mut()
                .expect("items")
                .push(edit.clone());
        });
        let err = partnersecurity_emulator::Scenario::load(&text, "http://x", chrono::Utc::now())
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let text = signins_with(|v| {
        v["tenants"][0]["signIns"]["generate"]["mix"] = json!({"bogus": 1});
    });
    assert!(
        partnersecurity_emulator::Scenario::load(&text, "http://x", chrono::Utc::now()).is_err()
    );
    let text = signins_with(|v| {
        v["graph"]["signInsThrottle"] = json!({"requests": 0, "windowSeconds": 10});
    });
    assert!(
        partnersecurity_emulator::Scenario::load(&text, "http://x", chrono::Utc::now()).is_err()
    );
}
