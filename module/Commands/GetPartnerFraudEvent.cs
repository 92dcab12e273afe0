using System.Management.Automation;
using PartnerSecurity.Models;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Gets the Azure fraud events Partner Center reports for the partner's customers (App+User
    /// sessions only, as Partner Center requires).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PartnerFraudEvent")]
    [OutputType(typeof(FraudEvent))]
    public sealed class GetPartnerFraudEvent : SecurityDataCmdlet
    {
        protected override void EndProcessing() => WriteData<FraudEvent>("FraudEvents");
    }
}
