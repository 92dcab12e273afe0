using System.Management.Automation;
using System.Security;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Removes a Secure Application Model profile together with its refresh token and stored
    /// application secret. The consent itself stays granted in Entra ID (revoke it there).
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "PartnerSecureAppProfile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(SecureAppProfile))]
    public sealed class RemovePartnerSecureAppProfile : PartnerCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Name of the profile.")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SecureAppProfileNameCompleter))]
        public string Name { get; set; } = string.Empty;

        [Parameter(Mandatory = false, HelpMessage = "Passphrase of the encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).")]
        public SecureString? Passphrase { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Write the removed profile.")]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (!ShouldProcess($"profile '{Name}' and its stored refresh token and application secret", "Remove"))
            {
                return;
            }
            try
            {
                var removed = Await(NativeClient.CallAsync<SecureAppProfile>((n, r, ct) => n.SamRemove(r, ct), new SamRequest { Name = Name, Passphrase = SecureAppProfiles.Plain(Passphrase) }, CancellationToken));
                if (PassThru)
                {
                    WriteObject(removed);
                }
            }
            catch (PartnerSecurityException failure)
            {
                WriteError(ErrorFor(failure, Name));
            }
        }
    }
}
