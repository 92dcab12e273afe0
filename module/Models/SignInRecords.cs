using System;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// Turns sign-in records (JSON with the Graph SDK's PascalCase names) into PowerShell objects
    /// shaped like the PartnerCenter module's <c>Microsoft.Graph.SignIn</c>: nested objects are
    /// objects (<c>$_.Status.ErrorCode</c>), collections are arrays, <c>*DateTime</c> values are
    /// <see cref="DateTimeOffset"/>, and a missing <c>MfaDetail</c> is <c>$null</c>.
    /// </summary>
    public static class SignInRecords
    {
        /// <summary>The type name of a sign-in, which selects the default table view.</summary>
        public const string TypeName = "PartnerSecurity.SignIn";

        internal static PSObject ToPSObject(JsonElement record, string? tenantId)
        {
            var result = (PSObject)Convert(record, null)!;
            result.TypeNames.Insert(0, TypeName);
            if (tenantId != null && result.Properties["TenantId"] == null)
            {
                result.Properties.Add(new PSNoteProperty("TenantId", tenantId));
            }
            return result;
        }

        private static object? Convert(JsonElement value, string? name)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    var obj = new PSObject();
                    foreach (var property in value.EnumerateObject())
                    {
                        obj.Properties.Add(new PSNoteProperty(property.Name, Convert(property.Value, property.Name)));
                    }
                    return obj;
                case JsonValueKind.Array:
                    var items = new object?[value.GetArrayLength()];
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        items[i++] = Convert(item, name);
                    }
                    return items;
                case JsonValueKind.String:
                    var text = value.GetString();
                    if (text != null && name != null && name.EndsWith("DateTime", StringComparison.Ordinal)
                        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                    {
                        return when;
                    }
                    return text;
                case JsonValueKind.Number:
                    if (value.TryGetInt32(out var i32)) return i32;
                    if (value.TryGetInt64(out var i64)) return i64;
                    return value.GetDouble();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                default:
                    return null;
            }
        }
    }
}
