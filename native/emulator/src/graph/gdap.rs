//! GDAP from the partner side (api-contracts §4.7): `tenantRelationships/
//! delegatedAdminRelationships` (`$top` ≤ 300, each item with `@odata.type` and `@odata.etag`)
//! and a relationship's `accessAssignments`. Relationships are the tenant's
//! `delegatedAdminRelationships` (those the STS honours when a partner user's token is redeemed
//! at a customer's authority), then its `compliance.gdapRelationships` (which may carry access
//! assignments); their date-times may be scenario times.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use axum::response::Response;
use serde_json::Value;

use super::collection::{DIRECTORY, Gate, GraphRead, Licence, Paging};
use crate::compliance::resolve_times;

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

/// Relationships: `$top` ≤ 300, 300 by default (api-contracts §4.7).
const RELATIONSHIPS: Paging = Paging {
    default_top: 300,
    max_top: 300,
};

/// Access assignments: Graph's default page, at most 300.
const ASSIGNMENTS: Paging = Paging {
    default_top: DIRECTORY.default_top,
    max_top: 300,
};

const TIMES: &[&str] = &[
    "createdDateTime",
    "lastModifiedDateTime",
    "activatedDateTime",
    "endDateTime",
];

/// What Graph lists: one relationship of each id, the STS's first.
fn relationships(tenant: &crate::scenario::Tenant, loaded_at: DateTime<Utc>) -> Vec<Value> {
    let mut all: Vec<Value> = tenant
        .delegated_admin_relationships
        .iter()
        .map(|r| r.to_graph(loaded_at))
        .collect();
    let listed = |id: &str| {
        tenant
            .delegated_admin_relationships
            .iter()
            .any(|r| r.id.eq_ignore_ascii_case(id))
    };
    let compliance = tenant.compliance.as_ref().map(|c| c.gdap_relationships.iter());
    all.extend(compliance.into_iter().flatten().filter(|r| {
        !r.get("id").and_then(Value::as_str).is_some_and(listed)
    }).cloned());
    all
}

pub async fn relationships_list(read: GraphRead) -> Response {
    let path = "tenantRelationships/delegatedAdminRelationships";
    let loaded_at = read.st.scenario.loaded_at;
    read.list(&GDAP, RELATIONSHIPS, path, |tenant, _| {
        Ok(relationships(tenant, loaded_at)
            .iter()
            .map(|r| {
                let mut item = resolve_times(r, TIMES, loaded_at, true);
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
            .collect())
    })
}

pub async fn access_assignments(read: GraphRead) -> Response {
    let id = &read.id;
    let path = format!("tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments");
    let loaded_at = read.st.scenario.loaded_at;
    read.list(&GDAP, ASSIGNMENTS, &path, |tenant, call| {
        let all = relationships(tenant, loaded_at);
        let Some(relationship) = all.iter().find(|r| {
            r.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        }) else {
            return Err(Box::new(call.error(
                &read.st,
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("The delegated admin relationship '{id}' was not found."),
            )));
        };
        let assignments = relationship
            .get("accessAssignments")
            .and_then(Value::as_array);
        Ok(assignments
            .into_iter()
            .flatten()
            .map(|a| {
                resolve_times(
                    a,
                    &["createdDateTime", "lastModifiedDateTime"],
                    loaded_at,
                    true,
                )
            })
            .collect())
    })
}
