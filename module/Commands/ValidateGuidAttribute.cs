using System;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Accepts object and application ids: a GUID, optionally in braces, in any case (the
    /// PartnerCenter module's pattern). The error says what an id looks like, where
    /// ValidatePattern would show its regular expression.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateGuidAttribute : ValidateEnumeratedArgumentsAttribute
    {
        private static readonly Regex GuidText = new(
            @"^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        protected override void ValidateElement(object element)
        {
            var text = element?.ToString() ?? string.Empty;
            if (!GuidText.IsMatch(text))
            {
                var shown = text.Length > 60 ? text.Substring(0, 60) + "..." : text;
                throw new ValidationMetadataException(
                    $"'{shown}' is not an id: give a GUID, 32 hexadecimal digits in groups of 8-4-4-4-12 such as 3dd89389-b34c-4f5a-975d-516df5694d7e, as the Entra admin center shows it.");
            }
        }
    }
}
