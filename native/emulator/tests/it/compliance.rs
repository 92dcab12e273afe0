//! The compliance endpoints (`scenarios/compliance.json`): Graph paging and `$top` limits,
//! `$select`, permission errors naming the permission, licence errors (no P1 → 403, PIM
//! without P2 → 400), GDAP relationships with resolved scenario times, and Partner Center's
//! App+User-only reports.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

const GRAPH: &str = "https://graph.microsoft.com/.default";
const PC: &str = "https://api.partnercenter.microsoft.com/.default";

fn scenario() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/compliance.json"
    ))
    .expect("compliance scenario")
}

fn tenant(n: u8) -> String {
    let c = char::from(b'0' + n);
    format!("{0}{0}{0}{0}{0}{0}{0}{0}-0000-4000-8000-00000000000{0}", c)
}

/// App-only token of tenant `n`'s SAM app (`sam`) or its users-only app.
async fn app_token(env: &Env, n: u8, sam: bool, scope: &str) -> String {
    let (prefix, secret) = if sam {
        ("5a", "sam")
    } else {
        ("5c", "limited")
    };
    let client = format!("{prefix}{n}00000-0000-4000-8000-00000000000{n}");
    let secret = format!("compliance-{secret}-secret-{n}-NOT-A-REAL-SECRET");
    env.access_token(
        &tenant(n),
        "v2",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client),
            ("client_secret", &secret),
            ("scope", scope),
        ],
    )
    .await
}

/// App+User token of tenant `n`'s admin (MFA consent).
async fn user_token(env: &Env, n: u8, scope: &str) -> String {
    let client = format!("5a{n}00000-0000-4000-8000-00000000000{n}");
    let secret = format!("compliance-sam-secret-{n}-NOT-A-REAL-SECRET");
    let rt = format!(
        "1.AcomplianceRefreshToken-{n}-admin-NOT-A-REAL-TOKEN-ffffffffffffffffffffffffffffff"
    );
    env.access_token(
        &tenant(n),
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("client_secret", &secret),
            ("refresh_token", &rt),
            ("scope", scope),
        ],
    )
    .await
}

fn path_of(link: &Value) -> String {
    let link = link.as_str().expect("nextLink");
    let at = link.find("/graph/").expect("nextLink under /graph");
    link[at..].to_owned()
}

#[tokio::test]
async fn users_page_with_top_and_next_links_and_honour_select() {
    let env = Env::start_with(scenario()).await;
    let token = app_token(&env, 3, true, GRAPH).await;
    let (status, first, _) = env
        .get(
            "/graph/v1.0/users?$top=3&$select=id,userPrincipalName,accountEnabled",
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["value"].as_array().map(Vec::len), Some(3));
    assert_eq!(first["value"][0]["accountEnabled"], true);
    assert!(
        first["value"][0].get("displayName").is_none(),
        "$select leaves other properties out"
    );
    let mut seen: Vec<String> = first["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let mut next = first["@odata.nextLink"].clone();
    while !next.is_null() {
        let path = path_of(&next);
        assert!(
            path.contains("%24select=") || path.contains("$select="),
            "the link keeps $select: {path}"
        );
        let (status, page, _) = env.get(&path, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
        next = page["@odata.nextLink"].clone();
    }
    assert_eq!(seen.len(), 7, "every user exactly once: {seen:?}");
    seen.dedup();
    assert_eq!(seen.len(), 7);
    // Without $select: Graph's default property set only.
    let (_, plain, _) = env.get("/graph/v1.0/users", Some(&token)).await;
    assert!(
        plain["value"][0].get("accountEnabled").is_none()
            && plain["value"][0]["userPrincipalName"].is_string()
    );

    let (status, body, _) = env.get("/graph/v1.0/users?$top=1000", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    );
    let (status, body, _) = env
        .get("/graph/v1.0/users?$skiptoken=forged", Some(&token))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body, _) = env
        .get("/graph/v1.0/users?$search=%22a%22", Some(&token))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Request_UnsupportedQuery"))
    );
}

