//! One sign-in's values before they become Graph JSON. Generated and literal sign-ins both go
//! through [`DraftView`], so the two can't disagree about the shape of a property.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::ser::{SerializeMap as _, Serializer};
use serde_json::{Map, Value};

use super::props::{self, PropId};

#[derive(Debug, Clone, Default)]
pub struct AuthStep {
    pub at_ms: i64,
    pub method: String,
    pub method_detail: Option<String>,
    pub succeeded: bool,
    pub result_detail: Option<String>,
    /// `Primary authentication` / `Multifactor authentication`.
    pub requirement: String,
}

#[derive(Debug, Clone, Default)]
pub struct CaPolicy {
    pub id: String,
    pub display_name: String,
    pub grant_controls: Vec<String>,
    pub result: String,
}

#[derive(Debug, Clone, Default)]
pub struct Device {
    pub device_id: String,
    pub display_name: Option<String>,
    pub operating_system: Option<String>,
    pub browser: Option<String>,
    pub is_compliant: Option<bool>,
    pub is_managed: Option<bool>,
    pub trust_type: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Place {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub id: String,
    pub created_ms: i64,
    pub user_display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub user_id: String,
    pub app_id: String,
    pub app_display_name: Option<String>,
    pub ip_address: String,
    pub client_app_used: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: String,
    pub conditional_access_status: String,
    pub original_request_id: String,
    pub authentication_protocol: String,
    pub incoming_token_type: String,
    pub is_interactive: bool,
    pub home_tenant_id: String,
    pub processing_ms: i64,
    pub risk_detail: String,
    pub risk_level_aggregated: String,
    pub risk_level_during_sign_in: String,
    pub risk_state: String,
    pub risk_event_types: Vec<String>,
    pub resource_display_name: Option<String>,
    pub resource_id: Option<String>,
    pub resource_tenant_id: String,
    pub app_owner_tenant_id: Option<String>,
    pub authentication_methods_used: Vec<String>,
    pub authentication_requirement: String,
    pub unique_token_identifier: String,
    pub session_id: Option<String>,
    pub sign_in_identifier: Option<String>,
    pub sign_in_event_types: Vec<String>,
    pub service_principal_id: String,
    pub service_principal_name: Option<String>,
    pub service_principal_credential_key_id: Option<String>,
    pub client_credential_type: String,
    pub user_type: String,
    pub autonomous_system_number: Option<i64>,
    pub cross_tenant_access_type: String,
    pub error_code: i64,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
    pub device: Device,
    pub place: Place,
    /// `mfaDetail`: `(authMethod, authDetail)`; `None` for single-factor sign-ins.
    pub mfa: Option<(String, Option<String>)>,
    pub ca_policies: Vec<CaPolicy>,
    pub auth_steps: Vec<AuthStep>,
    /// `authenticationRequirementPolicies`: `(requirementProvider, detail)`.
    pub requirement_policies: Vec<(String, String)>,
    pub network_names: Vec<String>,
}

/// `createdDateTime` as Graph writes it: whole seconds end in `Z`, otherwise milliseconds.
pub fn format_time(ms: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    if ms.rem_euclid(1000) == 0 {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// Nested objects, serialized without building JSON values first.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusOut<'a> {
    error_code: i64,
    failure_reason: &'a Option<String>,
    additional_details: &'a Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceOut<'a> {
    device_id: &'a str,
    display_name: &'a Option<String>,
    operating_system: &'a Option<String>,
    browser: &'a Option<String>,
    is_compliant: Option<bool>,
    is_managed: Option<bool>,
    trust_type: &'a Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeoOut {
    altitude: Option<f64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationOut<'a> {
    city: &'a Option<String>,
    state: &'a Option<String>,
    country_or_region: &'a Option<String>,
    geo_coordinates: GeoOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MsiOut {
    msi_type: &'static str,
    associated_resource_id: Option<()>,
    federated_token_id: Option<()>,
    federated_token_issuer: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MfaOut<'a> {
    auth_method: &'a str,
    auth_detail: &'a Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CaPolicyOut<'a> {
    id: &'a str,
    display_name: &'a str,
    enforced_grant_controls: &'a [String],
    enforced_session_controls: [(); 0],
    result: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthStepOut<'a> {
    authentication_step_date_time: String,
    authentication_method: &'a str,
    authentication_method_detail: &'a Option<String>,
    succeeded: bool,
    authentication_step_result_detail: &'a Option<String>,
    authentication_step_requirement: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequirementPolicyOut<'a> {
    requirement_provider: &'a str,
    detail: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkOut<'a> {
    network_type: &'static str,
    network_names: &'a [String],
}

/// Which properties to write: one flag per entry of [`props::PROPS`].
pub type Mask = [bool; props::COUNT];

pub fn mask(wanted: &[PropId]) -> Mask {
    let mut m = [false; props::COUNT];
    for &p in wanted {
        if let Some(slot) = m.get_mut(p) {
            *slot = true;
        }
    }
    m
}

/// A draft with the properties to write; serializes straight to JSON (a 1000-record page
/// must not allocate a tree of values first).
pub struct DraftView<'a> {
    pub draft: &'a Draft,
    pub mask: &'a Mask,
}

impl Serialize for DraftView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.draft;
        let count = self.mask.iter().filter(|m| **m).count();
        let mut map = serializer.serialize_map(Some(count))?;
        let mut i = 0usize;
        // Properties in the order of props::PROPS (checked by a unit test).
        macro_rules! prop {
            ($name:literal, $value:expr) => {
                debug_assert_eq!(props::name(i), $name);
                if self.mask[i] {
                    map.serialize_entry($name, &$value)?;
                }
                i += 1;
            };
        }
        let none: Option<()> = None;
        let empty: [(); 0] = [];
        prop!("id", d.id);
        prop!("createdDateTime", format_time(d.created_ms));
        prop!("userDisplayName", d.user_display_name);
        prop!("userPrincipalName", d.user_principal_name);
        prop!("userId", d.user_id);
        prop!("appId", d.app_id);
        prop!("appDisplayName", d.app_display_name);
        prop!("ipAddress", d.ip_address);
        prop!("clientAppUsed", d.client_app_used);
        prop!("userAgent", d.user_agent);
        prop!("correlationId", d.correlation_id);
        prop!("conditionalAccessStatus", d.conditional_access_status);
        prop!("originalRequestId", d.original_request_id);
        prop!("authenticationProtocol", d.authentication_protocol);
        prop!("incomingTokenType", d.incoming_token_type);
        prop!("isInteractive", d.is_interactive);
        prop!("homeTenantId", d.home_tenant_id);
        prop!("homeTenantName", "");
        prop!("isTenantRestricted", false);
        prop!("tokenIssuerName", "");
        prop!("tokenIssuerType", "AzureAD");
        prop!("processingTimeInMilliseconds", d.processing_ms);
        prop!("riskDetail", d.risk_detail);
        prop!("riskLevelAggregated", d.risk_level_aggregated);
        prop!("riskLevelDuringSignIn", d.risk_level_during_sign_in);
        prop!("riskState", d.risk_state);
        prop!("riskEventTypes", d.risk_event_types);
        prop!("riskEventTypes_v2", d.risk_event_types);
        prop!("resourceDisplayName", d.resource_display_name);
        prop!("resourceId", d.resource_id);
        prop!("resourceTenantId", d.resource_tenant_id);
        prop!("resourceOwnerTenantId", d.resource_tenant_id);
        prop!("appOwnerTenantId", d.app_owner_tenant_id);
        prop!("resourceServicePrincipalId", "");
        prop!("authenticationMethodsUsed", d.authentication_methods_used);
        prop!("authenticationRequirement", d.authentication_requirement);
        prop!("uniqueTokenIdentifier", d.unique_token_identifier);
        prop!("sessionId", d.session_id);
        prop!("signInIdentifier", d.sign_in_identifier);
        prop!("signInIdentifierType", none);
        prop!("signInEventTypes", d.sign_in_event_types);
        prop!("servicePrincipalId", d.service_principal_id);
        prop!("servicePrincipalName", d.service_principal_name);
        prop!(
            "servicePrincipalCredentialKeyId",
            d.service_principal_credential_key_id
        );
        prop!("servicePrincipalCredentialThumbprint", "");
        prop!("clientCredentialType", d.client_credential_type);
        prop!("federatedCredentialId", "");
        prop!(
            "managedServiceIdentity",
            MsiOut {
                msi_type: "none",
                associated_resource_id: None,
                federated_token_id: None,
                federated_token_issuer: None,
            }
        );
        prop!("userType", d.user_type);
        prop!("flaggedForReview", false);
        prop!("autonomousSystemNumber", d.autonomous_system_number);
        prop!("crossTenantAccessType", d.cross_tenant_access_type);
        prop!("azureResourceId", "");
        prop!("conditionalAccessAudiences", empty);
        prop!("globalSecureAccessIpAddress", none);
        prop!("ipAddressFromResourceProvider", none);
        prop!("isThroughGlobalSecureAccess", false);
        prop!("originalTransferMethod", "none");
        prop!("signInTokenProtectionStatus", "none");
        prop!("appTokenProtectionStatus", none);
        prop!(
            "status",
            StatusOut {
                error_code: d.error_code,
                failure_reason: &d.failure_reason,
                additional_details: &d.additional_details,
            }
        );
        prop!(
            "deviceDetail",
            DeviceOut {
                device_id: &d.device.device_id,
                display_name: &d.device.display_name,
                operating_system: &d.device.operating_system,
                browser: &d.device.browser,
                is_compliant: d.device.is_compliant,
                is_managed: d.device.is_managed,
                trust_type: &d.device.trust_type,
            }
        );
        prop!(
            "location",
            LocationOut {
                city: &d.place.city,
                state: &d.place.state,
                country_or_region: &d.place.country,
                geo_coordinates: GeoOut {
                    altitude: None,
                    latitude: d.place.latitude,
                    longitude: d.place.longitude,
                },
            }
        );
        prop!(
            "mfaDetail",
            d.mfa.as_ref().map(|(m, detail)| MfaOut {
                auth_method: m,
                auth_detail: detail,
            })
        );
        prop!(
            "appliedConditionalAccessPolicies",
            d.ca_policies
                .iter()
                .map(|p| CaPolicyOut {
                    id: &p.id,
                    display_name: &p.display_name,
                    enforced_grant_controls: &p.grant_controls,
                    enforced_session_controls: [],
                    result: &p.result,
                })
                .collect::<Vec<_>>()
        );
        prop!("appliedEventListeners", empty);
        prop!("authenticationAppDeviceDetails", none);
        prop!("authenticationAppPolicyEvaluationDetails", none);
        prop!("authenticationContextClassReferences", empty);
        prop!(
            "authenticationDetails",
            d.auth_steps
                .iter()
                .map(|s| AuthStepOut {
                    authentication_step_date_time: format_time(s.at_ms),
                    authentication_method: &s.method,
                    authentication_method_detail: &s.method_detail,
                    succeeded: s.succeeded,
                    authentication_step_result_detail: &s.result_detail,
                    authentication_step_requirement: &s.requirement,
                })
                .collect::<Vec<_>>()
        );
        prop!("authenticationProcessingDetails", empty);
        prop!(
            "authenticationRequirementPolicies",
            d.requirement_policies
                .iter()
                .map(|(p, detail)| RequirementPolicyOut {
                    requirement_provider: p,
                    detail,
                })
                .collect::<Vec<_>>()
        );
        prop!(
            "networkLocationDetails",
            if d.network_names.is_empty() {
                Vec::new()
            } else {
                vec![NetworkOut {
                    network_type: "namedNetwork",
                    network_names: &d.network_names,
                }]
            }
        );
        prop!("privateLinkDetails", none);
        prop!("sessionLifetimePolicies", empty);
        debug_assert_eq!(i, props::COUNT);
        let _ = i;
        map.end()
    }
}

impl Draft {
    /// Every property in `wanted` (in canonical order) as a JSON object.
    pub fn to_map(&self, wanted: &[PropId]) -> Map<String, Value> {
        let m = mask(wanted);
        match serde_json::to_value(DraftView {
            draft: self,
            mask: &m,
        }) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

/// The sign-in error codes the emulator produces, with the texts Graph reports for them
/// (api-contracts §3.5 for 50126; Entra's error-code reference wording for the others).
pub fn status_text(code: i64) -> (Option<&'static str>, Option<&'static str>) {
    match code {
        0 => (None, None),
        50126 => (
            Some("Error validating credentials due to invalid username or password."),
            Some(
                "The user didn't enter the right credentials.  It's expected to see some number of these errors in your logs due to users making mistakes.",
            ),
        ),
        50076 => (
            Some(
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access.",
            ),
            Some("MFA required in Azure AD"),
        ),
        53003 => (
            Some(
                "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
            ),
            None,
        ),
        530035 => (
            Some(
                "Access has been blocked by security defaults. This is due to the request using legacy auth or being deemed unsafe by security defaults policies.",
            ),
            None,
        ),
        50057 => (
            Some("User account is disabled. The account has been disabled by an administrator."),
            None,
        ),
        50053 => (
            Some(
                "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
            ),
            None,
        ),
        50173 => (
            Some(
                "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
            ),
            None,
        ),
        7000215 => (Some("Invalid client secret is provided."), None),
        7000222 => (Some("The provided client secret keys are expired."), None),
        _ => (Some("Other."), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signins::ApiVersion;

    #[test]
    fn every_property_is_written_in_canonical_order() {
        let map = Draft::default().to_map(&props::all(ApiVersion::Beta));
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let want: Vec<&str> = props::PROPS.iter().map(|(n, _)| *n).collect();
        assert_eq!(keys, want);
        let v1 = Draft::default().to_map(&props::all(ApiVersion::V1));
        assert_eq!(v1.len(), 24);
    }
}
