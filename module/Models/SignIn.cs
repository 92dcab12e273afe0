using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// A sign-in from Microsoft Graph's <c>auditLogs/signIns</c> with the Graph SDK's property names
    /// (the PartnerCenter module's <c>Microsoft.Graph.SignIn</c>): the v1.0 and beta properties,
    /// <c>*DateTime</c> values as <see cref="DateTimeOffset"/>, a missing <c>MfaDetail</c> as
    /// <c>$null</c>. Properties that v1.0 or <c>-Property</c> did not ask for are <c>$null</c>.
    /// A property Graph adds later is still there, as a note property on the output object.
    /// </summary>
    public sealed class SignIn
    {
        public string? Id { get; set; }
        public DateTimeOffset? CreatedDateTime { get; set; }
        public string? UserDisplayName { get; set; }
        public string? UserPrincipalName { get; set; }
        public string? UserId { get; set; }
        public string? UserType { get; set; }
        public string? AppId { get; set; }
        public string? AppDisplayName { get; set; }
        public string? IpAddress { get; set; }
        public string? ClientAppUsed { get; set; }
        public string? UserAgent { get; set; }
        public string? CorrelationId { get; set; }
        public string? ConditionalAccessStatus { get; set; }
        public bool? IsInteractive { get; set; }
        public string[]? SignInEventTypes { get; set; }
        public SignInStatus? Status { get; set; }
        public string? ResourceDisplayName { get; set; }
        public string? ResourceId { get; set; }
        public string? ResourceTenantId { get; set; }
        public string? ResourceOwnerTenantId { get; set; }
        public string? ResourceServicePrincipalId { get; set; }
        public string? HomeTenantId { get; set; }
        public string? HomeTenantName { get; set; }
        public string? AppOwnerTenantId { get; set; }
        public string? CrossTenantAccessType { get; set; }
        public bool? IsTenantRestricted { get; set; }

        // MFA: what the partner security requirements are about.
        public string? AuthenticationRequirement { get; set; }
        public AuthenticationDetail[]? AuthenticationDetails { get; set; }
        public string[]? AuthenticationMethodsUsed { get; set; }
        public MfaDetail? MfaDetail { get; set; }
        public AuthenticationRequirementPolicy[]? AuthenticationRequirementPolicies { get; set; }
        public KeyValue[]? AuthenticationProcessingDetails { get; set; }
        public AuthenticationContext[]? AuthenticationContextClassReferences { get; set; }
        public string? AuthenticationProtocol { get; set; }
        public string? IncomingTokenType { get; set; }
        public AppliedConditionalAccessPolicy[]? AppliedConditionalAccessPolicies { get; set; }
        public SessionLifetimePolicy[]? SessionLifetimePolicies { get; set; }

        // Risk.
        public string? RiskDetail { get; set; }
        public string? RiskLevelAggregated { get; set; }
        public string? RiskLevelDuringSignIn { get; set; }
        public string? RiskState { get; set; }
        public string[]? RiskEventTypes { get; set; }
        public string[]? RiskEventTypes_v2 { get; set; }
        public bool? FlaggedForReview { get; set; }

        // Where from.
        public DeviceDetail? DeviceDetail { get; set; }
        public SignInLocation? Location { get; set; }
        public NetworkLocationDetail[]? NetworkLocationDetails { get; set; }
        public long? AutonomousSystemNumber { get; set; }
        public string? GlobalSecureAccessIpAddress { get; set; }
        public string? IpAddressFromResourceProvider { get; set; }
        public bool? IsThroughGlobalSecureAccess { get; set; }

        // Token and session.
        public string? OriginalRequestId { get; set; }
        public string? UniqueTokenIdentifier { get; set; }
        public string? SessionId { get; set; }
        public string? TokenIssuerName { get; set; }
        public string? TokenIssuerType { get; set; }
        public int? ProcessingTimeInMilliseconds { get; set; }
        public string? SignInIdentifier { get; set; }
        public string? SignInIdentifierType { get; set; }
        public string? OriginalTransferMethod { get; set; }
        public string? SignInTokenProtectionStatus { get; set; }
        public string? AppTokenProtectionStatus { get; set; }

        // Service principals and managed identities.
        public string? ServicePrincipalId { get; set; }
        public string? ServicePrincipalName { get; set; }
        public string? ServicePrincipalCredentialKeyId { get; set; }
        public string? ServicePrincipalCredentialThumbprint { get; set; }
        public string? ClientCredentialType { get; set; }
        public string? FederatedCredentialId { get; set; }
        public ManagedIdentity? ManagedServiceIdentity { get; set; }
        public string? AzureResourceId { get; set; }

        // Beta properties whose shape the documentation leaves open: objects as Graph sent them.
        public object? ConditionalAccessAudiences { get; set; }
        public object? PrivateLinkDetails { get; set; }
        public object? AuthenticationAppDeviceDetails { get; set; }
        public object? AuthenticationAppPolicyEvaluationDetails { get; set; }
        public object? AppliedEventListeners { get; set; }

        /// <summary>The tenant whose logs the sign-in came from (not a Graph property).</summary>
        public string? TenantId { get; set; }

        /// <summary>Properties this version does not know, added to the output object as they are.</summary>
        internal Dictionary<string, JsonElement>? Unknown { get; set; }

        public override string ToString() => $"{CreatedDateTime:u} {UserPrincipalName ?? ServicePrincipalName ?? UserId} {AppDisplayName}";
    }

    public sealed class SignInStatus
    {
        /// <summary>0: the sign-in succeeded.</summary>
        public int? ErrorCode { get; set; }
        public string? FailureReason { get; set; }
        public string? AdditionalDetails { get; set; }

        public override string ToString() => ErrorCode == 0 ? "Success" : $"{ErrorCode}: {FailureReason}";
    }

    public sealed class AuthenticationDetail
    {
        public DateTimeOffset? AuthenticationStepDateTime { get; set; }
        public string? AuthenticationMethod { get; set; }
        public string? AuthenticationMethodDetail { get; set; }
        public bool? Succeeded { get; set; }
        public string? AuthenticationStepResultDetail { get; set; }
        public string? AuthenticationStepRequirement { get; set; }

        public override string ToString() => $"{AuthenticationStepRequirement}: {AuthenticationMethod} ({(Succeeded == true ? "succeeded" : "failed")})";
    }

    public sealed class MfaDetail
    {
        public string? AuthMethod { get; set; }
        public string? AuthDetail { get; set; }

        public override string ToString() => AuthMethod ?? string.Empty;
    }

    public sealed class AuthenticationRequirementPolicy
    {
        public string? RequirementProvider { get; set; }
        public string? Detail { get; set; }

        public override string ToString() => $"{RequirementProvider}: {Detail}";
    }

    public sealed class KeyValue
    {
        public string? Key { get; set; }
        public string? Value { get; set; }

        public override string ToString() => $"{Key}={Value}";
    }

    public sealed class AuthenticationContext
    {
        public string? Id { get; set; }
        public string? Detail { get; set; }

        public override string ToString() => $"{Id}: {Detail}";
    }

    public sealed class AppliedConditionalAccessPolicy
    {
        public string? Id { get; set; }
        public string? DisplayName { get; set; }
        public string[]? EnforcedGrantControls { get; set; }
        public string[]? EnforcedSessionControls { get; set; }
        public string? Result { get; set; }

        public override string ToString() => $"{DisplayName}: {Result}";
    }

    public sealed class SessionLifetimePolicy
    {
        public string? ExpirationRequirement { get; set; }
        public string? Detail { get; set; }

        public override string ToString() => $"{ExpirationRequirement}: {Detail}";
    }

    public sealed class DeviceDetail
    {
        public string? DeviceId { get; set; }
        public string? DisplayName { get; set; }
        public string? OperatingSystem { get; set; }
        public string? Browser { get; set; }
        public bool? IsCompliant { get; set; }
        public bool? IsManaged { get; set; }
        public string? TrustType { get; set; }

        public override string ToString() => $"{OperatingSystem} {Browser}".Trim();
    }

    public sealed class SignInLocation
    {
        public string? City { get; set; }
        public string? State { get; set; }
        public string? CountryOrRegion { get; set; }
        public GeoCoordinates? GeoCoordinates { get; set; }

        public override string ToString() => string.Join(", ", new[] { City, State, CountryOrRegion }.Where(p => !string.IsNullOrEmpty(p)));
    }

    public sealed class GeoCoordinates
    {
        public double? Altitude { get; set; }
        public double? Latitude { get; set; }
        public double? Longitude { get; set; }

        public override string ToString() => $"{Latitude}, {Longitude}";
    }

    public sealed class NetworkLocationDetail
    {
        public string? NetworkType { get; set; }
        public string[]? NetworkNames { get; set; }

        public override string ToString() => $"{NetworkType}: {string.Join(", ", NetworkNames ?? Array.Empty<string>())}";
    }

    public sealed class ManagedIdentity
    {
        public string? MsiType { get; set; }
        public string? AssociatedResourceId { get; set; }
        public string? FederatedTokenId { get; set; }
        public string? FederatedTokenIssuer { get; set; }

        public override string ToString() => MsiType ?? string.Empty;
    }
}
