//! Literal sign-ins listed in a scenario (`tenants[].signIns.items`), for exact assertions.
//!
//! An item is a Graph-shaped `signIn` object. Only `createdDateTime` (a scenario time, e.g.
//! `"-2h"`) and a user (`userId` or `userPrincipalName`, unless the item is a
//! `servicePrincipal` sign-in) are required; everything else is filled in consistently:
//! user names and type from the tenant's users, app and resource names from the tenant's apps
//! and well-known first-party ids, failure texts from the error code, authentication details
//! from `authenticationRequirement` and the outcome, `isInteractive` from `signInEventTypes`
//! (or the reverse). Listed properties win over derived ones; objects (`status`,
//! `deviceDetail`, `location`, `mfaDetail`) are merged key by key. Unknown property names are
//! rejected, so a typo fails at start-up.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::draft::{AuthStep, Device, Draft, status_text};
use super::fields::{EVENT_TYPES, Field, FieldType, SignInFields, Val};
use super::generator::{
    first_party_app, hash, hash_str, place_for_country, resource_name, uuid_from,
};
use super::{ApiVersion, props};
use crate::scenario::{Scenario, Tenant, TimeSpec, UserType};

#[derive(Debug, Clone)]
pub struct LiteralSignIn {
    pub ts_ms: i64,
    /// Every beta property (v1.0 responses pick their subset).
    pub json: Map<String, Value>,
}

