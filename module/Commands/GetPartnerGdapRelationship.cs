using System.Management.Automation;
using PartnerSecurity.Models;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Gets the partner tenant's GDAP relationships (Graph <c>tenantRelationships/delegatedAdminRelationships</c>)
    /// with the roles they grant and their access assignments (which security groups hold them).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PartnerGdapRelationship")]
    [OutputType(typeof(GdapRelationship))]
    public sealed class GetPartnerGdapRelationship : SecurityDataCmdlet
    {
        protected override void EndProcessing() => WriteData<GdapRelationship>("GdapRelationships");
    }
}
