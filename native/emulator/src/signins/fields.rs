//! The sign-in properties `$filter` can name (api-contracts §3.2), their types and the
//! operators Graph accepts on each, plus the accessor every record kind implements so one
//! evaluator serves literal and generated sign-ins alike.

use std::borrow::Cow;

use super::ApiVersion;

/// A filterable sign-in property (a path such as `status/errorCode` for nested ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    CreatedDateTime,
    Id,
    UserId,
    UserPrincipalName,
    UserDisplayName,
    AppId,
    AppDisplayName,
    IpAddress,
    ClientAppUsed,
    ConditionalAccessStatus,
    CorrelationId,
    ResourceId,
    ResourceDisplayName,
    StatusErrorCode,
    DeviceBrowser,
    DeviceOperatingSystem,
    LocationCity,
    LocationState,
    LocationCountryOrRegion,
    IsInteractive,
    RiskDetail,
    RiskLevelAggregated,
    RiskLevelDuringSignIn,
    RiskState,
    RiskEventTypesV2,
    // beta only
    AuthenticationRequirement,
    SignInEventTypes,
    UserType,
    CrossTenantAccessType,
    AuthenticationProtocol,
    ServicePrincipalId,
    ServicePrincipalName,
}

/// OData (EDM) type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    DateTime,
    Str,
    Int,
    Bool,
    /// A collection of strings; only `any(...)` applies.
    StrList,
}

impl FieldType {
    pub fn edm(self) -> &'static str {
        match self {
            FieldType::DateTime => "Edm.DateTimeOffset",
            FieldType::Str | FieldType::StrList => "Edm.String",
            FieldType::Int => "Edm.Int32",
            FieldType::Bool => "Edm.Boolean",
        }
    }
}

/// Operators a field supports (bit set).
pub const OP_EQ: u8 = 1;
pub const OP_NE: u8 = 2;
pub const OP_ORDER: u8 = 4;
pub const OP_STARTSWITH: u8 = 8;
/// `any(t: t eq '...')` on a collection; `OP_NE` on a collection means `any(t: t ne '...')`.
pub const OP_ANY: u8 = 16;

pub struct FieldDef {
    pub field: Field,
    /// As written in `$filter`; JSON path segments separated by `/`.
    pub path: &'static str,
    pub ty: FieldType,
    pub ops: u8,
    pub beta_only: bool,
    /// For enum-typed properties, the members Graph accepts in a literal.
    pub members: Option<&'static [&'static str]>,
}

const CA_STATUS: &[&str] = &["success", "failure", "notApplied", "unknownFutureValue"];
const RISK_DETAIL: &[&str] = &[
    "none",
    "adminGeneratedTemporaryPassword",
    "userPerformedSecuredPasswordChange",
    "userPerformedSecuredPasswordReset",
    "adminConfirmedSigninSafe",
    "aiConfirmedSigninSafe",
    "userPassedMFADrivenByRiskBasedPolicy",
    "adminDismissedAllRiskForUser",
    "adminConfirmedSigninCompromised",
    "hidden",
    "adminConfirmedUserCompromised",
    "unknownFutureValue",
];
const RISK_LEVEL: &[&str] = &[
    "low",
    "medium",
    "high",
    "hidden",
    "none",
    "unknownFutureValue",
];
const RISK_STATE: &[&str] = &[
    "none",
    "confirmedSafe",
    "remediated",
    "dismissed",
    "atRisk",
    "confirmedCompromised",
    "unknownFutureValue",
];
const USER_TYPE: &[&str] = &["member", "guest", "unknownFutureValue"];
const ACCESS_TYPE: &[&str] = &[
    "none",
    "b2bCollaboration",
    "b2bDirectConnect",
    "microsoftSupport",
    "serviceProvider",
    "unknownFutureValue",
    "passthrough",
];
const PROTOCOL: &[&str] = &[
    "none",
    "oAuth2",
    "ropc",
    "wsFederation",
    "saml20",
    "deviceCode",
    "unknownFutureValue",
    "authenticationTransfer",
    "nativeAuth",
];
pub const EVENT_TYPES: &[&str] = &[
    "interactiveUser",
    "nonInteractiveUser",
    "servicePrincipal",
    "managedIdentity",
    "unknownFutureValue",
];

const fn def(
    field: Field,
    path: &'static str,
    ty: FieldType,
    ops: u8,
    beta_only: bool,
    members: Option<&'static [&'static str]>,
) -> FieldDef {
    FieldDef {
        field,
        path,
        ty,
        ops,
        beta_only,
        members,
    }
}

use FieldType as T;

