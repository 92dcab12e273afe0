//! The `signIn` resource's properties as Graph returns them: v1.0 (api-contracts §3.3) and the
//! beta additions (§3.4), in one canonical order. v1.0 responses carry only the v1.0 subset.

use super::ApiVersion;

/// `(name, beta_only)` in response order (the order of Graph's own examples where they show
/// one; the rarely used beta extras follow).
pub static PROPS: &[(&str, bool)] = &[
    ("id", false),
    ("createdDateTime", false),
    ("userDisplayName", false),
    ("userPrincipalName", false),
    ("userId", false),
    ("appId", false),
    ("appDisplayName", false),
    ("ipAddress", false),
    ("clientAppUsed", false),
    ("userAgent", true),
    ("correlationId", false),
    ("conditionalAccessStatus", false),
    ("originalRequestId", true),
    ("authenticationProtocol", true),
    ("incomingTokenType", true),
    ("isInteractive", false),
    ("homeTenantId", true),
    ("homeTenantName", true),
    ("isTenantRestricted", true),
    ("tokenIssuerName", true),
    ("tokenIssuerType", true),
    ("processingTimeInMilliseconds", true),
    ("riskDetail", false),
    ("riskLevelAggregated", false),
    ("riskLevelDuringSignIn", false),
    ("riskState", false),
    ("riskEventTypes", false),
    ("riskEventTypes_v2", false),
    ("resourceDisplayName", false),
    ("resourceId", false),
    ("resourceTenantId", true),
    ("resourceOwnerTenantId", true),
    ("appOwnerTenantId", true),
    ("resourceServicePrincipalId", true),
    ("authenticationMethodsUsed", true),
    ("authenticationRequirement", true),
    ("uniqueTokenIdentifier", true),
    ("sessionId", true),
    ("signInIdentifier", true),
    ("signInIdentifierType", true),
    ("signInEventTypes", true),
    ("servicePrincipalId", true),
    ("servicePrincipalName", true),
    ("servicePrincipalCredentialKeyId", true),
    ("servicePrincipalCredentialThumbprint", true),
    ("clientCredentialType", true),
    ("federatedCredentialId", true),
    ("managedServiceIdentity", true),
    ("userType", true),
    ("flaggedForReview", true),
    ("autonomousSystemNumber", true),
    ("crossTenantAccessType", true),
    ("azureResourceId", true),
    ("conditionalAccessAudiences", true),
    ("globalSecureAccessIpAddress", true),
    ("ipAddressFromResourceProvider", true),
    ("isThroughGlobalSecureAccess", true),
    ("originalTransferMethod", true),
    ("signInTokenProtectionStatus", true),
    ("appTokenProtectionStatus", true),
    ("status", false),
    ("deviceDetail", false),
    ("location", false),
    ("mfaDetail", true),
    ("appliedConditionalAccessPolicies", false),
    ("appliedEventListeners", true),
    ("authenticationAppDeviceDetails", true),
    ("authenticationAppPolicyEvaluationDetails", true),
    ("authenticationContextClassReferences", true),
    ("authenticationDetails", true),
    ("authenticationProcessingDetails", true),
    ("authenticationRequirementPolicies", true),
    ("networkLocationDetails", true),
    ("privateLinkDetails", true),
    ("sessionLifetimePolicies", true),
];

/// Index into [`PROPS`].
pub type PropId = usize;

/// Number of properties (beta).
pub const COUNT: usize = 75;

/// Every property of `version`, in response order.
pub fn all(version: ApiVersion) -> Vec<PropId> {
    PROPS
        .iter()
        .enumerate()
        .filter(|(_, (_, beta))| version == ApiVersion::Beta || !beta)
        .map(|(i, _)| i)
        .collect()
}

/// The property `name` names in `version` (case-insensitive, as Graph matches `$select`).
pub fn lookup(name: &str, version: ApiVersion) -> Option<PropId> {
    PROPS.iter().position(|(n, beta)| {
        n.eq_ignore_ascii_case(name) && (version == ApiVersion::Beta || !beta)
    })
}

pub fn name(id: PropId) -> &'static str {
    PROPS.get(id).map_or("", |(n, _)| n)
}

/// Whether `name` is a property of the beta resource (used to tell "not filterable" from
/// "no such property").
pub fn exists(name: &str, version: ApiVersion) -> bool {
    lookup(name, version).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_v1_is_a_subset() {
        let mut names: Vec<&str> = PROPS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        let v1 = all(ApiVersion::V1);
        let beta = all(ApiVersion::Beta);
        assert!(v1.iter().all(|p| beta.contains(p)));
        assert_eq!(v1.len(), 24);
        assert_eq!(PROPS.len(), COUNT);
        assert!(lookup("authenticationDetails", ApiVersion::V1).is_none());
        assert_eq!(lookup("CREATEDDATETIME", ApiVersion::V1), Some(1));
    }
}
