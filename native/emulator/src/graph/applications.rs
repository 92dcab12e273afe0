//! `GET /{version}/applications?$filter=appId eq '{id}'`: the application registrations of the
//! caller's tenant with their credentials' dates (Graph `application` resource:
//! `passwordCredentials` with `hint` and `endDateTime`, never the secret; `keyCredentials` with
//! the certificate's validity).
//! Needs `Application.Read.All` or `Directory.Read.All` (delegated or application). Only the
//! `appId eq '...'` filter is understood; anything else is Graph's 400 for an unsupported query.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::SecondsFormat;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::{GraphCall, authorize};
use crate::scenario::Application;
use crate::state::AppState;

const READ: &[&str] = &["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];

/// `appId eq 'x'` (any case, spaces around) to `x`.
fn app_id_filter(filter: &str) -> Option<String> {
    let rest = filter.trim();
    let (field, rest) = rest.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    let value = value.trim();
    (field.eq_ignore_ascii_case("appId") && op.eq_ignore_ascii_case("eq") && value.len() >= 2 && value.starts_with('\'') && value.ends_with('\''))
        .then(|| value[1..value.len() - 1].to_owned())
}

fn resource(st: &AppState, app: &Application) -> Value {
    let loaded_at = st.scenario.loaded_at;
    let date = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let passwords: Vec<Value> = app
        .secrets
        .iter()
        .map(|s| {
            json!({
                "keyId": s.id,
                "displayName": s.display_name,
                "hint": s.value.chars().take(3).collect::<String>(),
                "secretText": null,
                "startDateTime": date(loaded_at - chrono::Duration::days(1)),
                "endDateTime": s.expires_on.map(|e| date(e.resolve(loaded_at))),
            })
        })
        .collect();
    // The certificate store holds the scenario's certificates and those registered at run time
    // (`/_emulator/applications/{id}/certificates`), with the validity the certificate states.
    let keys: Vec<Value> = st
        .certificates
        .for_app(&app.app_id)
        .iter()
        .map(|c| {
            json!({
                "keyId": c.thumbprint,
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
                "displayName": format!("CN={}", app.display_name),
                "customKeyIdentifier": c.thumbprint,
                "startDateTime": date(c.not_before),
                "endDateTime": date(c.not_after),
            })
        })
        .collect();
    json!({
        "id": app.app_id,
        "appId": app.app_id,
        "displayName": app.display_name,
        "signInAudience": app.sign_in_audience,
        "passwordCredentials": passwords,
        "keyCredentials": keys,
    })
}

pub async fn list(State(st): State<AppState>, Path(version): Path<String>, Query(query): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let call = GraphCall::new(&headers);
    let (token, tenant) = match authorize(&st, &version, &headers) {
        Ok(v) => v,
        Err(r) => return call.reject(&st, r),
    };
    if !token.has_any_permission(READ, READ) {
        return call.forbidden(&st);
    }
    let wanted = match query.get("$filter") {
        None => None,
        Some(f) => match app_id_filter(f) {
            Some(id) => Some(id),
            None => return call.error(&st, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'appId' of resource 'Application'."),
        },
    };
    let value: Vec<Value> = tenant
        .applications
        .iter()
        .filter(|a| wanted.as_deref().is_none_or(|id| a.app_id.eq_ignore_ascii_case(id)))
        .map(|a| resource(&st, a))
        .collect();
    call.ok(json!({
        "@odata.context": format!("{}/graph/{version}/$metadata#applications", st.base_url),
        "value": value,
    }))
}

#[cfg(test)]
mod tests {
    use super::app_id_filter;

    #[test]
    fn only_app_id_equality_is_understood() {
        assert_eq!(app_id_filter("appId eq '5a9d'").as_deref(), Some("5a9d"));
        assert_eq!(app_id_filter("  AppId  EQ  'x' ").as_deref(), Some("x"));
        assert!(app_id_filter("displayName eq 'x'").is_none());
        assert!(app_id_filter("appId eq x").is_none());
        assert!(app_id_filter("appId").is_none());
    }
}
