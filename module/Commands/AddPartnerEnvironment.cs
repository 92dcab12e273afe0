using System.IO;
using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Registers a custom environment for this session, such as a private cloud endpoint set or
    /// the local PartnerSecurity emulator (like Azure PowerShell's Add-AzEnvironment).
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "PartnerEnvironment", SupportsShouldProcess = true)]
    [OutputType(typeof(PartnerEnvironment))]
    public sealed class AddPartnerEnvironment : PartnerCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Name of the new environment.")]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = string.Empty;

        /// <summary>Entra ID authority, e.g. https://login.microsoftonline.com/</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Entra ID authority URL.")]
        [ValidateNotNullOrEmpty]
        public string ActiveDirectoryAuthority { get; set; } = string.Empty;

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Microsoft Graph endpoint URL.")]
        [ValidateNotNullOrEmpty]
        public string GraphEndpoint { get; set; } = string.Empty;

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Partner Center API endpoint URL.")]
        [ValidateNotNullOrEmpty]
        public string PartnerCenterEndpoint { get; set; } = string.Empty;

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? AzureAdGraphEndpoint { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? AzureEndpoint { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? KeyVaultEndpoint { get; set; }

        /// <summary>
        /// A PEM certificate to trust for this environment's endpoints instead of the system's
        /// roots (for the emulator's self-signed certificate). Nothing else is trusted for it.
        /// </summary>
        [Parameter(HelpMessage = "PEM file of a certificate to trust for this environment only.")]
        [ValidateNotNullOrEmpty]
        public string? TrustedCertificatePath { get; set; }

        protected override void ProcessRecord()
        {
            string? pem = null;
            if (TrustedCertificatePath is not null)
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(TrustedCertificatePath);
                if (!File.Exists(path))
                {
                    ThrowTerminatingError(ErrorFor("TrustedCertificateNotFound", $"Parameter 'TrustedCertificatePath': the file '{path}' does not exist.", ErrorCategory.ObjectNotFound, TrustedCertificatePath));
                }
                pem = File.ReadAllText(path);
            }
            if (!ShouldProcess(Name, $"Register environment (authority {ActiveDirectoryAuthority})"))
            {
                return;
            }
            var request = new
            {
                Name,
                ActiveDirectoryAuthority,
                GraphEndpoint,
                PartnerCenterEndpoint,
                AzureAdGraphEndpoint,
                AzureEndpoint,
                KeyVaultEndpoint,
                TrustedCertificatePem = pem,
            };
            try
            {
                var json = System.Text.Json.JsonSerializer.Serialize(request, NativeClient.Json);
                WriteObject(NativeClient.Call<PartnerEnvironment>((n, r) => n.AddEnvironment(r), json));
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, Name));
            }
        }
    }
}
