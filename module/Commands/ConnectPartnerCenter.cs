using System;
using System.Management.Automation;
using System.Security;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Connects to Partner Center. Same name, parameter sets and aliases as the PartnerCenter
    /// 3.0.10 module; the session renews its own access tokens when connected with a refresh
    /// token, and the context it returns holds no secret.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "PartnerCenter", DefaultParameterSetName = UserParameterSet, SupportsShouldProcess = true)]
    [OutputType(typeof(PartnerContext))]
    public sealed class ConnectPartnerCenter : PartnerCmdlet
    {
        private const string AccessTokenParameterSet = "AccessToken";
        private const string RefreshTokenParameterSet = "RefreshToken";
        private const string ServicePrincipalCertificateParameterSet = "ServicePrincipalCertificate";
        private const string ServicePrincipalParameterSet = "ServicePrincipal";
        private const string UserParameterSet = "User";
        /// <summary>1.x-era scripts passed a user's name and password; bound so they get a clear answer.</summary>
        private const string UserCredentialParameterSet = "UserCredential";
        /// <summary>A Secure Application Model profile named by the caller (New-PartnerSecureAppProfile).</summary>
        private const string SecureAppProfileParameterSet = "SecureAppProfile";
        /// <summary>The public client the PartnerCenter module signs users in with (Azure CLI).</summary>
        private const string PowerShellApplicationId = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

        /// <summary>An access token for Partner Center, used as is (it cannot be renewed).</summary>
        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = true, HelpMessage = "Access token for Partner Center.")]
        [ValidateNotNullOrEmpty]
        public string AccessToken { get; set; } = string.Empty;

        /// <summary>The application (client) id used to sign in.</summary>
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = true, HelpMessage = "Identifier of the Azure AD application used to sign in.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Identifier of the Azure AD application used to sign in.")]
        [ValidateGuid]
        public string? ApplicationId { get; set; }

        /// <summary>Thumbprint of the application's certificate (CurrentUser, then LocalMachine 'My' store).</summary>
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Certificate thumbprint of the application's credential.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Certificate thumbprint of the application's credential.")]
        [ValidateNotNullOrEmpty]
        public string? CertificateThumbprint { get; set; }

        /// <summary>Application id (user name) and secret (password) of a confidential application.</summary>
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Application id and secret of the application.")]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true, HelpMessage = "Application id and secret of the application.")]
        [Parameter(ParameterSetName = UserCredentialParameterSet, Mandatory = true, HelpMessage = "Application id and secret of the application.")]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        /// <summary>The cloud: AzureCloud (default), AzureChinaCloud, AzureGermanCloud, AzurePPE, AzureUSGovernment, or a custom environment.</summary>
        [Parameter(Mandatory = false, HelpMessage = "Environment (cloud) to connect to.")]
        [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Environment { get; set; } = "AzureCloud";

        /// <summary>A refresh token obtained through consent (Secure Application Model).</summary>
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = true, HelpMessage = "Refresh token used to sign in.")]
        [ValidateNotNull]
        public string RefreshToken { get; set; } = string.Empty;

        /// <summary>Sign in as the application itself (client credentials).</summary>
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = false)]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true)]
        public SwitchParameter ServicePrincipal { get; set; }

        /// <summary>Tenant id or verified domain; defaults to 'organizations'.</summary>
        [Parameter(ParameterSetName = AccessTokenParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = ServicePrincipalCertificateParameterSet, Mandatory = true, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = ServicePrincipalParameterSet, Mandatory = true, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = UserParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = UserCredentialParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant.")]
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = false, HelpMessage = "Identifier or domain of the tenant (default: the profile's).")]
        [Alias("Domain", "TenantId")]
        [ValidateNotNullOrEmpty]
        public string? Tenant { get; set; }

        /// <summary>Sign in with a device code instead of a browser.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Mandatory = false)]
        [Alias("Device", "DeviceAuth", "DeviceCode")]
        public SwitchParameter UseDeviceAuthentication { get; set; }

        /// <summary>
        /// A Secure Application Model profile to connect with, by name: its application, its
        /// stored refresh token and its environment, without a browser. Not a PartnerCenter
        /// module parameter; the legacy forms use the default profile on their own.
        /// </summary>
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = true, HelpMessage = "Name of the Secure Application Model profile to connect with.")]
        [ArgumentCompleter(typeof(SecureAppProfileNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string? SecureAppProfile { get; set; }

        /// <summary>Passphrase of the profile's encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).</summary>
        [Parameter(ParameterSetName = SecureAppProfileParameterSet, Mandatory = false, HelpMessage = "Passphrase of the encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).")]
        public SecureString? Passphrase { get; set; }

        protected override void ProcessRecord()
        {
            var named = ParameterSetName == SecureAppProfileParameterSet;
            var target = named
                ? $"SAM profile '{SecureAppProfile}'" + (Tenant is null ? string.Empty : $", tenant {Tenant}")
                : $"{Environment} tenant {Tenant ?? "organizations"}";
            if (!ShouldProcess(target, "Connect to Partner Center"))
            {
                return;
            }
            WriteVerbose($"Signing in: {target} ({ParameterSetName} parameter set).");
            try
            {
                var profile = named ? SecureAppProfiles.Named(SecureAppProfile!, IfGiven(nameof(Environment), Environment)) : SecureAppProfileInstead();
                var context = profile is not null
                    ? ConnectWithProfile(profile, substituted: !named)
                    : ParameterSetName == UserParameterSet
                    ? InteractiveSignIn.Run<PartnerContext>(this, InteractiveRequest(), (n, id, ct) => n.FinishSignInAndConnect(id, ct), CancellationToken, "Connect-PartnerCenter -UseDeviceAuthentication")
                    : Await(NativeClient.CallAsync<PartnerContext>((n, r, ct) => n.Connect(r, ct), BuildRequest(), CancellationToken));
                foreach (var warning in context.Warnings)
                {
                    WriteWarning(warning);
                }
                WriteObject(context);
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, target));
            }
        }

        /// <summary>
        /// The default Secure Application Model profile, when this is a user sign-in it can stand
        /// in for: the User set without -UseDeviceAuthentication (an explicit request to sign in
        /// as a person), or a user's -Credential, which cannot satisfy MFA anyway.
        /// </summary>
        private SecureAppProfile? SecureAppProfileInstead()
        {
            var userForm = (ParameterSetName == UserParameterSet && !UseDeviceAuthentication.IsPresent) || ParameterSetName == UserCredentialParameterSet;
            return userForm ? SecureAppProfiles.ForLegacyForm(IfGiven(nameof(Environment), Environment)) : null;
        }

        /// <summary>
        /// Connects through <paramref name="profile"/>; <paramref name="substituted"/>: it stands in
        /// for the user sign-in the caller asked for, which the session is told once.
        /// </summary>
        private PartnerContext ConnectWithProfile(SecureAppProfile profile, bool substituted)
        {
            WriteVerbose(substituted
                ? $"Connecting with the Secure Application Model profile '{profile.Name}' instead of signing a user in."
                : $"Connecting with the Secure Application Model profile '{profile.Name}' (application {profile.ApplicationId}, environment {profile.Environment}).");
            var request = SecureAppProfiles.Open(profile, SecureAppProfiles.Plain(Passphrase), tenant: Tenant);
            var connected = Await(NativeClient.CallAsync<ProfileContext>((n, r, ct) => n.SamConnect(r, ct), request, CancellationToken));
            if (substituted)
            {
                SecureAppProfiles.WarnOnce(this, profile, "Connect-PartnerCenter");
            }
            return connected.Context;
        }

        private SignInRequest InteractiveRequest() => new()
        {
            Kind = SignInKind.Interactive,
            Environment = Environment,
            Tenant = Tenant,
            ApplicationId = PowerShellApplicationId,
            UseDeviceCode = UseDeviceAuthentication.IsPresent,
        };

        private SignInRequest BuildRequest()
        {
            switch (ParameterSetName)
            {
                case AccessTokenParameterSet:
                    return new SignInRequest { Kind = SignInKind.AccessToken, Environment = Environment, Tenant = Tenant, AccessToken = AccessToken };
                case RefreshTokenParameterSet:
                {
                    var certificate = CertificateThumbprint is null ? default : CertificateCredential.Load(CertificateThumbprint);
                    // As in the PartnerCenter module, the credential's user name wins over -ApplicationId.
                    return new SignInRequest
                    {
                        Kind = SignInKind.RefreshToken,
                        Environment = Environment,
                        Tenant = Tenant,
                        ApplicationId = Credential?.UserName ?? ApplicationId,
                        RefreshToken = RefreshToken,
                        ClientSecret = Credential is null ? null : PasswordOf(Credential),
                        CertificateBase64 = certificate.CertificateBase64,
                        PrivateKeyPem = certificate.PrivateKeyPem,
                    };
                }
                case ServicePrincipalCertificateParameterSet:
                {
                    var certificate = CertificateCredential.Load(CertificateThumbprint!);
                    return new SignInRequest
                    {
                        Kind = SignInKind.ServicePrincipal,
                        Environment = Environment,
                        Tenant = Tenant,
                        ApplicationId = ApplicationId,
                        CertificateBase64 = certificate.CertificateBase64,
                        PrivateKeyPem = certificate.PrivateKeyPem,
                    };
                }
                case ServicePrincipalParameterSet:
                    return new SignInRequest
                    {
                        Kind = SignInKind.ServicePrincipal,
                        Environment = Environment,
                        Tenant = Tenant,
                        ApplicationId = Credential!.UserName,
                        ClientSecret = PasswordOf(Credential),
                    };
                default:
                    // A user name and password: the native library explains why that cannot work.
                    return new SignInRequest { Kind = SignInKind.UserCredentials, Environment = Environment, Tenant = Tenant };
            }
        }
    }
}
