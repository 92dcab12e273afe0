using System;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Text.Json;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// Turns sign-in records (JSON with Graph's names, or the Graph SDK's PascalCase ones) into
    /// <see cref="SignIn"/> objects, with the PascalCase names scripts written for the
    /// PartnerCenter module use either way, and an <c>MfaDetail</c> that holds nothing as null. A
    /// record this version cannot type (a nested property Graph added, a value of an unexpected
    /// kind) becomes a PowerShell object of the same shape instead, with the same type name, so no
    /// sign-in and no property is lost.
    /// </summary>
    public static class SignInRecords
    {
        /// <summary>The type name of a sign-in, which selects the default table view.</summary>
        public const string TypeName = "PartnerSecurity.Models.SignIn";

        /// <summary>
        /// Reads the record the reader is on (its start) into a <see cref="SignIn"/>, or a
        /// <see cref="PSObject"/> when the record has what the type lacks; leaves the reader on
        /// the record's end.
        /// </summary>
        internal static object Read(ref Utf8JsonReader reader)
        {
            var start = reader;
            try
            {
                return Typed(SignInReader.Read(ref reader));
            }
            catch (JsonException)
            {
                // Read it again, untyped.
            }
            reader = start;
            using var document = JsonDocument.ParseValue(ref reader);
            return UntypedRecord(document.RootElement);
        }

        /// <summary><see cref="Read"/> for a record already parsed, from the tenant <paramref name="tenantId"/>.</summary>
        internal static object ToOutput(JsonElement record, string? tenantId)
        {
            // A reader over the element's text: one typed-or-untyped read for both (an element
            // cannot hand a reader its bytes; these records are few, from an assessment).
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(record.GetRawText()));
            reader.Read();
            var output = Read(ref reader);
            SetTenant(output, tenantId);
            return output;
        }

        /// <summary>Sets TenantId on an output object that has none from Graph.</summary>
        internal static void SetTenant(object output, string? tenantId)
        {
            if (tenantId == null)
            {
                return;
            }
            switch (output)
            {
                case SignIn signIn:
                    signIn.TenantId ??= tenantId;
                    break;
                case PSObject { BaseObject: SignIn wrapped }:
                    wrapped.TenantId ??= tenantId;
                    break;
                case PSObject untyped when untyped.Properties["TenantId"] == null:
                    untyped.Properties.Add(new PSNoteProperty("TenantId", tenantId));
                    break;
            }
        }

        /// <summary>A typed record as output: its untyped properties converted, and a <see cref="PSObject"/> when it has properties the type lacks.</summary>
        private static object Typed(SignIn signIn)
        {
            signIn.ConditionalAccessAudiences = Untyped(signIn.ConditionalAccessAudiences, nameof(SignIn.ConditionalAccessAudiences));
            signIn.PrivateLinkDetails = Untyped(signIn.PrivateLinkDetails, nameof(SignIn.PrivateLinkDetails));
            signIn.AuthenticationAppDeviceDetails = Untyped(signIn.AuthenticationAppDeviceDetails, nameof(SignIn.AuthenticationAppDeviceDetails));
            signIn.AuthenticationAppPolicyEvaluationDetails = Untyped(signIn.AuthenticationAppPolicyEvaluationDetails, nameof(SignIn.AuthenticationAppPolicyEvaluationDetails));
            signIn.AppliedEventListeners = Untyped(signIn.AppliedEventListeners, nameof(SignIn.AppliedEventListeners));
            if (signIn.Unknown is not { Count: > 0 } unknown)
            {
                return signIn;
            }
            var output = PSObject.AsPSObject(signIn);
            foreach (var (name, value) in unknown)
            {
                output.Properties.Add(new PSNoteProperty(name, Convert(value, name)));
            }
            signIn.Unknown = null;
            return output;
        }

        /// <summary>A property typed <c>object</c> arrives as a <see cref="JsonElement"/>; scripts get PowerShell values.</summary>
        private static object? Untyped(object? value, string name) => value is JsonElement element ? Convert(element, name) : value;

        private static PSObject UntypedRecord(JsonElement record)
        {
            var result = Convert(record, null) as PSObject ?? new PSObject();
            result.TypeNames.Insert(0, TypeName);
            return result;
        }

        /// <summary>Graph's property name as the Graph SDK wrote it: its first letter a capital (mfaDetail: MfaDetail; @odata.type as it is).</summary>
        internal static string Pascal(string name) =>
            name.Length > 0 && name[0] is >= 'a' and <= 'z' ? string.Concat(char.ToUpperInvariant(name[0]).ToString(), name.AsSpan(1)) : name;

        /// <summary>An MFA detail with nothing in it, as Graph sends for a sign-in without MFA.</summary>
        internal static bool IsEmpty(MfaDetail? detail) => detail != null && string.IsNullOrEmpty(detail.AuthMethod) && string.IsNullOrEmpty(detail.AuthDetail);

        /// <summary>An object whose values are all null or empty text (an MFA detail with nothing in it).</summary>
        private static bool IsEmpty(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            foreach (var property in value.EnumerateObject())
            {
                var kind = property.Value.ValueKind;
                if (kind != JsonValueKind.Null && !(kind == JsonValueKind.String && property.Value.GetString()!.Length == 0))
                {
                    return false;
                }
            }
            return true;
        }

        private static object? Convert(JsonElement value, string? name)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    var obj = new PSObject();
                    foreach (var property in value.EnumerateObject())
                    {
                        var pascal = Pascal(property.Name);
                        var converted = pascal == nameof(SignIn.MfaDetail) && IsEmpty(property.Value) ? null : Convert(property.Value, pascal);
                        // Two names that meet as PascalCase (id, Id): the later stands.
                        if (obj.Properties[pascal] is { } earlier)
                        {
                            earlier.Value = converted;
                        }
                        else
                        {
                            obj.Properties.Add(new PSNoteProperty(pascal, converted));
                        }
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
