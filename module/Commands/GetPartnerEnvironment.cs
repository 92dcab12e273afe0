using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>Gets the Azure clouds and custom environments PartnerSecurity can connect to.</summary>
    [Cmdlet(VerbsCommon.Get, "PartnerEnvironment")]
    [OutputType(typeof(PartnerEnvironment))]
    public sealed class GetPartnerEnvironment : PartnerCmdlet
    {
        /// <summary>Name of the environment; all environments when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Name of the environment.")]
        [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        protected override void ProcessRecord()
        {
            if (Name is null)
            {
                WriteObject(NativeClient.Call<PartnerEnvironment[]>(n => n.Environments()), enumerateCollection: true);
                return;
            }
            try
            {
                WriteObject(NativeClient.Call<PartnerEnvironment>((n, name) => n.FindEnvironment(name), Name));
            }
            catch (PartnerSecurityException failure)
            {
                // Not found concerns this one name: report it and go on with the pipeline.
                WriteError(new ErrorRecord(failure, "EnvironmentNotFound", ErrorCategory.ObjectNotFound, Name));
            }
        }
    }
}
