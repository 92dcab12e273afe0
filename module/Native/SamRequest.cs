using System;

namespace PartnerSecurity.Native
{
    /// <summary>
    /// The request every Secure Application Model call sends to the native library (its
    /// <c>SamRequest</c>); each call reads the fields it needs. It holds the passphrase or the
    /// application secret only for the moment of the call; it is never logged or written out.
    /// </summary>
    internal sealed class SamRequest
    {
        internal const string HomeVariable = "PARTNERSECURITY_HOME";
        internal const string ProfileVariableName = "PARTNERSECURITY_PROFILE";
        internal const string PassphraseVariable = "PARTNERSECURITY_SECRET_PASSPHRASE";

        /// <summary>
        /// PARTNERSECURITY_HOME as this session sees it. Sent with every request: on Linux and
        /// macOS .NET keeps its own copy of the environment, so a variable set in the session
        /// ($env:PARTNERSECURITY_HOME = ...) is invisible to the native library.
        /// </summary>
        public string? Home { get; init; } = System.Environment.GetEnvironmentVariable(HomeVariable);

        /// <summary>PARTNERSECURITY_PROFILE as this session sees it (the default profile for unattended runs).</summary>
        public string? ProfileVariable { get; init; } = System.Environment.GetEnvironmentVariable(ProfileVariableName);

        public string? Name { get; init; }

        public string? Passphrase { get; init; }

        public string? ApplicationId { get; init; }

        public string? Tenant { get; init; }

        public string? Environment { get; init; }

        /// <summary><c>File</c>, <c>CredentialManager</c> or <c>KeyVault</c>; null: unchanged / the default (File).</summary>
        public string? SecretStore { get; init; }

        public string? Vault { get; init; }

        public string? ApplicationSecret { get; init; }

        public string? RefreshToken { get; init; }

        public string? CertificateThumbprint { get; init; }

        public string? CertificateBase64 { get; init; }

        public string? PrivateKeyPem { get; init; }

        public bool MakeDefault { get; init; }

        public bool ClearDefault { get; init; }

        public bool UseDeviceCode { get; init; }

        public string? SignInId { get; init; }

        public string[] Scopes { get; init; } = Array.Empty<string>();
    }
}
