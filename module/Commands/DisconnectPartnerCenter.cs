using System.Management.Automation;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>Ends the current Partner Center session and forgets its cached tokens.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "PartnerCenter", SupportsShouldProcess = true)]
    [OutputType(typeof(void))]
    public sealed class DisconnectPartnerCenter : PartnerCmdlet
    {
        protected override void ProcessRecord()
        {
            if (!ShouldProcess("Partner Center session", "Disconnect"))
            {
                return;
            }
            var wasConnected = NativeClient.Call<bool>(n => n.Disconnect());
            WriteVerbose(wasConnected ? "Disconnected; the session's cached tokens were discarded." : "There was no session to disconnect.");
        }
    }
}
