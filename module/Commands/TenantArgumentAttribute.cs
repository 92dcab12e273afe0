using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Accepts tenants as text (ids, verified domains), GUIDs, or objects that name one in a
    /// CustomerTenantId, TenantId or CustomerId property (a GDAP relationship, a fraud event, a
    /// customer from another module). Any other object is refused with what to give instead:
    /// PowerShell would otherwise bind it by its type name ("PartnerSecurity.Models.MfaCoverage")
    /// and the tenant lookup fail as "not found". Runs before PowerShell binds a piped object by
    /// property name, so the properties are read here.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class TenantArgumentAttribute : ArgumentTransformationAttribute
    {
        /// <summary>The properties that name a tenant, the most specific first.</summary>
        private static readonly string[] TenantProperties = { "CustomerTenantId", "TenantId", "CustomerId" };

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            if (Unwrapped(inputData) is IEnumerable items and not string)
            {
                var tenants = new List<string?>();
                foreach (var item in items)
                {
                    tenants.Add(Single(item));
                }
                return tenants.ToArray();
            }
            return Single(inputData);
        }

        private static object? Unwrapped(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

        private static string? Single(object? item)
        {
            var value = Unwrapped(item);
            if (value is null || value is string || value is Guid)
            {
                return value?.ToString();
            }
            var properties = PSObject.AsPSObject(item).Properties;
            foreach (var name in TenantProperties)
            {
                if (Unwrapped(properties[name]?.Value) is { } named && (named is string || named is Guid))
                {
                    return named.ToString();
                }
            }
            throw new ArgumentTransformationMetadataException(
                $"The {value.GetType().Name} object is not a tenant and has no CustomerTenantId, TenantId or CustomerId property: give tenant ids or verified domains, " +
                "or objects that name one (Get-PartnerGdapRelationship writes them: Get-PartnerGdapRelationship | Where-Object Status -EQ active | Get-PartnerUserSignInActivity).");
        }
    }
}
