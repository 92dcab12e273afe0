using System.Management.Automation;
using System.Security;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Changes a Secure Application Model profile: moves its refresh token to another secret
    /// store, replaces the application's secret or certificate, or makes it (or stops it being)
    /// the default profile.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "PartnerSecureAppProfile", SupportsShouldProcess = true)]
    [OutputType(typeof(SecureAppProfile))]
    public sealed class SetPartnerSecureAppProfile : PartnerCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Name of the profile.")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SecureAppProfileNameCompleter))]
        public string Name { get; set; } = string.Empty;

        [Parameter(Mandatory = false, HelpMessage = "Move the refresh token to this store: File, CredentialManager or KeyVault.")]
        public SecretStoreKind? SecretStore { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Name (or URL) of the Azure Key Vault, with -SecretStore KeyVault.")]
        [ValidateNotNullOrEmpty]
        public string? VaultName { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "A new application secret (password; the user name is ignored).")]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Sign the application in with this certificate instead.")]
        [ValidateNotNullOrEmpty]
        public string? CertificateThumbprint { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Make this the default profile; -Default:$false stops it being the default.")]
        public SwitchParameter Default { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Passphrase of the encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).")]
        public SecureString? Passphrase { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Write the changed profile.")]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (SecretStore == SecretStoreKind.KeyVault && string.IsNullOrEmpty(VaultName))
            {
                ThrowTerminatingError(ErrorFor("VaultNameRequired", "Parameter 'VaultName': -SecretStore KeyVault needs the vault's name (or URL). Give -VaultName.", ErrorCategory.InvalidArgument, Name));
            }
            var defaultGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Default));
            if (!ShouldProcess($"profile '{Name}'", "Change the Secure Application Model profile"))
            {
                return;
            }
            var certificate = CertificateThumbprint is null ? default : CertificateCredential.Load(CertificateThumbprint);
            var request = new SamRequest
            {
                Name = Name,
                SecretStore = SecretStore?.ToString(),
                Vault = VaultName,
                ApplicationSecret = Credential is null ? null : PasswordOf(Credential),
                CertificateThumbprint = CertificateThumbprint,
                CertificateBase64 = certificate.CertificateBase64,
                PrivateKeyPem = certificate.PrivateKeyPem,
                MakeDefault = defaultGiven && Default.IsPresent,
                ClearDefault = defaultGiven && !Default.IsPresent,
                Passphrase = SecureAppProfiles.Plain(Passphrase),
            };
            try
            {
                var profile = Await(NativeClient.CallAsync<SecureAppProfile>((n, r, ct) => n.SamSet(r, ct), request, CancellationToken));
                if (PassThru)
                {
                    WriteObject(profile);
                }
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, Name));
            }
        }
    }
}
