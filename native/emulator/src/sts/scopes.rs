//! Turning v2 `scope` and v1 `resource` parameters into one resource plus permissions, and
//! deciding which delegated permissions an app gets.
//!
//! Entra rules reproduced here:
//! - a v2 scope is `<identifier>/<permission>`; a bare permission (`User.Read`) means Graph;
//! - one request names exactly one resource (AADSTS28000 otherwise);
//! - `/.default` means "everything consented" and cannot be mixed with named permissions;
//! - the access token carries every consented delegated permission of the resource, not
//!   just the ones named (consent is aggregated per resource);
//! - `aud` is the identifier exactly as the client used it.

use crate::scenario::{Application, GRAPH_APP_ID, Resource, Scenario};
use crate::sts::errors::StsError;

/// OpenID Connect scopes that name no resource.
#[derive(Debug, Clone, Copy, Default)]
pub struct OidcScopes {
    pub openid: bool,
    pub profile: bool,
    pub email: bool,
    pub offline_access: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    /// `/.default`, a v1 `resource`, or a refresh without scope: all consented permissions.
    Default,
    Named(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ResourceScope<'s> {
    pub resource: &'s Resource,
    /// The `aud` claim: the identifier as the client sent it.
    pub audience: String,
    pub permissions: Permissions,
}

#[derive(Debug, Clone)]
pub struct ScopeRequest<'s> {
    pub resource: Option<ResourceScope<'s>>,
    pub oidc: OidcScopes,
}

/// Parses a v2 `scope` parameter for user flows.
pub fn parse_v2<'s>(
    scenario: &'s Scenario,
    tenant_label: &str,
    raw: &str,
) -> Result<ScopeRequest<'s>, StsError> {
    let mut oidc = OidcScopes::default();
    let mut found: Option<ResourceScope<'s>> = None;
    for token in raw.split_whitespace() {
        match token.to_ascii_lowercase().as_str() {
            "openid" => oidc.openid = true,
            "profile" => oidc.profile = true,
            "email" => oidc.email = true,
            "offline_access" => oidc.offline_access = true,
            _ => {
                let (resource, audience, permission) = split_scope(scenario, tenant_label, token)?;
                match &mut found {
                    None => {
                        let permissions = if permission == ".default" {
                            Permissions::Default
                        } else {
                            Permissions::Named(vec![permission])
                        };
                        found = Some(ResourceScope {
                            resource,
                            audience,
                            permissions,
                        });
                    }
                    Some(existing) => {
                        if !existing
                            .resource
                            .app_id
                            .eq_ignore_ascii_case(&resource.app_id)
                        {
                            return Err(StsError::more_than_one_resource(raw));
                        }
                        match &mut existing.permissions {
                            Permissions::Named(list) if permission != ".default" => {
                                list.push(permission)
                            }
                            // `.default` together with anything else for the same resource.
                            _ => return Err(StsError::invalid_scope(raw)),
                        }
                    }
                }
            }
        }
    }
    Ok(ScopeRequest {
        resource: found,
        oidc,
    })
}

/// Client credentials (v2): exactly one `<identifier>/.default` (AADSTS1002012 otherwise).
pub fn parse_client_credentials_v2<'s>(
    scenario: &'s Scenario,
    tenant_label: &str,
    raw: &str,
) -> Result<ResourceScope<'s>, StsError> {
    let mut tokens = raw.split_whitespace();
    let (Some(only), None) = (tokens.next(), tokens.next()) else {
        return Err(StsError::client_credentials_scope(raw));
    };
    if !only.contains('/') || !only.ends_with("/.default") {
        return Err(StsError::client_credentials_scope(raw));
    }
    let (resource, audience, _) = split_scope(scenario, tenant_label, only)?;
    Ok(ResourceScope {
        resource,
        audience,
        permissions: Permissions::Default,
    })
}

/// A v1 `resource` parameter.
pub fn parse_v1_resource<'s>(
    scenario: &'s Scenario,
    tenant_label: &str,
    resource: &str,
) -> Result<ResourceScope<'s>, StsError> {
    let found = scenario
        .resource(resource)
        .ok_or_else(|| StsError::resource_not_found(resource, tenant_label))?;
    Ok(ResourceScope {
        resource: found,
        audience: resource.to_owned(),
        permissions: Permissions::Default,
    })
}

/// `<identifier>/<permission>` → (resource, audience, permission).
fn split_scope<'s>(
    scenario: &'s Scenario,
    tenant_label: &str,
    token: &str,
) -> Result<(&'s Resource, String, String), StsError> {
    let Some((prefix, permission)) = token.rsplit_once('/') else {
        // A bare permission is a Graph permission; Entra then uses Graph's app id as `aud`.
        let graph = scenario
            .graph()
            .ok_or_else(|| StsError::resource_not_found(GRAPH_APP_ID, tenant_label))?;
        return Ok((graph, graph.app_id.clone(), token.to_owned()));
    };
    // `https://graph.microsoft.com` alone splits into `https:/` + host: a URI without a
    // permission, which Entra rejects as an invalid scope.
    if permission.is_empty() || prefix.is_empty() || prefix.ends_with(":/") {
        return Err(StsError::invalid_scope(token));
    }
    let resource = scenario
        .resource(prefix)
        .ok_or_else(|| StsError::resource_not_found(prefix, tenant_label))?;
    Ok((resource, prefix.to_owned(), permission.to_owned()))
}

/// The delegated permissions (`scp`) `app` gets on the requested resource, or the reason it
/// gets none.
pub fn delegated_grant(
    scenario: &Scenario,
    app: &Application,
    requested: &ResourceScope<'_>,
) -> Result<Vec<String>, StsError> {
    let consented = app
        .delegated_for(scenario, requested.resource)
        .ok_or_else(|| StsError::consent_required(&app.app_id, &app.display_name))?;
    if let Permissions::Named(names) = &requested.permissions {
        for name in names {
            if !requested.resource.has_delegated_scope(name) {
                return Err(StsError::invalid_scope(&format!(
                    "{}/{name}",
                    requested.audience
                )));
            }
            if !consented.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                return Err(StsError::consent_required(&app.app_id, &app.display_name));
            }
        }
    }
    Ok(consented)
}

/// The `scope` value of a v2 response: granted permissions, prefixed with the resource
/// identifier except for Graph (Entra omits Graph's prefix), then the OIDC scopes requested.
pub fn v2_response_scope(
    requested: &ResourceScope<'_>,
    granted: &[String],
    oidc: OidcScopes,
) -> String {
    let mut parts: Vec<String> = granted
        .iter()
        .map(|p| {
            if requested.resource.is_graph() {
                p.clone()
            } else {
                format!("{}/{p}", requested.audience.trim_end_matches('/'))
            }
        })
        .collect();
    for (wanted, name) in [
        (oidc.profile, "profile"),
        (oidc.openid, "openid"),
        (oidc.email, "email"),
    ] {
        if wanted {
            parts.push(name.to_owned());
        }
    }
    parts.join(" ")
}
