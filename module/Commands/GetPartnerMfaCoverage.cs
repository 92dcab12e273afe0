using System;
using System.Management.Automation;
using PartnerSecurity.Models;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Gets every enabled user's effective MFA coverage, merged from security defaults,
    /// Conditional Access (users, groups, roles, client app types, grant controls) and per-user
    /// MFA, with the reason: which policy covers the user and which exclusion leaves them out.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PartnerMfaCoverage")]
    [OutputType(typeof(MfaCoverage))]
    public sealed class GetPartnerMfaCoverage : SecurityDataCmdlet
    {
        [Parameter]
        [ValidateNotNull]
        public string[] BreakGlassAccount { get; set; } = Array.Empty<string>();

        protected override void EndProcessing() => WriteData<MfaCoverage>("MfaCoverage", breakGlassAccounts: BreakGlassAccount);
    }
}