impl LiteralSignIn {
    pub fn id(&self) -> &str {
        self.json
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn event_types(&self) -> impl Iterator<Item = &str> {
        self.json
            .get("signInEventTypes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
}

fn get_str<'a>(raw: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("'{key}' must be a string")),
    }
}

/// Builds item `position` of `tenant`'s literal sign-ins.
pub fn build(
    scenario: &Scenario,
    tenant: &Tenant,
    position: usize,
    raw: &Map<String, Value>,
    loaded_at: DateTime<Utc>,
    p2: bool,
) -> Result<LiteralSignIn, String> {
    for key in raw.keys() {
        if !props::PROPS.iter().any(|(n, _)| n == key) {
            return Err(format!("unknown sign-in property '{key}'"));
        }
    }
    let created = get_str(raw, "createdDateTime")?
        .ok_or("'createdDateTime' is required (RFC 3339, \"now\" or an offset like \"-2h\")")?;
    let spec = TimeSpec::parse(created).map_err(|e| format!("createdDateTime: {e}"))?;
    let mut ts_ms = spec.resolve(loaded_at).timestamp_millis();
    if matches!(spec, TimeSpec::Relative(_)) {
        // Offsets from start-up land on whole seconds, like Graph's own timestamps.
        ts_ms -= ts_ms.rem_euclid(1000);
    }

    let event_types: Vec<String> = match raw.get("signInEventTypes") {
        None | Some(Value::Null) => match raw.get("isInteractive") {
            Some(Value::Bool(false)) => vec!["nonInteractiveUser".to_owned()],
            _ => vec!["interactiveUser".to_owned()],
        },
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if EVENT_TYPES.contains(&s) => out.push(s.to_owned()),
                    _ => {
                        return Err(format!(
                            "signInEventTypes: {item} is not one of {}",
                            EVENT_TYPES.join(", ")
                        ));
                    }
                }
            }
            out
        }
        Some(_) => return Err("'signInEventTypes' must be an array of strings".to_owned()),
    };
    let is_interactive = match raw.get("isInteractive") {
        None | Some(Value::Null) => event_types.iter().any(|t| t == "interactiveUser"),
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("'isInteractive' must be true or false".to_owned()),
    };
    let service_principal = event_types
        .iter()
        .any(|t| t == "servicePrincipal" || t == "managedIdentity");

    let error_code = match raw.get("status").map(|s| s.get("errorCode")) {
        None | Some(None) => 0,
        Some(Some(v)) => v
            .as_i64()
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or("'status.errorCode' must be a 32-bit integer")?,
    };
    if let Some(status) = raw.get("status")
        && !status.is_object()
    {
        return Err("'status' must be an object".to_owned());
    }

    // The user.
    let user_id = get_str(raw, "userId")?;
    let upn = get_str(raw, "userPrincipalName")?;
    let user = match (user_id, upn) {
        (Some(id), _) if tenant.user(id).is_some() => tenant.user(id),
        (_, Some(u)) if tenant.user_by_upn(u).is_some() => tenant.user_by_upn(u),
        (Some(id), None) => {
            return Err(format!(
                "userId {id} is not a user of the tenant (add userPrincipalName for an external user)"
            ));
        }
        (None, None) if !service_principal => {
            return Err(
                "give userId or userPrincipalName (or signInEventTypes [\"servicePrincipal\"])"
                    .to_owned(),
            );
        }
        _ => None,
    };
    let guest = user.is_some_and(|u| u.user_type == UserType::Guest);

    // The app and the resource.
    let app_id = get_str(raw, "appId")?
        .unwrap_or("c44b4083-3bb0-49c1-b47d-974e53cbdf3c")
        .to_owned();
    let tenant_app = tenant.application(&app_id);
    let known = first_party_app(&app_id);
    let app_name = tenant_app
        .map(|a| a.display_name.clone())
        .or_else(|| known.map(|k| k.0.to_owned()));
    let resource_id = get_str(raw, "resourceId")?
        .map(str::to_owned)
        .or_else(|| known.map(|k| k.1.to_owned()))
        .unwrap_or_else(|| crate::scenario::GRAPH_APP_ID.to_owned());
    let resource_display = scenario
        .resource_by_app_id(&resource_id)
        .map(|r| r.display_name.clone())
        .or_else(|| resource_name(&resource_id).map(str::to_owned));

    let requirement = get_str(raw, "authenticationRequirement")?
        .unwrap_or("singleFactorAuthentication")
        .to_owned();
    let mfa = requirement == "multiFactorAuthentication" && error_code == 0;
    let (failure, additional) = status_text(error_code);
    let (place, asn) = place_for_country(&tenant.country_code);
    let key = hash(&[hash_str(&tenant.id.to_ascii_lowercase()), position as u64]);
    let h = |k: u64| hash(&[key, k]);

    let mut d = Draft {
        id: uuid_from(h(1), h(2)),
        created_ms: ts_ms,
        user_display_name: user.map(|u| u.display_name.clone()),
        user_principal_name: user
            .map(|u| u.user_principal_name.clone())
            .or_else(|| upn.map(str::to_owned)),
        user_id: user
            .map(|u| u.id.clone())
            .or_else(|| user_id.map(str::to_owned))
            .unwrap_or_default(),
        app_id: app_id.clone(),
        app_display_name: app_name.clone(),
        ip_address: "203.0.113.10".to_owned(),
        client_app_used: (!service_principal).then(|| "Browser".to_owned()),
        user_agent: (!service_principal).then(|| {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0".to_owned()
        }),
        correlation_id: uuid_from(h(3), h(4)),
        conditional_access_status: "notApplied".to_owned(),
        original_request_id: uuid_from(h(5), h(6)),
        authentication_protocol: "none".to_owned(),
        incoming_token_type: if is_interactive { "none" } else { "refreshToken" }.to_owned(),
        is_interactive,
        home_tenant_id: user
            .and_then(|u| u.home_tenant_id.clone())
            .filter(|_| guest)
            .unwrap_or_else(|| tenant.id.clone()),
        processing_ms: 120,
        risk_detail: "none".to_owned(),
        risk_level_aggregated: "none".to_owned(),
        risk_level_during_sign_in: "none".to_owned(),
        risk_state: "none".to_owned(),
        resource_display_name: resource_display,
        resource_id: Some(resource_id),
        resource_tenant_id: tenant.id.clone(),
        app_owner_tenant_id: Some(if tenant_app.is_some_and(|a| !a.first_party) {
            tenant.id.clone()
        } else {
            "f8cdef31-a31e-4b4a-93e4-5f571e91255a".to_owned()
        }),
        authentication_requirement: requirement,
        unique_token_identifier: uuid_from(h(7), h(8)).replace('-', ""),
        session_id: (!service_principal).then(|| uuid_from(h(9), h(10))),
        sign_in_identifier: user.map(|u| u.user_principal_name.clone()),
        sign_in_event_types: event_types,
        client_credential_type: if service_principal {
            "clientSecret"
        } else {
            "none"
        }
        .to_owned(),
        user_type: if guest { "guest" } else { "member" }.to_owned(),
        autonomous_system_number: Some(asn),
        cross_tenant_access_type: if guest { "b2bCollaboration" } else { "none" }.to_owned(),
        error_code,
        failure_reason: failure.map(str::to_owned),
        additional_details: additional.map(str::to_owned),
        device: Device {
            device_id: String::new(),
            display_name: None,
            operating_system: (!service_principal).then(|| "Windows 10".to_owned()),
            browser: (!service_principal).then(|| "Edge 122.0.0".to_owned()),
            is_compliant: Some(false),
            is_managed: Some(false),
            trust_type: None,
        },
        place,
        ..Draft::default()
    };
    if service_principal {
        d.service_principal_id = crate::tokens::service_principal_id(&tenant.id, &app_id);
        d.service_principal_name = app_name;
    } else if is_interactive {
        let password_ok = !matches!(error_code, 50126 | 50057 | 50053);
        d.auth_steps.push(AuthStep {
            at_ms: ts_ms,
            method: "Password".to_owned(),
            method_detail: Some("Password in the cloud".to_owned()),
            succeeded: password_ok,
            result_detail: Some(
                if password_ok {
                    "Correct password"
                } else {
                    "Invalid username or password or Invalid on-premise username or password."
                }
                .to_owned(),
            ),
            requirement: "Primary authentication".to_owned(),
        });
        if password_ok {
            d.authentication_methods_used.push("Password".to_owned());
        }
        if mfa {
            d.auth_steps.push(AuthStep {
                at_ms: ts_ms,
                method: "Mobile app notification".to_owned(),
                method_detail: None,
                succeeded: true,
                result_detail: Some("MFA successfully completed".to_owned()),
                requirement: "Multifactor authentication".to_owned(),
            });
            d.authentication_methods_used
                .push("Mobile app notification".to_owned());
            d.mfa = Some(("Mobile app notification".to_owned(), None));
        }
    } else if error_code == 0 {
        d.auth_steps.push(AuthStep {
            at_ms: ts_ms,
            method: "Previously satisfied".to_owned(),
            method_detail: None,
            succeeded: true,
            result_detail: Some(
                "First factor requirement satisfied by claim in the token".to_owned(),
            ),
            requirement: "Primary authentication".to_owned(),
        });
        if mfa {
            d.mfa = Some(("Previously satisfied".to_owned(), None));
        }
    }

    let mut json = d.to_map(&props::all(ApiVersion::Beta));
    // A user of a federated domain is signed in by the domain's IdP (api-contracts §3.4).
    if let Some(federation) = user
        .and_then(|u| crate::compliance::federation_of(tenant, &u.user_principal_name))
    {
        json.insert("tokenIssuerType".into(), "ADFederationServices".into());
        json.insert("tokenIssuerName".into(), federation.issuer_uri().into());
    }
    for (key, value) in raw {
        if key == "createdDateTime" {
            continue;
        }
        match (json.get_mut(key), value) {
            (Some(Value::Object(base)), Value::Object(over)) => {
                for (k, v) in over {
                    base.insert(k.clone(), v.clone());
                }
            }
            (Some(slot), _) => *slot = value.clone(),
            (None, _) => {
                json.insert(key.clone(), value.clone());
            }
        }
    }
    // The failure texts follow the final error code unless the item gave its own.
    if let Some(Value::Object(status)) = json.get_mut("status") {
        let given = raw.get("status").and_then(Value::as_object);
        for (k, v) in [
            ("failureReason", failure),
            ("additionalDetails", additional),
        ] {
            if given.is_none_or(|g| !g.contains_key(k)) {
                status.insert(k.to_owned(), v.map_or(Value::Null, Value::from));
            }
        }
    }
    if !p2 {
        for k in ["riskDetail", "riskLevelAggregated", "riskLevelDuringSignIn"] {
            json.insert(k.to_owned(), Value::from("hidden"));
        }
    }
    for (key, ty) in [
        ("id", "string"),
        ("userId", "string"),
        ("appId", "string"),
        ("correlationId", "string"),
    ] {
        if !json.get(key).is_some_and(Value::is_string) {
            return Err(format!("'{key}' must be a {ty}"));
        }
    }
    Ok(LiteralSignIn { ts_ms, json })
}

impl SignInFields for LiteralSignIn {
    fn field(&self, field: Field) -> Val<'_> {
        if field == Field::CreatedDateTime {
            return Val::Time(self.ts_ms);
        }
        let def = field.def();
        let mut segments = def.path.split('/');
        let first = segments.next().unwrap_or_default();
        let mut value = self.json.get(first);
        for seg in segments {
            value = value.and_then(|v| v.get(seg));
        }
        let Some(value) = value else {
            return Val::Null;
        };
        match def.ty {
            FieldType::Str => value.as_str().map_or(Val::Null, Val::s),
            FieldType::Int => value.as_i64().map_or(Val::Null, Val::Int),
            FieldType::Bool => value.as_bool().map_or(Val::Null, Val::Bool),
            FieldType::StrList => Val::List(
                value
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).map(Into::into).collect())
                    .unwrap_or_default(),
            ),
            FieldType::DateTime => Val::Null,
        }
    }
}
