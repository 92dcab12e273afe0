using System;
using System.Management.Automation;
using System.Security;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Creates a Secure Application Model profile through a one-time consent: the partner user
    /// signs in (browser with authorization code + PKCE, or device code for a public client), the
    /// sign-in must prove multi-factor authentication, and the refresh token goes to the chosen
    /// secret store. Nothing is saved when the sign-in lacked MFA.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "PartnerSecureAppProfile", DefaultParameterSetName = SecretParameterSet, SupportsShouldProcess = true)]
    [OutputType(typeof(SecureAppProfile))]
    public sealed class NewPartnerSecureAppProfile : PartnerCmdlet
    {
        private const string SecretParameterSet = "ApplicationSecret";
        private const string CertificateParameterSet = "Certificate";
        private const string RefreshTokenParameterSet = "RefreshToken";

        [Parameter(Mandatory = true, Position = 0, HelpMessage = "Name of the profile (letters, digits and dashes).")]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = string.Empty;

        /// <summary>Application id (user name) and secret (password) of the SAM application.</summary>
        [Parameter(ParameterSetName = SecretParameterSet, Mandatory = true, HelpMessage = "Application id (user name) and secret (password) of the application.")]
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = true, HelpMessage = "Application id (user name) and secret (password) of the application.")]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        /// <summary>A refresh token from an earlier consent (an old script's), instead of a new consent.</summary>
        [Parameter(ParameterSetName = RefreshTokenParameterSet, Mandatory = true, HelpMessage = "Refresh token of an earlier consent, to keep in the profile instead of consenting again.")]
        [ValidateNotNullOrEmpty]
        public string? RefreshToken { get; set; }

        [Parameter(ParameterSetName = CertificateParameterSet, Mandatory = true, HelpMessage = "Identifier of the application.")]
        [ValidateGuid]
        public string? ApplicationId { get; set; }

        [Parameter(ParameterSetName = CertificateParameterSet, Mandatory = true, HelpMessage = "Thumbprint of the application's certificate.")]
        [ValidateNotNullOrEmpty]
        public string? CertificateThumbprint { get; set; }

        [Parameter(Mandatory = true, HelpMessage = "The partner tenant: id or verified domain.")]
        [Alias("TenantId", "Domain")]
        [ValidateNotNullOrEmpty]
        public string Tenant { get; set; } = string.Empty;

        [Parameter(Mandatory = false, HelpMessage = "Environment (cloud) of the profile.")]
        [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Environment { get; set; } = "AzureCloud";

        [Parameter(Mandatory = false, HelpMessage = "Where the refresh token is kept: File, CredentialManager or KeyVault.")]
        public SecretStoreKind SecretStore { get; set; } = SecretStoreKind.File;

        [Parameter(Mandatory = false, HelpMessage = "Name (or URL) of the Azure Key Vault, with -SecretStore KeyVault.")]
        [ValidateNotNullOrEmpty]
        public string? VaultName { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Passphrase of the encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).")]
        public SecureString? Passphrase { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Consent with a device code instead of a browser (public client applications only).")]
        [Alias("DeviceCode", "DeviceAuth", "Device")]
        public SwitchParameter UseDeviceAuthentication { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Make this the default profile.")]
        public SwitchParameter Default { get; set; }

        protected override void ProcessRecord()
        {
            if (SecretStore == SecretStoreKind.KeyVault && string.IsNullOrEmpty(VaultName))
            {
                ThrowTerminatingError(ErrorFor("VaultNameRequired", "Parameter 'VaultName': -SecretStore KeyVault needs the vault's name (or URL). Give -VaultName.", ErrorCategory.InvalidArgument, SecretStore));
            }
            if (!ShouldProcess($"profile '{Name}' ({SecretStore} store)", "Consent and save a Secure Application Model profile"))
            {
                return;
            }
            var certificate = CertificateThumbprint is null ? default : CertificateCredential.Load(CertificateThumbprint);
            SamRequest Request(string? signInId) => new()
            {
                Name = Name,
                ApplicationId = Credential?.UserName ?? ApplicationId,
                ApplicationSecret = Credential is null ? null : PasswordOf(Credential),
                CertificateThumbprint = CertificateThumbprint,
                CertificateBase64 = certificate.CertificateBase64,
                PrivateKeyPem = certificate.PrivateKeyPem,
                Tenant = Tenant,
                Environment = Environment,
                SecretStore = SecretStore.ToString(),
                Vault = VaultName,
                Passphrase = SecureAppProfiles.Plain(Passphrase),
                UseDeviceCode = UseDeviceAuthentication.IsPresent,
                MakeDefault = Default.IsPresent,
                SignInId = signInId,
                RefreshToken = RefreshToken,
            };
            WriteVerbose($"Creating the profile '{Name}': consent for application {Credential?.UserName ?? ApplicationId} in tenant {Tenant} ({Environment}); refresh token to the {SecretStore} store.");
            try
            {
                var profile = ParameterSetName == RefreshTokenParameterSet
                    ? Await(NativeClient.CallAsync<SecureAppProfile>((n, r, ct) => n.SamImport(r, ct), Request(null), CancellationToken))
                    : InteractiveSignIn.Run<SecureAppProfile>(
                        this,
                        () => NativeClient.CallAsync<SignInStarted>((n, r, ct) => n.SamBeginConsent(r, ct), Request(null), CancellationToken),
                        id => NativeClient.CallAsync<SecureAppProfile>((n, r, ct) => n.SamFinishConsent(r, ct), Request(id), CancellationToken),
                        CancellationToken,
                        "New-PartnerSecureAppProfile -UseDeviceAuthentication");
                WriteObject(profile);
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, Name));
            }
        }
    }
}
