using System.Management.Automation;
using PartnerSecurity.Models;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Gets the connected tenant's successful user sign-ins over legacy protocols (IMAP, POP,
    /// SMTP AUTH, Exchange ActiveSync, other clients) of the last days: the clients that cannot
    /// do MFA and break when it is enforced.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PartnerLegacyAuthSignIn")]
    [OutputType(typeof(SignIn))]
    public sealed class GetPartnerLegacyAuthSignIn : SecurityDataCmdlet
    {
        [Parameter(Position = 0)]
        [ValidateRange(1, 30)]
        public int Days { get; set; } = 7;

        protected override void EndProcessing() => WriteData<object>("LegacyAuthSignIns", signInDays: Days, shape: record => SignInRecords.ToOutput(record, null));
    }
}
