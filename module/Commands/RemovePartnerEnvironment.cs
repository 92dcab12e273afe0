using System.Management.Automation;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>Removes a custom environment registered with Add-PartnerEnvironment.</summary>
    [Cmdlet(VerbsCommon.Remove, "PartnerEnvironment", SupportsShouldProcess = true)]
    [OutputType(typeof(void))]
    public sealed class RemovePartnerEnvironment : PartnerCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Name of the custom environment.")]
        [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = string.Empty;

        protected override void ProcessRecord()
        {
            if (!ShouldProcess(Name, "Remove environment"))
            {
                return;
            }
            try
            {
                if (!NativeClient.Call<bool>((n, name) => n.RemoveEnvironment(name), Name))
                {
                    WriteError(ErrorFor("EnvironmentNotFound", $"Parameter 'Name': there is no custom environment named '{Name}' (Get-PartnerEnvironment lists them).", ErrorCategory.ObjectNotFound, Name));
                }
            }
            catch (PartnerSecurityException failure)
            {
                WriteError(ErrorFor(failure, Name));
            }
        }
    }
}
