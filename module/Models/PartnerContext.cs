using System;
using System.Collections.Generic;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// What Connect-PartnerCenter establishes and Get-PartnerContext shows. Unlike the
    /// PartnerCenter module's context it never holds a token or secret: it says whether a refresh
    /// token exists (<see cref="HasRefreshToken"/>), not what it is.
    /// </summary>
    public sealed class PartnerContext
    {
        public PartnerAccount Account { get; set; } = new();

        public string? CountryCode { get; set; }

        public PartnerEnvironment Environment { get; set; } = new();

        public IDictionary<string, string> ExtendedProperties { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        public string? Locale { get; set; }

        /// <summary>The <c>amr</c> claim of the session's token (<c>mfa</c> proves a second factor).</summary>
        public string[] AuthenticationMethods { get; set; } = Array.Empty<string>();

        public DateTimeOffset AccessTokenExpiresOn { get; set; }

        public bool HasRefreshToken { get; set; }

        public DateTimeOffset ConnectedOn { get; set; }

        /// <summary>Notes from connecting (shown as warnings, not part of the default view).</summary>
        public string[] Warnings { get; set; } = Array.Empty<string>();

        public override string ToString() => $"{Account} ({Environment.Name}, tenant {Account.Tenant})";
    }
}
