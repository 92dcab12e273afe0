//! Customer tenants through GDAP: a partner user's refresh token redeemed at a customer's
//! authority, and a multi-tenant app that is one registration with service principals elsewhere.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::signins_support::*;

const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
const SECURITY_ADMIN: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";

/// Redeems the partner admin's refresh token at `tenant` for Graph.
async fn redeem_at(env: &Env, tenant: &str, refresh_token: &str) -> (StatusCode, Value) {
    let (status, body, _) = env
        .token(
            tenant,
            "v2",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", REPORTER),
                ("client_secret", REPORTER_SECRET),
                ("refresh_token", refresh_token),
                (
                    "scope",
                    "https://graph.microsoft.com/.default offline_access",
                ),
            ],
        )
        .await;
    (status, body)
}

/// Client credentials of the reporter app at `tenant`.
async fn app_sign_in(env: &Env, tenant: &str, secret: &str) -> (StatusCode, Value) {
    let (status, body, _) = env
        .token(
            tenant,
            "v2",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", REPORTER),
                ("client_secret", secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    (status, body)
}

/// Why a scenario document does not load ("" when it does).
fn load_error(text: &str) -> String {
    partnersecurity_emulator::Scenario::load(text, "http://x", chrono::Utc::now())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn issuer(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

fn str_of<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

#[tokio::test]
async fn partner_token_redeemed_at_a_gdap_customer_is_a_foreign_principal_there() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let (status, body) = redeem_at(&env, S_NORTHWIND, RT_REPORTER_ADMIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = env.verify(str_of(&body, "access_token")).await;
    assert_eq!(claims_str(&claims, "tid"), S_NORTHWIND);
    assert_eq!(claims_str(&claims, "iss"), issuer(S_NORTHWIND));
    // The partner user, authenticated by the partner tenant.
    assert_eq!(claims_str(&claims, "idp"), issuer(S_TENANT));
    assert_eq!(claims_str(&claims, "oid"), S_ADMIN);
    assert_eq!(
        claims_str(&claims, "upn"),
        "admin@contoso-signins.onmicrosoft.com"
    );
    // Roles come from the relationship, not from the user's Global Administrator at home.
    assert_eq!(claims["wids"], json!([GLOBAL_READER, SECURITY_ADMIN]));
    assert!(claims_str(&claims, "scp").contains("AuditLog.Read.All"));
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));

    // Graph serves that customer's own sign-ins to it.
    let token = str_of(&body, "access_token");
    let total = count_hook(&env, S_NORTHWIND, "v1.0", None).await;
    let pages = all_pages(&env, "v1.0", token, &[("$top", "500")]).await;
    let items: Vec<Value> = pages.concat();
    assert_eq!(assert_unique(&items) as u64, total);
    assert!(
        pages.len() > 1 && total > 500,
        "{} pages, {total}",
        pages.len()
    );

    // The rotated refresh token is still the partner user's: it works at home and at another
    // customer.
    let next = str_of(&body, "refresh_token");
    let (status, home) = redeem_at(&env, S_TENANT, next).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    let home_claims = env.verify(str_of(&home, "access_token")).await;
    assert_eq!(claims_str(&home_claims, "tid"), S_TENANT);
    assert_eq!(claims_str(&home_claims, "idp"), issuer(S_TENANT));
    let (status, fabrikam) = redeem_at(&env, S_CUSTOMER, next).await;
    assert_eq!(status, StatusCode::OK, "{fabrikam}");
    // Fabrikam has no Entra ID P1/P2: the delegated call gets the licence error.
    let (status, body, _) = list(&env, "v1.0", str_of(&fabrikam, "access_token"), &[]).await;
    assert_graph_error(
        status,
        &body,
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    );
}

#[tokio::test]
async fn no_active_relationship_means_aadsts90099_naming_the_tenant() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    for (tenant, domain) in [
        (S_TAILSPIN, "tailspin-signins.onmicrosoft.com"),
        (S_WOODGROVE, "woodgrove-signins.onmicrosoft.com"),
    ] {
        let (status, body) = redeem_at(&env, tenant, RT_REPORTER_ADMIN).await;
        let description = assert_sts_error(status, &body, 400, "invalid_grant", 90099);
        assert!(description.contains(domain), "{description}");
        assert!(body.get("access_token").is_none());
    }
}

#[tokio::test]
async fn a_relationship_stops_granting_access_when_it_ends() {
    let env = Env::start_with(signins_with(|v| {
        v["graph"]["signInsThrottle"] = Value::Null;
        v["tenants"][0]["delegatedAdminRelationships"][1]["endDateTime"] = json!("+1d");
    }))
    .await;
    let (status, body) = redeem_at(&env, S_NORTHWIND, RT_REPORTER_ADMIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Two days on (emulator clock) Northwind's relationship has ended; Fabrikam's still runs.
    let (status, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 2 * 86_400}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = redeem_at(&env, S_NORTHWIND, RT_REPORTER_ADMIN).await;
    assert_sts_error(status, &body, 400, "invalid_grant", 90099);
    let (status, body) = redeem_at(&env, S_CUSTOMER, RT_REPORTER_ADMIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn graph_lists_the_relationships_the_sts_honours() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    let token = delegated_token(&env).await;
    let url = env.url("/graph/v1.0/tenantRelationships/delegatedAdminRelationships");
    let (status, body, _) = get_url(&env, &url, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["value"].as_array().expect("value");
    let listed: Vec<(&str, &str)> = items
        .iter()
        .map(|r| (str_of(&r["customer"], "tenantId"), str_of(r, "status")))
        .collect();
    assert_eq!(
        listed,
        [
            (S_CUSTOMER, "active"),
            (S_NORTHWIND, "active"),
            (S_TAILSPIN, "expired")
        ]
    );
    let northwind = &items[1];
    assert_eq!(
        northwind["accessDetails"]["unifiedRoles"],
        json!([{"roleDefinitionId": GLOBAL_READER}, {"roleDefinitionId": SECURITY_ADMIN}])
    );
    assert_eq!(
        str_of(northwind, "@odata.type"),
        "#microsoft.graph.delegatedAdminRelationship"
    );
    // Scenario times ("+150d") are Graph's UTC timestamps.
    let end = chrono::DateTime::parse_from_rfc3339(str_of(northwind, "endDateTime")).expect("endDateTime");
    assert!(end > chrono::Utc::now() + chrono::Duration::days(149), "{end}");
    assert!(str_of(northwind, "endDateTime").ends_with('Z'));
    // Every customer Graph lists as active is one whose token the STS issues.
    for (tenant, status) in listed {
        let (redeemed, body) = redeem_at(&env, tenant, RT_REPORTER_ADMIN).await;
        assert_eq!(redeemed == StatusCode::OK, status == "active", "{tenant}: {body}");
    }
}

#[tokio::test]
async fn a_multi_tenant_app_has_one_set_of_credentials() {
    let env = Env::start_with(unthrottled(|_| {})).await;
    // The home registration's secret works in every tenant with a service principal...
    for tenant in [S_TENANT, S_CUSTOMER, S_NORTHWIND] {
        let token = app_token_for(&env, tenant, REPORTER, REPORTER_SECRET).await;
        let claims = env.verify(&token).await;
        assert_eq!(claims_str(&claims, "tid"), tenant);
    }
    // ...permissions are each tenant's consent: Tailspin consented to delegated ones only.
    let (status, body) = app_sign_in(&env, S_TAILSPIN, REPORTER_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = env.verify(str_of(&body, "access_token")).await;
    assert!(claims.get("roles").is_none(), "{claims}");
    // A wrong secret is wrong everywhere.
    let (status, body) = app_sign_in(&env, S_NORTHWIND, "not-the-secret").await;
    assert_sts_error(status, &body, 401, "invalid_client", 7000215);
}

#[tokio::test]
async fn scenarios_must_register_an_app_once() {
    let home_app = |v: &Value| v["tenants"][0]["applications"][0].clone();
    // The same app registered in a customer too (two sets of secrets) is refused.
    let twice = signins_with(|v| {
        let copy = home_app(v);
        v["tenants"][1]["servicePrincipals"] = json!([]);
        v["tenants"][1]["applications"] = json!([copy]);
    });
    let err = load_error(&twice);
    assert!(err.contains("registered in tenants"), "{err}");
    // A service principal needs a multi-tenant registration somewhere.
    let single = signins_with(|v| {
        v["tenants"][0]["applications"][0]["signInAudience"] = json!("AzureADMyOrg");
    });
    let err = load_error(&single);
    assert!(err.contains("single-tenant"), "{err}");
    let orphan = signins_with(|v| {
        v["tenants"][1]["servicePrincipals"][0]["appId"] =
            json!("00000000-1111-4222-8333-444444444444");
    });
    let err = load_error(&orphan);
    assert!(err.contains("names no app"), "{err}");
}
