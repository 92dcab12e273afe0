using System;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// The detailed answer of Test-PartnerSecurityRequirement -Detailed: whether the fresh
    /// sign-in's access token proves multi-factor authentication, and why.
    /// </summary>
    public sealed class SecurityRequirementResult
    {
        /// <summary><c>pass</c> or <c>fail</c>, the string the PartnerCenter module writes.</summary>
        public string Result { get; set; } = "fail";

        public bool Passed => Result == "pass";

        public string? Account { get; set; }

        public string? TenantId { get; set; }

        public string? ApplicationId { get; set; }

        /// <summary>The <c>amr</c> claim; empty when the token had none.</summary>
        public string[] AuthenticationMethods { get; set; } = Array.Empty<string>();

        public bool HasAuthenticationMethodsClaim { get; set; }

        public string Reason { get; set; } = string.Empty;

        public DateTimeOffset CheckedOn { get; set; }

        public override string ToString() => Result;
    }
}
