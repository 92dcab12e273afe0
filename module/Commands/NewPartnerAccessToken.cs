using System;
using System.Linq;
using System.Management.Automation;
using System.Security;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>The PowerShell modules whose sign-in New-PartnerAccessToken knows (-Module).</summary>
    public enum ModuleName
    {
        ExchangeOnline,
    }

    /// <summary>
    /// Acquires an access token (and, for user sign-ins, a refresh token taken straight from the
    /// token response). Same parameter sets and aliases as the PartnerCenter 3.0.10 module.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "PartnerAccessToken")]
    [OutputType(typeof(AuthResult))]
    public sealed class NewPartnerAccessToken : PartnerCmdlet
    {
        private const string AccessTokenParameterSet = "AccessToken";
        private const string ByModuleParameterSet = "ByModule";
        private const string RefreshTokenParameterSet = "RefreshToken";
        private const string ServicePrincipalCertificateParameterSet = "ServicePrincipalCertificate";
        private const string ServicePrincipalParameterSet = "ServicePrincipal";
        private const string UserParameterSet = "User";
        /// <summary>Only -Scopes (and -Tenant): a token through the default Secure Application Model profile, or the one -SecureAppProfile names.</summary>
        private const string SecureAppProfileParameterSet = "SecureAppProfile";

        /// <summary>Exchange Online PowerShell's public client (retired by Microsoft in March 2023).</summary>
        private const string ExchangeOnlineApplicationId = "a0c73c16-a7e3-4564-9a95-2bdf47383716";
        private const string ExchangeOnlineScope = "https://outlook.office365.com/.default";

        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = true, HelpMessage = "Access token to wrap.")]
        [ValidateNotNullOrEmpty]
        public string AccessToken { get; set; } = string.Empty;

        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = true, HelpMessage = "Identifier of the Azure AD application.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Identifier of the Azure AD application.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Identifier of the Azure AD application.")]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true, HelpMessage = "Identifier of the Azure AD application.")]
        [Parameter(ParameterSetName = UserParameterSet, Mandatory = true, HelpMessage = "Identifier of the Azure AD application.")]
        [Alias("ClientId")]
        [ValidateNotNullOrEmpty]
        public string? ApplicationId { get; set; }

        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Certificate thumbprint of the application's credential.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Certificate thumbprint of the application's credential.")]
        public string? CertificateThumbprint { get; set; }

        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = false, HelpMessage = "Application id and secret.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Application id and secret.")]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true, HelpMessage = "Application id and secret.")]
        public PSCredential? Credential { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Environment (cloud) to sign in to.")]
        [Alias("EnvironmentName")]
        [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Environment { get; set; } = "AzureCloud";

        [Parameter(ParameterSetName = ByModuleParameterSet, Mandatory = true, HelpMessage = "Module to acquire a token for.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Module to acquire a token for.")]
        [Alias("ModuleName")]
        [ValidateSet("ExchangeOnline", IgnoreCase = true)]
        public ModuleName? Module { get; set; }

        [Parameter(ParameterSetName = ByModuleParameterSet, Mandatory = false, HelpMessage = "Refresh token to exchange.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = true, HelpMessage = "Refresh token to exchange.")]
        [ValidateNotNullOrEmpty]
        public string? RefreshToken { get; set; }

        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = true, HelpMessage = "Scopes requested.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = true, HelpMessage = "Scopes requested.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Scopes requested.")]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true, HelpMessage = "Scopes requested.")]
        [Parameter(ParameterSetName = UserParameterSet, Mandatory = true, HelpMessage = "Scopes requested.")]
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = true, HelpMessage = "Scopes requested.")]
        public string[] Scopes { get; set; } = Array.Empty<string>();

        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false)]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = false)]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true)]
        public SwitchParameter ServicePrincipal { get; set; }

        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = ByModuleParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = UserParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Alias("Domain", "TenantId")]
        [ValidateNotNullOrEmpty]
        public string? Tenant { get; set; }

        [Parameter(ParameterSetName = ByModuleParameterSet, Mandatory = false)]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = false)]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = false)]
        [Parameter(ParameterSetName = UserParameterSet, Mandatory = false)]
        [Alias("AuthCode")]
        public SwitchParameter UseAuthorizationCode { get; set; }

        [Parameter(ParameterSetName = UserParameterSet, Mandatory = false)]
        [Alias("DeviceCode", "DeviceAuth", "Device")]
        public SwitchParameter UseDeviceAuthentication { get; set; }

        /// <summary>
        /// A Secure Application Model profile to get the token through, by name (default: the
        /// default profile). Not a PartnerCenter module parameter.
        /// </summary>
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = false, HelpMessage = "Name of the Secure Application Model profile (default: the default profile).")]
        [ArgumentCompleter(typeof(SecureAppProfileNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string? SecureAppProfile { get; set; }

        /// <summary>Passphrase of the profile's encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).</summary>
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = false, HelpMessage = "Passphrase of the encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).")]
        public SecureString? Passphrase { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                WriteObject(Acquire());
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, ParameterSetName));
            }
        }

        private AuthResult Acquire()
        {
            var byModule = Module == ModuleName.ExchangeOnline;
            var scopes = Scopes.Length > 0 ? Scopes : (byModule ? new[] { ExchangeOnlineScope } : Scopes);
            var applicationId = ApplicationId ?? (byModule ? ExchangeOnlineApplicationId : null);
            var certificate = CertificateThumbprint is null ? default : CertificateCredential.Load(CertificateThumbprint);
            WriteVerbose($"Requesting a token for '{string.Join(" ", scopes)}' from tenant '{Tenant ?? "organizations"}' in {Environment} ({ParameterSetName} parameter set).");

            var profile = SecureAppProfileInstead(applicationId);
            if (profile is not null)
            {
                WriteVerbose($"Requesting the token through the Secure Application Model profile '{profile.Name}'; its rotated refresh token stays in the profile's store.");
                var request = SecureAppProfiles.Open(profile, SecureAppProfiles.Plain(Passphrase), tenant: Tenant, scopes: scopes);
                var token = Await(NativeClient.CallAsync<ProfileToken>((n, r, ct) => n.SamExchange(r, ct), request, CancellationToken)).Token;
                if (SecureAppProfile is null)
                {
                    SecureAppProfiles.WarnOnce(this, profile, "New-PartnerAccessToken");
                }
                return token;
            }

            switch (ParameterSetName)
            {
                case SecureAppProfileParameterSet:
                    throw new PartnerSecurityException(
                        FailureKind.InvalidInput,
                        "NoDefaultProfile",
                        "New-PartnerAccessToken with only -Scopes uses the default Secure Application Model profile, and there is none. Create one with New-PartnerSecureAppProfile -Default (or set PARTNERSECURITY_PROFILE), or give -ApplicationId with -RefreshToken or -Credential.");

                case AccessTokenParameterSet:
                    // As the PartnerCenter module: the token is read, not requested again.
                    return Native(new SignInRequest { Kind = SignInKind.AccessToken, Environment = Environment, Tenant = Tenant, ApplicationId = ApplicationId, AccessToken = AccessToken, Scopes = scopes });

                case RefreshTokenParameterSet:
                case ByModuleParameterSet when RefreshToken is not null:
                    // The credential's user name is the client id (PartnerCenter module behaviour).
                    return Native(new SignInRequest
                    {
                        Kind = SignInKind.RefreshToken,
                        Environment = Environment,
                        Tenant = Tenant,
                        ApplicationId = Credential?.UserName ?? applicationId,
                        RefreshToken = RefreshToken,
                        ClientSecret = Credential is null ? null : PasswordOf(Credential),
                        CertificateBase64 = certificate.CertificateBase64,
                        PrivateKeyPem = certificate.PrivateKeyPem,
                        Scopes = scopes,
                    });

                case ServicePrincipalParameterSet when !UseAuthorizationCode.IsPresent:
                case ServicePrincipalCertificateParameterSet when !UseAuthorizationCode.IsPresent:
                    return Native(new SignInRequest
                    {
                        Kind = SignInKind.ServicePrincipal,
                        Environment = Environment,
                        Tenant = Tenant,
                        ApplicationId = applicationId ?? Credential?.UserName,
                        ClientSecret = Credential is null ? null : PasswordOf(Credential),
                        CertificateBase64 = certificate.CertificateBase64,
                        PrivateKeyPem = certificate.PrivateKeyPem,
                        Scopes = scopes,
                    });

                default:
                    // A person signs in: the browser (authorization code + PKCE; confidential apps
                    // authenticate with their secret or certificate), or a device code. ByModule
                    // always uses a device code, as the PartnerCenter module does.
                    var interactive = new SignInRequest
                    {
                        Kind = SignInKind.Interactive,
                        Environment = Environment,
                        Tenant = Tenant,
                        ApplicationId = applicationId,
                        ClientSecret = Credential is null ? null : PasswordOf(Credential),
                        CertificateBase64 = certificate.CertificateBase64,
                        PrivateKeyPem = certificate.PrivateKeyPem,
                        Scopes = scopes,
                        UseDeviceCode = byModule || UseDeviceAuthentication.IsPresent,
                    };
                    return InteractiveSignIn.Run<AuthResult>(this, interactive, (n, id, ct) => n.FinishSignInForToken(id, ct), CancellationToken, "New-PartnerAccessToken -UseDeviceAuthentication");
            }
        }

        /// <summary>
        /// The profile -SecureAppProfile names; else the default profile, for -Scopes alone, or for
        /// a user sign-in (User set, no -UseDeviceAuthentication or -UseAuthorizationCode) of the
        /// profile's own application.
        /// </summary>
        private SecureAppProfile? SecureAppProfileInstead(string? applicationId)
        {
            var environment = IfGiven(nameof(Environment), Environment);
            if (SecureAppProfile is not null)
            {
                return SecureAppProfiles.Named(SecureAppProfile, environment);
            }
            var userForm = ParameterSetName == SecureAppProfileParameterSet
                || (ParameterSetName == UserParameterSet && !UseDeviceAuthentication.IsPresent && !UseAuthorizationCode.IsPresent);
            if (!userForm)
            {
                return null;
            }
            var profile = SecureAppProfiles.ForLegacyForm(environment);
            if (profile is not null && ParameterSetName == UserParameterSet && !string.Equals(profile.ApplicationId, applicationId, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
            return profile;
        }

        private AuthResult Native(SignInRequest request)
        {
            return Await(NativeClient.CallAsync<AuthResult>((n, r, ct) => n.NewAccessToken(r, ct), request, CancellationToken));
        }
    }
}
