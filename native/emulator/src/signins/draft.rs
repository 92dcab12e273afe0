//! One sign-in's values before they become Graph JSON. Generated and literal sign-ins both go
//! through [`Draft::value`], so the two can't disagree about the shape of a property.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

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

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

impl Draft {
    /// The JSON value of property `prop`.
    pub fn value(&self, prop: PropId) -> Value {
        match props::name(prop) {
            "id" => json!(self.id),
            "createdDateTime" => json!(format_time(self.created_ms)),
            "userDisplayName" => opt(&self.user_display_name),
            "userPrincipalName" => opt(&self.user_principal_name),
            "userId" => json!(self.user_id),
            "appId" => json!(self.app_id),
            "appDisplayName" => opt(&self.app_display_name),
            "ipAddress" => json!(self.ip_address),
            "clientAppUsed" => opt(&self.client_app_used),
            "userAgent" => opt(&self.user_agent),
            "correlationId" => json!(self.correlation_id),
            "conditionalAccessStatus" => json!(self.conditional_access_status),
            "originalRequestId" => json!(self.original_request_id),
            "authenticationProtocol" => json!(self.authentication_protocol),
            "incomingTokenType" => json!(self.incoming_token_type),
            "isInteractive" => json!(self.is_interactive),
            "homeTenantId" => json!(self.home_tenant_id),
            "homeTenantName" => json!(""),
            "isTenantRestricted" => json!(false),
            "tokenIssuerName" => json!(""),
            "tokenIssuerType" => json!("AzureAD"),
            "processingTimeInMilliseconds" => json!(self.processing_ms),
            "riskDetail" => json!(self.risk_detail),
            "riskLevelAggregated" => json!(self.risk_level_aggregated),
            "riskLevelDuringSignIn" => json!(self.risk_level_during_sign_in),
            "riskState" => json!(self.risk_state),
            "riskEventTypes" => strings(&self.risk_event_types),
            "riskEventTypes_v2" => strings(&self.risk_event_types),
            "resourceDisplayName" => opt(&self.resource_display_name),
            "resourceId" => opt(&self.resource_id),
            "resourceTenantId" => json!(self.resource_tenant_id),
            "resourceOwnerTenantId" => json!(self.resource_tenant_id),
            "appOwnerTenantId" => opt(&self.app_owner_tenant_id),
            "resourceServicePrincipalId" => json!(""),
            "authenticationMethodsUsed" => strings(&self.authentication_methods_used),
            "authenticationRequirement" => json!(self.authentication_requirement),
            "uniqueTokenIdentifier" => json!(self.unique_token_identifier),
            "sessionId" => opt(&self.session_id),
            "signInIdentifier" => opt(&self.sign_in_identifier),
            "signInIdentifierType" => Value::Null,
            "signInEventTypes" => strings(&self.sign_in_event_types),
            "servicePrincipalId" => json!(self.service_principal_id),
            "servicePrincipalName" => opt(&self.service_principal_name),
            "servicePrincipalCredentialKeyId" => opt(&self.service_principal_credential_key_id),
            "servicePrincipalCredentialThumbprint" => json!(""),
            "clientCredentialType" => json!(self.client_credential_type),
            "federatedCredentialId" => json!(""),
            "managedServiceIdentity" => json!({
                "msiType": "none",
                "associatedResourceId": null,
                "federatedTokenId": null,
                "federatedTokenIssuer": null
            }),
            "userType" => json!(self.user_type),
            "flaggedForReview" => json!(false),
            "autonomousSystemNumber" => json!(self.autonomous_system_number),
            "crossTenantAccessType" => json!(self.cross_tenant_access_type),
            "azureResourceId" => json!(""),
            "conditionalAccessAudiences" => json!([]),
            "globalSecureAccessIpAddress" => Value::Null,
            "ipAddressFromResourceProvider" => Value::Null,
            "isThroughGlobalSecureAccess" => json!(false),
            "originalTransferMethod" => json!("none"),
            "signInTokenProtectionStatus" => json!("none"),
            "appTokenProtectionStatus" => Value::Null,
            "status" => json!({
                "errorCode": self.error_code,
                "failureReason": self.failure_reason,
                "additionalDetails": self.additional_details
            }),
            "deviceDetail" => json!({
                "deviceId": self.device.device_id,
                "displayName": self.device.display_name,
                "operatingSystem": self.device.operating_system,
                "browser": self.device.browser,
                "isCompliant": self.device.is_compliant,
                "isManaged": self.device.is_managed,
                "trustType": self.device.trust_type
            }),
            "location" => json!({
                "city": self.place.city,
                "state": self.place.state,
                "countryOrRegion": self.place.country,
                "geoCoordinates": {
                    "altitude": null,
                    "latitude": self.place.latitude,
                    "longitude": self.place.longitude
                }
            }),
            "mfaDetail" => match &self.mfa {
                Some((method, detail)) => json!({"authMethod": method, "authDetail": detail}),
                None => Value::Null,
            },
            "appliedConditionalAccessPolicies" => Value::Array(
                self.ca_policies
                    .iter()
                    .map(|p| {
                        json!({
                            "id": p.id,
                            "displayName": p.display_name,
                            "enforcedGrantControls": p.grant_controls,
                            "enforcedSessionControls": [],
                            "result": p.result
                        })
                    })
                    .collect(),
            ),
            "authenticationDetails" => Value::Array(
                self.auth_steps
                    .iter()
                    .map(|s| {
                        json!({
                            "authenticationStepDateTime": format_time(s.at_ms),
                            "authenticationMethod": s.method,
                            "authenticationMethodDetail": s.method_detail,
                            "succeeded": s.succeeded,
                            "authenticationStepResultDetail": s.result_detail,
                            "authenticationStepRequirement": s.requirement
                        })
                    })
                    .collect(),
            ),
            "authenticationRequirementPolicies" => Value::Array(
                self.requirement_policies
                    .iter()
                    .map(|(p, d)| json!({"requirementProvider": p, "detail": d}))
                    .collect(),
            ),
            "networkLocationDetails" => Value::Array(
                if self.network_names.is_empty() {
                    Vec::new()
                } else {
                    vec![json!({"networkType": "namedNetwork", "networkNames": self.network_names})]
                },
            ),
            "appliedEventListeners"
            | "authenticationContextClassReferences"
            | "authenticationProcessingDetails"
            | "sessionLifetimePolicies" => json!([]),
            "authenticationAppDeviceDetails"
            | "authenticationAppPolicyEvaluationDetails"
            | "privateLinkDetails" => Value::Null,
            _ => Value::Null,
        }
    }

    /// Every property in `wanted`, in that order.
    pub fn to_map(&self, wanted: &[PropId]) -> Map<String, Value> {
        let mut map = Map::with_capacity(wanted.len());
        for &p in wanted {
            map.insert(props::name(p).to_owned(), self.value(p));
        }
        map
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
        7000222 => (
            Some("The provided client secret keys are expired."),
            None,
        ),
        _ => (Some("Other."), None),
    }
}
