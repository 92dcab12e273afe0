namespace PartnerSecurity.Native
{
    /// <summary>How a sign-in should happen; serialised to the native library's <c>SignInRequest</c>.</summary>
    internal enum SignInKind
    {
        AccessToken,
        RefreshToken,
        ServicePrincipal,
        Interactive,
        UserCredentials,
    }

    /// <summary>
    /// The request Connect-PartnerCenter and New-PartnerAccessToken send to the native library.
    /// It holds secrets only for the moment of the call; it is never logged or written out.
    /// </summary>
    internal sealed class SignInRequest
    {
        public SignInKind Kind { get; init; }

        public string Environment { get; init; } = string.Empty;

        public string? Tenant { get; init; }

        public string? ApplicationId { get; init; }

        public string? AccessToken { get; init; }

        public string? RefreshToken { get; init; }

        public string? ClientSecret { get; init; }

        public string? CertificateBase64 { get; init; }

        public string? PrivateKeyPem { get; init; }

        public string[] Scopes { get; init; } = System.Array.Empty<string>();

        public bool UseDeviceCode { get; init; }

        public string? LoginHint { get; init; }
    }
}
