using System;
using System.Collections.Generic;

namespace PartnerSecurity.Models
{
    /// <summary>How a session signed in (the PartnerCenter module's <c>AccountType</c>).</summary>
    public enum AccountType
    {
        AccessToken,
        Certificate,
        ManagedService,
        ServicePrincipal,
        User,
    }

    /// <summary>The signed-in account of a session. Holds no token or secret.</summary>
    public sealed class PartnerAccount
    {
        public IDictionary<string, string> ExtendedProperties { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The home account identifier, <c>&lt;objectId&gt;.&lt;tenantId&gt;</c>.</summary>
        public string? Identifier { get; set; }

        public string? ObjectId { get; set; }

        public string Tenant { get; set; } = string.Empty;

        public AccountType Type { get; set; }

        public string? UserPrincipalName { get; set; }

        public string? ApplicationId { get; set; }

        public override string ToString() => UserPrincipalName ?? ObjectId ?? ApplicationId ?? Tenant;
    }
}