#[tokio::test]
async fn a_missing_permission_is_a_403_naming_it() {
    let env = Env::start_with(scenario()).await;
    let token = app_token(&env, 1, false, GRAPH).await;
    let (status, _, _) = env.get("/graph/v1.0/users", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "User.Read.All is enough for users");
    for (path, permission) in [
        (
            "/graph/v1.0/identity/conditionalAccess/policies",
            "Policy.Read.All",
        ),
        (
            "/graph/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            "Policy.Read.All",
        ),
        (
            "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails",
            "AuditLog.Read.All",
        ),
        (
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships",
            "DelegatedAdminRelationship.Read.All",
        ),
        (
            "/graph/v1.0/roleManagement/directory/roleAssignments",
            "RoleManagement.Read.Directory",
        ),
        ("/graph/v1.0/subscribedSkus", "Organization.Read.All"),
        ("/graph/v1.0/domains", "Domain.Read.All"),
    ] {
        let (status, body, headers) = env.get(path, Some(&token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(
            body["error"]["code"], "Authentication_MSGraphPermissionMissing",
            "{path}"
        );
        assert_eq!(
            body["error"]["message"],
            format!("Calling principal does not have required MSGraph permissions {permission}"),
            "{path}"
        );
        assert!(
            body["error"]["innerError"]["request-id"].is_string()
                && headers.contains_key("request-id"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn licences_gate_conditional_access_reports_and_pim() {
    let env = Env::start_with(scenario()).await;
    // Tenant 2: no P1.
    let free = app_token(&env, 2, true, GRAPH).await;
    for path in [
        "/graph/v1.0/identity/conditionalAccess/policies",
        "/graph/v1.0/reports/authenticationMethods/userRegistrationDetails",
    ] {
        let (status, body, _) = env.get(path, Some(&free)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body["error"]["code"],
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        );
    }
    let (status, body, _) = env
        .get(
            "/graph/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            Some(&free),
        )
        .await;
    assert_eq!(
        (status, &body["isEnabled"]),
        (StatusCode::OK, &Value::Bool(true)),
        "security defaults need no licence"
    );
    // Tenant 3: P1 but not P2.
    let p1 = app_token(&env, 3, true, GRAPH).await;
    let (status, body, _) = env
        .get("/graph/v1.0/identity/conditionalAccess/policies", Some(&p1))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"].as_array().map(Vec::len), Some(3));
    let (status, body, _) = env
        .get(
            "/graph/v1.0/roleManagement/directory/roleEligibilitySchedules",
            Some(&p1),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "AadPremiumLicenseRequired");
    // Tenant 1: P2.
    let p2 = app_token(&env, 1, true, GRAPH).await;
    let (status, body, _) = env
        .get(
            "/graph/v1.0/roleManagement/directory/roleEligibilitySchedules",
            Some(&p2),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["value"][0]["roleDefinitionId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    let (_, skus, _) = env.get("/graph/v1.0/subscribedSkus", Some(&p2)).await;
    let plans: Vec<&str> = skus["value"][0]["servicePlans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["servicePlanName"].as_str().unwrap())
        .collect();
    assert_eq!(
        skus["value"][0]["skuId"],
        "84a661c4-e949-4bd2-a560-ed7766fcaf2b"
    );
    assert!(plans.contains(&"AAD_PREMIUM_P2"), "{plans:?}");
    assert_eq!(skus["value"][0]["prepaidUnits"]["enabled"], 10);
}

#[tokio::test]
async fn gdap_relationships_resolve_scenario_times_and_serve_access_assignments() {
    let env = Env::start_with(scenario()).await;
    let token = app_token(&env, 5, true, GRAPH).await;
    let (status, body, _) = env
        .get(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships",
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = body["value"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    let first = &list[0];
    assert_eq!(
        first["@odata.type"],
        "#microsoft.graph.delegatedAdminRelationship"
    );
    assert!(
        first["@odata.etag"]
            .as_str()
            .is_some_and(|e| e.starts_with("W/"))
    );
    assert!(
        first.get("accessAssignments").is_none(),
        "assignments are a sub-resource"
    );
    let end = chrono::DateTime::parse_from_rfc3339(first["endDateTime"].as_str().unwrap())
        .expect("RFC 3339 end");
    let days = (end.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!(
        (198..=200).contains(&days),
        "'+200d' resolved against start-up: {days}"
    );
    let (status, body, _) = env
        .get(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships?$top=301",
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let id = first["id"].as_str().unwrap();
    let (status, body, _) = env
        .get(
            &format!(
                "/graph/v1.0/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments"
            ),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["value"][0]["accessContainer"]["accessContainerId"],
        "5a000001-0000-4000-8000-000000000001"
    );
    let (status, _, _) = env
        .get(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships/nope/accessAssignments",
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn partner_center_reports_are_app_user_only_and_filter_by_status() {
    let env = Env::start_with(scenario()).await;
    let app = app_token(&env, 5, true, PC).await;
    for path in [
        "/partnercenter/v1/fraudEvents",
        "/partnercenter/v1/nonMfaCompliantPartnerPrincipals",
        "/partnercenter/v1/applicationmfaadoptionstatus",
    ] {
        let (status, body, _) = env.get(path, Some(&app)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            (body["code"].as_str(), body["description"].as_str()),
            (Some("400"), Some("Access denied")),
            "{path}"
        );
    }
    let user = user_token(&env, 5, PC).await;
    let (status, events, headers) = env.get("/partnercenter/v1/fraudEvents", Some(&user)).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert!(headers.contains_key("ms-correlationid"));
    assert_eq!(events.as_array().map(Vec::len), Some(4), "a bare array");
    let open = &events[0];
    assert_eq!(
        open["resolvedOn"], "9999-12-31T23:59:59.9970000",
        "the not-yet sentinel stays"
    );
    assert!(
        !open["firstOccurrence"].as_str().unwrap().ends_with('Z'),
        "Partner Center date-times carry no offset"
    );
    assert_eq!(open["hitCount"], "10", "hitCount is a string");
    let (_, active, _) = env
        .get(
            "/partnercenter/v1/fraudEvents?EventStatus=Active",
            Some(&user),
        )
        .await;
    assert_eq!(active.as_array().map(Vec::len), Some(1));
    let (status, _, _) = env
        .get(
            "/partnercenter/v1/fraudEvents?EventStatus=Closed",
            Some(&user),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let user4 = user_token(&env, 4, PC).await;
    let (_, principals, _) = env
        .get(
            "/partnercenter/v1/nonMfaCompliantPartnerPrincipals",
            Some(&user4),
        )
        .await;
    assert_eq!(principals["totalCount"], 1);
    assert_eq!(
        principals["items"][0]["upn"],
        "billing@wingtip-csp.onmicrosoft.com"
    );
    assert_eq!(principals["attributes"]["objectType"], "Collection");
}

#[tokio::test]
async fn scenario_cross_references_are_checked_at_start_up() {
    let mut v: Value = serde_json::from_str(&scenario()).unwrap();
    v["tenants"][0]["compliance"]["groups"][0]["members"][0] =
        Value::String("00000000-0000-4000-8000-00000000dead".into());
    let err = partnersecurity_emulator::server::serve(
        partnersecurity_emulator::config::EmulatorConfig::new(
            partnersecurity_emulator::config::ScenarioSource::Json(v.to_string()),
        ),
    )
    .await
    .expect_err("refused");
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(e) = source {
        chain.push_str(&format!(": {e}"));
        source = e.source();
    }
    assert!(
        chain.contains("compliance group 'GDAP Helpdesk Agents': unknown member"),
        "{chain}"
    );
}

/// Graph's directory throttle (api-contracts §3.8): off by default; with
/// `graph.directoryThrottle` (scenario or run time) every compliance read of a (tenant, app)
/// counts against one sliding window, and a read over budget is 429 `TooManyRequests` with
/// `Retry-After`, which the request log records.
#[tokio::test]
async fn a_directory_read_budget_answers_429_with_retry_after_like_graph() {
    let env = Env::start_with(scenario()).await;
    let token = app_token(&env, 3, true, GRAPH).await;
    let (_, settings, _) = env.get("/_emulator/graph/settings", None).await;
    assert!(
        settings["directoryThrottle"].is_null(),
        "off by default: {settings}"
    );
    for _ in 0..20 {
        let (status, _, _) = env.get("/graph/v1.0/users", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
    }

    let (status, settings) = env
        .post_json(
            "/_emulator/graph/settings",
            serde_json::json!({"directoryThrottle": {"requests": 3, "windowSeconds": 60}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["directoryThrottle"]["requests"], 3);
    assert!(
        settings["signInsThrottle"].is_object(),
        "the reports throttle is another setting: {settings}"
    );
    let _ = env.http.delete(env.url("/_emulator/requests")).send().await;
    // Lists, single objects and children all count against the one budget.
    for path in [
        "/graph/v1.0/users",
        "/graph/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
        "/graph/v1.0/groups",
    ] {
        let (status, body, _) = env.get(path, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    for path in [
        "/graph/v1.0/subscribedSkus",
        "/graph/v1.0/users",
        "/graph/beta/users/admin@tailspin-csp.onmicrosoft.com/authentication/requirements",
    ] {
        let (status, body, headers) = env.get(path, Some(&token)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{path}: {body}");
        assert_eq!(body["error"]["code"], "TooManyRequests");
        assert!(headers.contains_key("request-id"), "{path}");
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{path}: Retry-After {wait}");
    }
    // A permission error is answered before the budget is looked at.
    let limited = app_token(&env, 3, false, GRAPH).await;
    let (status, _, _) = env.get("/graph/v1.0/domains", Some(&limited)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another app and another tenant have budgets of their own.
    let (status, _, _) = env.get("/graph/v1.0/users", Some(&limited)).await;
    assert_eq!(status, StatusCode::OK);
    let other = app_token(&env, 1, true, GRAPH).await;
    let (status, _, _) = env.get("/graph/v1.0/users", Some(&other)).await;
    assert_eq!(status, StatusCode::OK);
    // Refused reads used no budget: once the window has passed, three more get through.
    env.post_json(
        "/_emulator/clock/advance",
        serde_json::json!({"seconds": 60}),
    )
    .await;
    let token = app_token(&env, 3, true, GRAPH).await;
    for _ in 0..3 {
        let (status, _, _) = env.get("/graph/v1.0/domains", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, _) = env.get("/graph/v1.0/domains", Some(&token)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let (_, log, _) = env.get("/_emulator/requests", None).await;
    let throttled: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == 429)
        .collect();
    assert_eq!(throttled.len(), 4, "{log}");
    assert!(
        throttled
            .iter()
            .all(|e| e["retryAfter"].as_u64().is_some_and(|s| s >= 1))
    );

    // Bad settings change nothing; null turns the throttle off.
    let (status, _) = env
        .post_json(
            "/_emulator/graph/settings",
            serde_json::json!({"directoryThrottle": {"requests": 0, "windowSeconds": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, settings) = env
        .post_json(
            "/_emulator/graph/settings",
            serde_json::json!({"directoryThrottle": null}),
        )
        .await;
    assert!(settings["directoryThrottle"].is_null(), "{settings}");
    let (status, _, _) = env.get("/graph/v1.0/domains", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_directory_budget_can_come_from_the_scenario_and_is_checked_there() {
    let mut v: Value = serde_json::from_str(&scenario()).unwrap();
    v["graph"] = serde_json::json!({"directoryThrottle": {"requests": 1, "windowSeconds": 3600}});
    let env = Env::start_with(v.to_string()).await;
    let token = app_token(&env, 5, true, GRAPH).await;
    let (status, _, _) = env.get("/graph/v1.0/groups", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, headers) = env
        .get(
            "/graph/v1.0/tenantRelationships/delegatedAdminRelationships",
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 3500, "Retry-After {wait}");

    v["graph"] = serde_json::json!({"directoryThrottle": {"requests": 1, "windowSeconds": 0}});
    let refused = partnersecurity_emulator::server::serve(
        partnersecurity_emulator::config::EmulatorConfig::new(
            partnersecurity_emulator::config::ScenarioSource::Json(v.to_string()),
        ),
    )
    .await;
    assert!(refused.is_err(), "a zero window is refused at start-up");
}

/// Refresh-token redemption for tenant 3's federated user (MFA done at the IdP).
async fn fedworker_token(env: &Env, scope: &str) -> String {
    env.access_token(
        &tenant(3),
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "5a300000-0000-4000-8000-000000000003"),
            ("client_secret", "compliance-sam-secret-3-NOT-A-REAL-SECRET"),
            (
                "refresh_token",
                "1.AcomplianceRefreshToken-3-fedworker-NOT-A-REAL-TOKEN-ffffffffffffffffffffffff",
            ),
            ("scope", scope),
        ],
    )
    .await
}

/// api-contracts §2.3: a federated user's tokens say `fed`, and `mfa` only when Entra ID sees
/// the MFA; Partner Center then refuses the token; the user's sign-ins name the IdP as issuer.
#[tokio::test]
async fn federated_users_get_fed_in_amr_and_mfa_only_when_entra_sees_it() {
    let amr = |claims: &Value| -> Vec<String> {
        claims["amr"]
            .as_array()
            .expect("amr")
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let env = Env::start_with(scenario()).await;
    let fed = env.verify(&fedworker_token(&env, GRAPH).await).await;
    assert_eq!(amr(&fed), ["fed"], "the IdP sends no MFA claim");
    let admin = env.verify(&user_token(&env, 3, GRAPH).await).await;
    assert_eq!(amr(&admin), ["pwd", "mfa"], "a managed-domain user");
    let pc = fedworker_token(&env, PC).await;
    let (status, _, headers) = env
        .get("/partnercenter/v1/profiles/organization", Some(&pc))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "Partner Center sees no MFA"
    );
    assert!(headers.contains_key("www-authenticate"));

    let graph = app_token(&env, 3, true, GRAPH).await;
    let (status, page, _) = env
        .get(
            "/graph/beta/auditLogs/signIns?$filter=userId%20eq%20'30000007-0000-4000-8000-000000000037'",
            Some(&graph),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let sign_in = &page["value"][0];
    assert_eq!(
        sign_in["tokenIssuerType"], "ADFederationServices",
        "{sign_in}"
    );
    assert_eq!(
        sign_in["tokenIssuerName"],
        "http://tailspin-fed.example/adfs/services/trust"
    );
    let (_, admin_page, _) = env
        .get(
            "/graph/beta/auditLogs/signIns?$filter=userId%20eq%20'30000001-0000-4000-8000-000000000031'",
            Some(&graph),
        )
        .await;
    assert_eq!(admin_page["value"][0]["tokenIssuerType"], "AzureAD");

    // An IdP that asserts its MFA, or Entra ID doing MFA itself: `mfa` is there.
    for (claim, behaviour) in [
        (true, "acceptIfMfaDoneByFederatedIdp"),
        (false, "rejectMfaByFederatedIdp"),
    ] {
        let mut v: Value = serde_json::from_str(&scenario()).unwrap();
        v["tenants"][2]["compliance"]["federatedDomains"][0] = serde_json::json!({
            "name": "tailspin-fed.example", "federatedIdpMfaBehavior": behaviour, "idpMfaClaim": claim
        });
        let env = Env::start_with(v.to_string()).await;
        let fed = env.verify(&fedworker_token(&env, GRAPH).await).await;
        assert_eq!(
            amr(&fed),
            ["fed", "mfa"],
            "{behaviour}, idpMfaClaim {claim}"
        );
    }
}

/// api-contracts §5.7/§5.8: `GET /v1/customers` with seek paging (`links.next` and its
/// `MS-ContinuationToken` header) and each customer's DAP flag `allowDelegatedAccess`; App-only
/// and App+User tokens are both accepted.
#[tokio::test]
async fn partner_center_lists_customers_with_their_dap_flag_in_seek_pages() {
    let env = Env::start_with(scenario()).await;
    let token = user_token(&env, 5, PC).await;
    let mut url = env.url("/partnercenter/v1/customers?size=2");
    let mut continuation: Option<String> = None;
    let mut seen: Vec<(String, String, bool)> = Vec::new();
    let mut pages = 0;
    loop {
        let mut request = env.http.get(&url).bearer_auth(&token);
        if let Some(c) = &continuation {
            request = request.header("MS-ContinuationToken", c);
        }
        let (status, page, _) = split(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["attributes"]["objectType"], "Collection");
        pages += 1;
        for c in page["items"].as_array().unwrap() {
            assert_eq!(c["id"], c["companyProfile"]["tenantId"]);
            assert_eq!(c["attributes"]["objectType"], "Customer");
            seen.push((
                c["companyProfile"]["companyName"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                c["companyProfile"]["domain"].as_str().unwrap().to_owned(),
                c["allowDelegatedAccess"].as_bool().unwrap(),
            ));
        }
        let Some(next) = page["links"].get("next") else {
            assert!(page.get("continuationToken").is_none());
            break;
        };
        assert_eq!(next["uri"], "/v1/customers?size=2&seekOperation=Next");
        assert_eq!(next["headers"][0]["key"], "MS-ContinuationToken");
        assert_eq!(next["headers"][0]["value"], page["continuationToken"]);
        continuation = next["headers"][0]["value"].as_str().map(str::to_owned);
        url = env.url(&format!("/partnercenter{}", next["uri"].as_str().unwrap()));
    }
    assert_eq!(pages, 3, "6 customers in pages of 2");
    let dap: Vec<&str> = seen.iter().filter(|c| c.2).map(|c| c.0.as_str()).collect();
    assert_eq!(dap, ["Tailspin Toys", "Adventure Works"], "{seen:?}");
    assert_eq!(
        seen.len(),
        6,
        "the listed two, then the other GDAP customers once each"
    );
    assert!(seen.contains(&(
        "Fabrikam Ltd".into(),
        "fabrikamltd.onmicrosoft.com".into(),
        false
    )));

    // App-only works too; tenant 1's one GDAP customer has no DAP.
    let app = app_token(&env, 1, true, PC).await;
    let (status, page, _) = env.get("/partnercenter/v1/customers", Some(&app)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], 1);
    assert_eq!(page["items"][0]["allowDelegatedAccess"], false);

    for bad in [
        "/partnercenter/v1/customers?size=0",
        "/partnercenter/v1/customers?size=501",
        "/partnercenter/v1/customers?seekOperation=Next",
        "/partnercenter/v1/customers?seekOperation=Previous",
    ] {
        let (status, body, _) = env.get(bad, Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}
