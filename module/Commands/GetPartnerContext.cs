using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>Gets the metadata used to authenticate Partner Center requests (no secrets).</summary>
    [Cmdlet(VerbsCommon.Get, "PartnerContext")]
    [OutputType(typeof(PartnerContext))]
    public sealed class GetPartnerContext : PartnerCmdlet
    {
        protected override void ProcessRecord()
        {
            var context = NativeClient.Call<PartnerContext?>(n => n.CurrentContext());
            if (context is not null)
            {
                WriteObject(context);
            }
        }
    }
}
