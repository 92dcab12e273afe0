using System;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// A Secure Application Model profile: which application signs in, to which tenant and cloud,
    /// and where its refresh token and application secret are kept. It says where the secrets
    /// are, never what they are.
    /// </summary>
    public sealed class SecureAppProfile
    {
        public string Name { get; set; } = string.Empty;

        public string ApplicationId { get; set; } = string.Empty;

        /// <summary>The partner tenant (id or verified domain).</summary>
        public string Tenant { get; set; } = string.Empty;

        public string Environment { get; set; } = string.Empty;

        /// <summary>Where the refresh token is: <c>File</c>, <c>CredentialManager</c> or <c>KeyVault</c>.</summary>
        public string SecretStore { get; set; } = string.Empty;

        public string RefreshTokenLocation { get; set; } = string.Empty;

        public string? VaultUrl { get; set; }

        /// <summary><c>Secret</c> (kept in a secret store) or <c>Certificate</c> (by thumbprint).</summary>
        public string CredentialKind { get; set; } = string.Empty;

        public string? ApplicationSecretLocation { get; set; }

        public string? CertificateThumbprint { get; set; }

        public string[] ConsentedScopes { get; set; } = Array.Empty<string>();

        public DateTimeOffset? ConsentedOn { get; set; }

        /// <summary>The user who consented (their sign-in proved MFA).</summary>
        public string? ConsentedBy { get; set; }

        /// <summary>When the refresh token was last redeemed; the 90-day inactivity limit counts from here.</summary>
        public DateTimeOffset? LastExchangeOn { get; set; }

        /// <summary>The <c>amr</c> claim of the last token from this profile.</summary>
        public string[] AuthenticationMethods { get; set; } = Array.Empty<string>();

        public DateTimeOffset CreatedOn { get; set; }

        /// <summary>Whether Connect-PartnerCenter and the other legacy forms use this profile when no credentials are given.</summary>
        public bool IsDefault { get; set; }

        public override string ToString() => Name;
    }
}
