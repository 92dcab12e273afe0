//! Key Vault secrets (api-contracts §6): the 401 challenge, set/get/versions/list/delete/patch,
//! paging, access policies (403), 404 shapes, api-version and name checks, the ledger.

use std::collections::HashSet;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::*;

const VAULT: &str = "contoso-csp-sam";
/// The SAM app's service principal in the partner tenant (UUID v5 of tenant/app, see README).
const SAM_SP: &str = "544cb2fc-4cef-5d05-a96d-2d67863e4a8e";

impl Env {
    fn vault_url(&self, path: &str) -> String {
        self.url(&format!("/vault/{VAULT}{path}"))
    }

    async fn kv(
        &self,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, HeaderMap) {
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        split(req.send().await.expect("key vault request sent")).await
    }

    async fn put_secret(&self, token: &str, name: &str, value: &str) -> Value {
        let (status, body, _) = self
            .kv(
                reqwest::Method::PUT,
                &self.vault_url(&format!("/secrets/{name}?api-version=7.4")),
                Some(token),
                Some(json!({"value": value})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn kv_app_token(&self) -> String {
        self.app_token(&format!("{}/vault/.default", self.emu.base_url))
            .await
    }
}

fn assert_kv_error(body: &Value, code: &str) -> String {
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
}

fn is_version(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn a_request_without_a_token_gets_the_challenge() {
    let env = Env::start().await;
    let (status, body, headers) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/anything?api-version=7.4"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["www-authenticate"].to_str().expect("ascii"),
        format!(
            "Bearer authorization=\"{}/{TENANT}\", resource=\"https://vault.azure.net\"",
            env.emu.base_url
        )
    );
    assert_eq!(
        assert_kv_error(&body, "Unauthorized"),
        "AKV10000: Request is missing a Bearer or PoP token."
    );
}

#[tokio::test]
async fn set_get_versions_and_list_with_an_app_token() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    let first = env.put_secret(&token, "partner-rt", "value-one-0001").await;
    let second = env.put_secret(&token, "partner-rt", "value-two-0002").await;
    let prefix = format!("{}/vault/{VAULT}/secrets/partner-rt/", env.emu.base_url);
    let v1 = first["id"]
        .as_str()
        .expect("id")
        .strip_prefix(&prefix)
        .expect("id under the vault")
        .to_owned();
    let v2 = second["id"]
        .as_str()
        .expect("id")
        .strip_prefix(&prefix)
        .expect("id under the vault")
        .to_owned();
    assert!(is_version(&v1) && is_version(&v2) && v1 != v2, "{v1} {v2}");
    assert_eq!(second["value"], "value-two-0002");
    assert_eq!(second["attributes"]["enabled"], true);
    assert!(second["attributes"]["created"].is_i64());
    assert!(second["attributes"]["updated"].is_i64());

    // Latest, with and without a trailing slash; a given version.
    for path in [
        "/secrets/partner-rt?api-version=7.4",
        "/secrets/partner-rt/?api-version=7.4",
    ] {
        let (status, body, _) = env
            .kv(
                reqwest::Method::GET,
                &env.vault_url(path),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["value"], "value-two-0002");
        assert_eq!(body["id"], second["id"]);
    }
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url(&format!("/secrets/partner-rt/{v1}?api-version=7.4")),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], "value-one-0001");
    // Names are case-insensitive.
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/PARTNER-RT?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], "value-two-0002");

    // Versions: both, oldest first, no values.
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/partner-rt/versions?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["value"].as_array().expect("value");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], first["id"]);
    assert!(items.iter().all(|i| i.get("value").is_none()));
    assert!(body["nextLink"].is_null());

    // List: ids without a version, no values.
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["value"].as_array().expect("value");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["id"],
        format!("{}/vault/{VAULT}/secrets/partner-rt", env.emu.base_url)
    );
    assert!(items[0].get("value").is_none());
}