pub static FIELDS: &[FieldDef] = &[
    def(
        Field::CreatedDateTime,
        "createdDateTime",
        T::DateTime,
        OP_EQ | OP_ORDER,
        false,
        None,
    ),
    def(Field::Id, "id", T::Str, OP_EQ, false, None),
    def(Field::UserId, "userId", T::Str, OP_EQ, false, None),
    def(
        Field::UserPrincipalName,
        "userPrincipalName",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::UserDisplayName,
        "userDisplayName",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(Field::AppId, "appId", T::Str, OP_EQ, false, None),
    def(
        Field::AppDisplayName,
        "appDisplayName",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::IpAddress,
        "ipAddress",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::ClientAppUsed,
        "clientAppUsed",
        T::Str,
        OP_EQ,
        false,
        None,
    ),
    def(
        Field::ConditionalAccessStatus,
        "conditionalAccessStatus",
        T::Str,
        OP_EQ,
        false,
        Some(CA_STATUS),
    ),
    def(
        Field::CorrelationId,
        "correlationId",
        T::Str,
        OP_EQ,
        false,
        None,
    ),
    def(Field::ResourceId, "resourceId", T::Str, OP_EQ, false, None),
    def(
        Field::ResourceDisplayName,
        "resourceDisplayName",
        T::Str,
        OP_EQ,
        false,
        None,
    ),
    def(
        Field::StatusErrorCode,
        "status/errorCode",
        T::Int,
        OP_EQ | OP_NE,
        false,
        None,
    ),
    def(
        Field::DeviceBrowser,
        "deviceDetail/browser",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::DeviceOperatingSystem,
        "deviceDetail/operatingSystem",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::LocationCity,
        "location/city",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::LocationState,
        "location/state",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::LocationCountryOrRegion,
        "location/countryOrRegion",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        false,
        None,
    ),
    def(
        Field::IsInteractive,
        "isInteractive",
        T::Bool,
        OP_EQ,
        false,
        None,
    ),
    def(
        Field::RiskDetail,
        "riskDetail",
        T::Str,
        OP_EQ,
        false,
        Some(RISK_DETAIL),
    ),
    def(
        Field::RiskLevelAggregated,
        "riskLevelAggregated",
        T::Str,
        OP_EQ,
        false,
        Some(RISK_LEVEL),
    ),
    def(
        Field::RiskLevelDuringSignIn,
        "riskLevelDuringSignIn",
        T::Str,
        OP_EQ,
        false,
        Some(RISK_LEVEL),
    ),
    def(
        Field::RiskState,
        "riskState",
        T::Str,
        OP_EQ,
        false,
        Some(RISK_STATE),
    ),
    def(
        Field::RiskEventTypesV2,
        "riskEventTypes_v2",
        T::StrList,
        OP_ANY,
        false,
        None,
    ),
    def(
        Field::AuthenticationRequirement,
        "authenticationRequirement",
        T::Str,
        OP_EQ | OP_STARTSWITH,
        true,
        None,
    ),
    def(
        Field::SignInEventTypes,
        "signInEventTypes",
        T::StrList,
        OP_ANY | OP_NE,
        true,
        Some(EVENT_TYPES),
    ),
    def(
        Field::UserType,
        "userType",
        T::Str,
        OP_EQ,
        true,
        Some(USER_TYPE),
    ),
    def(
        Field::CrossTenantAccessType,
        "crossTenantAccessType",
        T::Str,
        OP_EQ,
        true,
        Some(ACCESS_TYPE),
    ),
    def(
        Field::AuthenticationProtocol,
        "authenticationProtocol",
        T::Str,
        OP_EQ,
        true,
        Some(PROTOCOL),
    ),
    def(
        Field::ServicePrincipalId,
        "servicePrincipalId",
        T::Str,
        OP_EQ,
        true,
        None,
    ),
    def(
        Field::ServicePrincipalName,
        "servicePrincipalName",
        T::Str,
        OP_EQ,
        true,
        None,
    ),
];

impl Field {
    pub fn def(self) -> &'static FieldDef {
        // FIELDS lists every variant exactly once (checked by a unit test).
        FIELDS
            .iter()
            .find(|d| d.field == self)
            .unwrap_or(&FIELDS[0])
    }

    /// The field `path` names in `version`, compared case-insensitively as Graph does.
    pub fn lookup(path: &str, version: ApiVersion) -> Option<&'static FieldDef> {
        FIELDS.iter().find(|d| {
            d.path.eq_ignore_ascii_case(path) && (version == ApiVersion::Beta || !d.beta_only)
        })
    }
}

/// A property value as the filter evaluator sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    /// Milliseconds since the epoch.
    Time(i64),
    List(Vec<Cow<'a, str>>),
}

impl<'a> Val<'a> {
    pub fn s(value: &'a str) -> Self {
        Val::Str(Cow::Borrowed(value))
    }

    pub fn opt(value: Option<&'a str>) -> Self {
        value.map_or(Val::Null, Val::s)
    }
}

/// Read access to a sign-in record's filterable properties.
pub trait SignInFields {
    fn field(&self, field: Field) -> Val<'_>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_definition() {
        let all = [
            Field::CreatedDateTime,
            Field::Id,
            Field::UserId,
            Field::UserPrincipalName,
            Field::UserDisplayName,
            Field::AppId,
            Field::AppDisplayName,
            Field::IpAddress,
            Field::ClientAppUsed,
            Field::ConditionalAccessStatus,
            Field::CorrelationId,
            Field::ResourceId,
            Field::ResourceDisplayName,
            Field::StatusErrorCode,
            Field::DeviceBrowser,
            Field::DeviceOperatingSystem,
            Field::LocationCity,
            Field::LocationState,
            Field::LocationCountryOrRegion,
            Field::IsInteractive,
            Field::RiskDetail,
            Field::RiskLevelAggregated,
            Field::RiskLevelDuringSignIn,
            Field::RiskState,
            Field::RiskEventTypesV2,
            Field::AuthenticationRequirement,
            Field::SignInEventTypes,
            Field::UserType,
            Field::CrossTenantAccessType,
            Field::AuthenticationProtocol,
            Field::ServicePrincipalId,
            Field::ServicePrincipalName,
        ];
        assert_eq!(all.len(), FIELDS.len());
        for f in all {
            assert_eq!(FIELDS.iter().filter(|d| d.field == f).count(), 1, "{f:?}");
        }
    }

    #[test]
    fn beta_fields_are_hidden_from_v1() {
        assert!(Field::lookup("signInEventTypes", ApiVersion::V1).is_none());
        assert!(Field::lookup("signineventtypes", ApiVersion::Beta).is_some());
        assert!(Field::lookup("STATUS/errorcode", ApiVersion::V1).is_some());
    }
}
