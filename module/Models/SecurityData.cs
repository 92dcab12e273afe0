using System;

namespace PartnerSecurity.Models
{
    /// <summary>A user's effective MFA coverage (Get-PartnerMfaCoverage), with the reason.</summary>
    public sealed class MfaCoverage
    {
        public string UserId { get; set; } = string.Empty;

        public string UserPrincipalName { get; set; } = string.Empty;

        public string DisplayName { get; set; } = string.Empty;

        public bool Guest { get; set; }

        /// <summary><c>User</c>, <c>BreakGlass</c> or <c>DirectorySync</c>.</summary>
        public string Kind { get; set; } = "User";

        public bool Covered => CoveredBy.Length > 0;

        /// <summary>What requires MFA of the user: security defaults, Conditional Access policies, per-user MFA.</summary>
        public string[] CoveredBy { get; set; } = Array.Empty<string>();

        /// <summary>Policies that would cover the user but exclude them, with the exclusion.</summary>
        public string[] ExcludedBy { get; set; } = Array.Empty<string>();

        /// <summary>Report-only MFA policies that include the user (they enforce nothing).</summary>
        public string[] ReportOnly { get; set; } = Array.Empty<string>();

        public string? PerUserState { get; set; }

        /// <summary>Null when the registration details could not be read (no Entra ID P1).</summary>
        public bool? Registered { get; set; }

        public string[] Methods { get; set; } = Array.Empty<string>();
    }

    /// <summary>A GDAP relationship of the partner tenant (Get-PartnerGdapRelationship).</summary>
    public sealed class GdapRelationship
    {
        public string Id { get; set; } = string.Empty;

        public string? DisplayName { get; set; }

        public string Status { get; set; } = string.Empty;

        public GdapCustomer? Customer { get; set; }

        public string? CustomerName => Customer?.DisplayName;

        /// <summary>The customer's tenant id; by this name a relationship piped to the sign-in cmdlets binds to -Tenant.</summary>
        public string? CustomerTenantId => Customer?.TenantId;

        public GdapAccessDetails AccessDetails { get; set; } = new();

        /// <summary>Role template ids the relationship grants.</summary>
        public string[] RoleIds => Array.ConvertAll(AccessDetails.UnifiedRoles, r => r.RoleDefinitionId);

        public bool GrantsGlobalAdministrator => Array.IndexOf(RoleIds, "62e90394-69f5-4237-9190-012177145e10") >= 0;

        public string? AutoExtendDuration { get; set; }

        public DateTimeOffset? EndDateTime { get; set; }

        public string? Duration { get; set; }

        public GdapAccessAssignment[] AccessAssignments { get; set; } = Array.Empty<GdapAccessAssignment>();
    }

    public sealed class GdapCustomer
    {
        public string? TenantId { get; set; }

        public string? DisplayName { get; set; }

        /// <summary>How Format-List shows it (instead of the type name).</summary>
        public override string ToString() => DisplayName is null ? TenantId ?? string.Empty : $"{DisplayName} ({TenantId})";
    }

    public sealed class GdapAccessDetails
    {
        public GdapRole[] UnifiedRoles { get; set; } = Array.Empty<GdapRole>();

        /// <summary>How Format-List shows it: the role template ids.</summary>
        public override string ToString() => string.Join(", ", Array.ConvertAll(UnifiedRoles, r => r.RoleDefinitionId));
    }

    public sealed class GdapRole
    {
        public string RoleDefinitionId { get; set; } = string.Empty;
    }

    public sealed class GdapAccessAssignment
    {
        public string Id { get; set; } = string.Empty;

        public string Status { get; set; } = string.Empty;

        public GdapAccessContainer AccessContainer { get; set; } = new();

        public GdapAccessDetails AccessDetails { get; set; } = new();

        public string GroupId => AccessContainer.AccessContainerId;
    }

    public sealed class GdapAccessContainer
    {
        public string AccessContainerId { get; set; } = string.Empty;
    }

    /// <summary>An Azure fraud event from Partner Center (Get-PartnerFraudEvent).</summary>
    public sealed class FraudEvent
    {
        public string EventId { get; set; } = string.Empty;

        public DateTimeOffset? EventTime { get; set; }

        public string? CustomerTenantId { get; set; }

        public string? CustomerFriendlyName { get; set; }

        public string? SubscriptionId { get; set; }

        /// <summary><c>Active</c>, <c>Investigating</c> or <c>Resolved</c>.</summary>
        public string EventStatus { get; set; } = string.Empty;

        public string? EventType { get; set; }

        public string? Severity { get; set; }

        public string? ResourceName { get; set; }

        public DateTimeOffset? FirstOccurrence { get; set; }

        public DateTimeOffset? ResolvedOn { get; set; }

        public string? ResolvedReason { get; set; }

        public bool Open => !string.Equals(EventStatus, "Resolved", StringComparison.OrdinalIgnoreCase);
    }
}
