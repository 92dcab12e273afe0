using System;
using System.Collections.Generic;

namespace PartnerSecurity.Models
{
    /// <summary>The account part of an <see cref="AuthResult"/> (MSAL's <c>IAccount</c> shape).</summary>
    public sealed class AuthAccount
    {
        public string? Username { get; set; }

        public string? Environment { get; set; }

        public string? HomeAccountId { get; set; }

        public override string ToString() => Username ?? HomeAccountId ?? string.Empty;
    }

    /// <summary>
    /// The output of New-PartnerAccessToken: the properties of the PartnerCenter module's
    /// <c>AuthResult</c> (MSAL's <c>AuthenticationResult</c> plus <c>RefreshToken</c>). The token
    /// values are there because the caller asked for them; <see cref="ToString"/> and the
    /// default view never show them.
    /// </summary>
    public sealed class AuthResult
    {
        public string AccessToken { get; set; } = string.Empty;

        /// <summary>The refresh token from the token response itself (empty for app-only tokens).</summary>
        public string? RefreshToken { get; set; }

        public string? IdToken { get; set; }

        public DateTimeOffset ExpiresOn { get; set; }

        public DateTimeOffset ExtendedExpiresOn { get; set; }

        public bool IsExtendedLifeTimeToken { get; set; }

        public string? TenantId { get; set; }

        public string? UniqueId { get; set; }

        public IEnumerable<string> Scopes { get; set; } = Array.Empty<string>();

        public AuthAccount? Account { get; set; }

        public Guid CorrelationId { get; set; }

        /// <summary>The <c>amr</c> claim: contains <c>mfa</c> when the sign-in used a second factor.</summary>
        public string[] AuthenticationMethods { get; set; } = Array.Empty<string>();

        /// <summary><c>$true</c> when <see cref="AuthenticationMethods"/> proves a second factor (<c>mfa</c>).</summary>
        public bool HasMfa { get; set; }

        public override string ToString() => $"Access token for {Account?.Username ?? UniqueId ?? "application"} in tenant {TenantId}, expires {ExpiresOn:u}";
    }
}
