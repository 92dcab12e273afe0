using System;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// What Test-PartnerSecureAppProfile finds: whether the profile's refresh token is stored and
    /// still inside Entra ID's 90-day inactivity window, whether it proves MFA, and what to do.
    /// </summary>
    public sealed class SecureAppProfileHealth
    {
        public string Profile { get; set; } = string.Empty;

        /// <summary><c>Healthy</c>, <c>Warning</c> or <c>Expired</c>.</summary>
        public string Status { get; set; } = string.Empty;

        public bool Healthy => Status == "Healthy";

        /// <summary>Whether the store holds a refresh token; <c>$null</c> when the store could not be read.</summary>
        public bool? RefreshTokenStored { get; set; }

        public string RefreshTokenStore { get; set; } = string.Empty;

        public DateTimeOffset? LastExchangeOn { get; set; }

        /// <summary>Whole days since the refresh token was last used.</summary>
        public long? AgeDays { get; set; }

        /// <summary>When the refresh token expires unless it is used before.</summary>
        public DateTimeOffset? ExpiresOn { get; set; }

        public long? DaysLeft { get; set; }

        /// <summary>The <c>amr</c> claim of the last token minted from the refresh token.</summary>
        public string[] LastAmr { get; set; } = Array.Empty<string>();

        public bool Mfa { get; set; }

        public string[] ConsentedScopes { get; set; } = Array.Empty<string>();

        public DateTimeOffset? ConsentedOn { get; set; }

        public string? ConsentedBy { get; set; }

        /// <summary>What the status means and what to do about it.</summary>
        public string Advice { get; set; } = string.Empty;

        /// <summary>The application's secrets and certificates and when they expire, as Microsoft Graph reports them.</summary>
        public ApplicationCredentialInfo[] ApplicationCredentials { get; set; } = Array.Empty<ApplicationCredentialInfo>();

        /// <summary>Why Graph could not tell (for example a missing Application.Read.All permission).</summary>
        public string? ApplicationCredentialsProblem { get; set; }

        public string ApplicationId { get; set; } = string.Empty;

        public string Tenant { get; set; } = string.Empty;

        public override string ToString() => $"{Profile}: {Status}";
    }

    /// <summary>One secret or certificate of the profile's application (never the secret itself).</summary>
    public sealed class ApplicationCredentialInfo
    {
        /// <summary><c>Secret</c> or <c>Certificate</c>.</summary>
        public string Kind { get; set; } = string.Empty;

        public string? DisplayName { get; set; }

        /// <summary>The first characters of a secret, as the Entra admin center shows them.</summary>
        public string? Hint { get; set; }

        public DateTimeOffset? ExpiresOn { get; set; }

        public long? DaysLeft { get; set; }

        public override string ToString() => $"{Kind} '{DisplayName}' expires {(ExpiresOn is null ? "never" : ExpiresOn.Value.ToString("u"))}";
    }
}
