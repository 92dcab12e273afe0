//! GDAP from the partner side (api-contracts §4.7): `tenantRelationships/
//! delegatedAdminRelationships` (`$top` ≤ 300, each item with `@odata.type` and `@odata.etag`)
//! and a relationship's `accessAssignments`. Relationships are the tenant's
//! `compliance.gdapRelationships`; their date-times may be scenario times.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::GraphCall;
use super::collection::{self, Gate, Licence, admit};
use crate::compliance::resolve_times;
use crate::state::AppState;

const GDAP: Gate = Gate {
    delegated: &[
        "DelegatedAdminRelationship.Read.All",
        "DelegatedAdminRelationship.ReadWrite.All",
    ],
    application: &[
        "DelegatedAdminRelationship.Read.All",
        "DelegatedAdminRelationship.ReadWrite.All",
    ],
    licence: Licence::Free,
};

const TIMES: &[&str] = &[
    "createdDateTime",
    "lastModifiedDateTime",
    "activatedDateTime",
    "endDateTime",
];

fn relationships(tenant: &crate::scenario::Tenant) -> Vec<Value> {
    tenant
        .compliance
        .as_ref()
        .map(|c| c.gdap_relationships.clone())
        .unwrap_or_default()
}

pub async fn list(
    State(st): State<AppState>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = GraphCall::new(&headers);
    let (_, tenant) = match admit(&st, &call, &version, &headers, &GDAP) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let items = relationships(tenant)
        .iter()
        .map(|r| {
            let mut item = resolve_times(r, TIMES, st.scenario.loaded_at, true);
            if let Some(map) = item.as_object_mut() {
                map.remove("accessAssignments");
                map.entry("@odata.type")
                    .or_insert_with(|| "#microsoft.graph.delegatedAdminRelationship".into());
                let id = map
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                map.entry("@odata.etag")
                    .or_insert_with(|| format!("W/\"{}\"", &id[..id.len().min(8)]).into());
            }
            item
        })
        .collect();
    collection::page(
        &st,
        &call,
        &version,
        "tenantRelationships/delegatedAdminRelationships",
        query.as_deref(),
        items,
        300,
        300,
    )
}

pub async fn access_assignments(
    State(st): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = GraphCall::new(&headers);
    let (_, tenant) = match admit(&st, &call, &version, &headers, &GDAP) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let all = relationships(tenant);
    let Some(relationship) = all.iter().find(|r| {
        r.get("id")
            .and_then(Value::as_str)
            .is_some_and(|x| x.eq_ignore_ascii_case(&id))
    }) else {
        return call.error(
            &st,
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The delegated admin relationship '{id}' was not found."),
        );
    };
    let items = relationship
        .get("accessAssignments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            resolve_times(
                a,
                &["createdDateTime", "lastModifiedDateTime"],
                st.scenario.loaded_at,
                true,
            )
        })
        .collect();
    let path = format!("tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments");
    collection::page(
        &st,
        &call,
        &version,
        &path,
        query.as_deref(),
        items,
        100,
        300,
    )
}
