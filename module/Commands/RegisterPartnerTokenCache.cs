using System.Management.Automation;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Kept so PartnerCenter-era scripts that call it keep running. PartnerSecurity keeps access
    /// tokens in memory only and never writes a token cache file: -InMemory confirms that;
    /// -Persistent says where refresh tokens belong instead (a secret store).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Register, "PartnerTokenCache", DefaultParameterSetName = PersistentParameterSet)]
    [OutputType(typeof(void))]
    public sealed class RegisterPartnerTokenCache : PartnerCmdlet
    {
        private const string PersistentParameterSet = "ByPersistent";
        private const string InMemoryParameterSet = "ByInMemory";

        [Parameter(ParameterSetName = InMemoryParameterSet, Mandatory = true, HelpMessage = "Keep tokens in memory only.")]
        public SwitchParameter InMemory { get; set; }

        [Parameter(ParameterSetName = PersistentParameterSet, Mandatory = true, HelpMessage = "Persist tokens between sessions.")]
        public SwitchParameter Persistent { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == InMemoryParameterSet)
            {
                WriteVerbose("Access tokens are kept in memory for this PowerShell session only; nothing is written to disk.");
                return;
            }
            WriteWarning("PartnerSecurity does not write a token cache file: a file holding refresh tokens is exactly what the Secure Application Model avoids. Tokens stay in memory for this session. To reuse a refresh token in later sessions, keep it in a secret store (Azure Key Vault, the OS credential store) and connect with Connect-PartnerCenter -RefreshToken; every exchange returns a new refresh token that must replace the stored one.");
        }
    }
}