#[tokio::test]
async fn a_delegated_token_of_the_admin_agent_works_too() {
    let env = Env::start().await;
    let token = env
        .user_token(RT_ADMIN, "https://vault.azure.net/.default")
        .await;
    env.put_secret(&token, "by-admin", "admin-written-value")
        .await;
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/by-admin?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], "admin-written-value");
}

#[tokio::test]
async fn lists_page_with_next_links_and_lose_nothing() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    for i in 0..30 {
        env.put_secret(&token, &format!("s-{i:02}"), &format!("value-{i}"))
            .await;
    }
    for _ in 0..12 {
        env.put_secret(&token, "many-versions", "v").await;
    }
    let mut url = env.vault_url("/secrets?api-version=7.4&maxresults=7");
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let (status, body, _) = env.kv(reqwest::Method::GET, &url, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        let items = body["value"].as_array().expect("value");
        assert!(items.len() <= 7);
        for item in items {
            assert!(
                seen.insert(item["id"].as_str().expect("id").to_owned()),
                "duplicate {item}"
            );
        }
        match body["nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&env.vault_url("/secrets?api-version=7.4&$skiptoken=")),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 31);
    assert_eq!(pages, 5);

    let mut url = env.vault_url("/secrets/many-versions/versions?api-version=7.4&maxresults=5");
    let mut versions = Vec::new();
    loop {
        let (status, body, _) = env.kv(reqwest::Method::GET, &url, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        versions.extend(
            body["value"]
                .as_array()
                .expect("value")
                .iter()
                .map(|v| v["id"].as_str().expect("id").to_owned()),
        );
        match body["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(versions.len(), 12);
    assert_eq!(versions.iter().collect::<HashSet<_>>().len(), 12);

    for bad in [
        "maxresults=0",
        "maxresults=26",
        "maxresults=x",
        "$skiptoken=garbage!",
    ] {
        let (status, body, _) = env
            .kv(
                reqwest::Method::GET,
                &env.vault_url(&format!("/secrets?api-version=7.4&{bad}")),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_kv_error(&body, "BadParameter");
    }
}

#[tokio::test]
async fn unknown_secrets_and_versions_are_secret_not_found() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/missing?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        assert_kv_error(&body, "SecretNotFound"),
        "A secret with (name/id) missing was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
    );
    env.put_secret(&token, "present", "x-value").await;
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url(&format!(
                "/secrets/present/{}?api-version=7.4",
                "0".repeat(32)
            )),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        assert_kv_error(&body, "SecretNotFound").contains(&format!("present/{}", "0".repeat(32)))
    );
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/missing/versions?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn delete_purges_and_a_second_delete_is_not_found() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    env.put_secret(&token, "gone-soon", "delete-me-value").await;
    let url = env.vault_url("/secrets/gone-soon?api-version=7.4");
    let (status, body, _) = env
        .kv(reqwest::Method::DELETE, &url, Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("value").is_none(),
        "a deleted bundle has no value: {body}"
    );
    assert!(body["deletedDate"].is_i64());
    let (status, _, _) = env.kv(reqwest::Method::GET, &url, Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body, _) = env
        .kv(reqwest::Method::DELETE, &url, Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_kv_error(&body, "SecretNotFound");
    // No soft delete: the name can be set again at once.
    env.put_secret(&token, "gone-soon", "back-again-value")
        .await;
}

#[tokio::test]
async fn patch_updates_attributes_and_a_disabled_secret_cannot_be_read() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    let set = env.put_secret(&token, "patched", "patch-value").await;
    let version = set["id"]
        .as_str()
        .expect("id")
        .rsplit('/')
        .next()
        .expect("version")
        .to_owned();
    let (status, body, _) = env
        .kv(
            reqwest::Method::PATCH,
            &env.vault_url(&format!("/secrets/patched/{version}?api-version=7.4")),
            Some(&token),
            Some(json!({"contentType": "text/plain", "tags": {"owner": "sam"}, "attributes": {"enabled": false}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("value").is_none());
    assert_eq!(body["contentType"], "text/plain");
    assert_eq!(body["tags"]["owner"], "sam");
    assert_eq!(body["attributes"]["enabled"], false);
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/patched?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["innererror"]["code"], "SecretDisabled");
    let (status, _, _) = env
        .kv(
            reqwest::Method::PATCH,
            &env.vault_url("/secrets/patched?api-version=7.4"),
            Some(&token),
            Some(json!({"attributes": {"enabled": true}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/patched?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], "patch-value");
}

#[tokio::test]
async fn callers_without_an_access_policy_get_403() {
    let env = Env::start().await;
    // The sales agent has no access policy on the vault.
    let sales = env
        .user_token(RT_SALES, "https://vault.azure.net/.default")
        .await;
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/x?api-version=7.4"),
            Some(&sales),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = assert_kv_error(&body, "Forbidden");
    assert_eq!(body["error"]["innererror"]["code"], "AccessDenied");
    assert!(
        message.starts_with(&format!("The user, group or application 'appid={SAM_APP};oid={SALES_ID};iss=https://sts.windows.net/{TENANT}/' does not have secrets get permission on key vault '{VAULT};")),
        "{message}"
    );
}

#[tokio::test]
async fn each_operation_needs_its_own_permission() {
    let scenario = demo_with(|v| {
        v["keyVaults"][0]["accessPolicies"] =
            json!([{"objectId": SAM_SP, "permissions": ["get", "list"]}]);
        v["keyVaults"][0]["secrets"] = json!([{"name": "seeded", "value": "seeded-secret-value-0001", "contentType": "text/plain"}]);
    });
    let env = Env::start_with(scenario).await;
    let token = env.kv_app_token().await;
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/seeded?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], "seeded-secret-value-0001");
    assert_eq!(body["contentType"], "text/plain");
    let (status, body, _) = env
        .kv(
            reqwest::Method::PUT,
            &env.vault_url("/secrets/seeded?api-version=7.4"),
            Some(&token),
            Some(json!({"value": "new"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(assert_kv_error(&body, "Forbidden").contains(&format!("oid={SAM_SP};")));
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("does not have secrets set permission")
    );
    let (status, body, _) = env
        .kv(
            reqwest::Method::DELETE,
            &env.vault_url("/secrets/seeded?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("does not have secrets delete permission")
    );
    // The admin agent lost access in this scenario.
    let admin = env
        .user_token(RT_ADMIN, "https://vault.azure.net/.default")
        .await;
    let (status, _, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets?api-version=7.4"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Seeded values are in the ledger.
    let (_, ledger, _) = env.get("/_emulator/issued-tokens", None).await;
    assert!(
        ledger
            .as_array()
            .expect("array")
            .iter()
            .any(|v| v == "seeded-secret-value-0001")
    );
}

#[tokio::test]
async fn tokens_for_other_audiences_tenants_or_times_are_401_with_the_challenge() {
    let scenario = demo_with(|v| {
        v["keyVaults"].as_array_mut().expect("vaults").push(json!({
            "name": "fabrikam-vault", "tenantId": CUSTOMER_TENANT,
            "accessPolicies": [{"objectId": SAM_SP, "permissions": ["get"]}]
        }));
    });
    let env = Env::start_with(scenario).await;
    let challenge = |headers: &HeaderMap| {
        headers["www-authenticate"]
            .to_str()
            .expect("ascii")
            .to_owned()
    };

    let graph = env.app_token("https://graph.microsoft.com/.default").await;
    let (status, body, headers) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/x?api-version=7.4"),
            Some(&graph),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        assert_kv_error(&body, "Unauthorized")
            .starts_with("AKV10022: Invalid audience. Expected https://vault.azure.net, found: ")
    );
    assert!(challenge(&headers).contains("resource=\"https://vault.azure.net\""));

    // A partner-tenant token at a vault of the customer tenant.
    let kv = env.kv_app_token().await;
    let (status, body, headers) = env
        .kv(
            reqwest::Method::GET,
            &env.url("/vault/fabrikam-vault/secrets/x?api-version=7.4"),
            Some(&kv),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(assert_kv_error(&body, "Unauthorized").starts_with("AKV10032: Invalid issuer."));
    assert!(challenge(&headers).contains(&format!(
        "authorization=\"{}/{CUSTOMER_TENANT}\"",
        env.emu.base_url
    )));

    // Expired on the emulator clock.
    let (s, _) = env
        .post_json("/_emulator/clock/advance", json!({"seconds": 3 * 3600}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.vault_url("/secrets/x?api-version=7.4"),
            Some(&kv),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_kv_error(&body, "Unauthorized");
}

#[tokio::test]
async fn api_version_names_and_bodies_are_checked() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    for query in ["", "?api-version=2016-10-01", "?api-version=7."] {
        let (status, body, _) = env
            .kv(
                reqwest::Method::GET,
                &env.vault_url(&format!("/secrets/x{query}")),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_kv_error(&body, "BadParameter");
    }
    for version in ["7.0", "7.4", "7.5-preview"] {
        let (status, _, _) = env
            .kv(
                reqwest::Method::GET,
                &env.vault_url(&format!("/secrets/x?api-version={version}")),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{version} accepted");
    }
    let (status, body, _) = env
        .kv(
            reqwest::Method::PUT,
            &env.vault_url("/secrets/bad_name?api-version=7.4"),
            Some(&token),
            Some(json!({"value": "v"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_kv_error(&body, "BadParameter").contains("invalid name"));
    let long = "a".repeat(128);
    let (status, _, _) = env
        .kv(
            reqwest::Method::PUT,
            &env.vault_url(&format!("/secrets/{long}?api-version=7.4")),
            Some(&token),
            Some(json!({"value": "v"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for bad in [json!({"nope": 1}), json!({"value": 5}), json!("text")] {
        let (status, body, _) = env
            .kv(
                reqwest::Method::PUT,
                &env.vault_url("/secrets/ok?api-version=7.4"),
                Some(&token),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _, _) = env
        .kv(
            reqwest::Method::PUT,
            &env.vault_url("/secrets/big?api-version=7.4"),
            Some(&token),
            Some(json!({"value": "x".repeat(25 * 1024 + 1)})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body, _) = env
        .kv(
            reqwest::Method::GET,
            &env.url("/vault/no-such-vault/secrets/x?api-version=7.4"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_kv_error(&body, "VaultNotFound");
}

#[tokio::test]
async fn every_stored_value_is_in_the_ledger() {
    let env = Env::start().await;
    let token = env.kv_app_token().await;
    env.put_secret(&token, "rt", "1.Arotated-refresh-token-value-for-ledger")
        .await;
    let (_, ledger, _) = env.get("/_emulator/issued-tokens", None).await;
    assert!(
        ledger
            .as_array()
            .expect("array")
            .iter()
            .any(|v| v == "1.Arotated-refresh-token-value-for-ledger")
    );
}

#[tokio::test]
async fn scenario_vaults_are_validated_at_start_up() {
    let cases = [
        (
            json!([{"name": "ab", "tenantId": TENANT}]),
            "not a valid vault name",
        ),
        (
            json!([{"name": "good-name", "tenantId": CUSTOMER_TENANT.replace('2', "3")}]),
            "unknown tenantId",
        ),
        (
            json!([{"name": "good-name", "tenantId": TENANT, "accessPolicies": [{"objectId": "x", "permissions": []}]}]),
            "not a GUID",
        ),
        (
            json!([{"name": "good-name", "tenantId": TENANT, "accessPolicies": [{"objectId": SAM_SP, "permissions": ["read"]}]}]),
            "unknown secret permission",
        ),
        (
            json!([{"name": "good-name", "tenantId": TENANT}, {"name": "GOOD-name", "tenantId": TENANT}]),
            "listed twice",
        ),
        (
            json!([{"name": "good-name", "tenantId": TENANT, "secrets": [{"name": "a_b", "value": "v"}]}]),
            "not a valid secret name",
        ),
    ];
    for (vaults, expected) in cases {
        let text = demo_with(|v| v["keyVaults"] = vaults.clone());
        let err = partnersecurity_emulator::Scenario::load(&text, "http://x", chrono::Utc::now())
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains(expected), "{vaults}: {err}");
    }
}
