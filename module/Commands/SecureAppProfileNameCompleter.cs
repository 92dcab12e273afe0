using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>Tab-completes the names of the Secure Application Model profiles in PARTNERSECURITY_HOME, the default one first.</summary>
    public sealed class SecureAppProfileNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            ProfileList list;
            try
            {
                list = SecureAppProfiles.List();
            }
            catch (PartnerSecurityException)
            {
                // A missing or unreadable profile folder completes nothing; the cmdlet says why.
                yield break;
            }
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var matching = list.Profiles
                .Where(p => p.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(p => string.Equals(p.Name, list.Default, StringComparison.OrdinalIgnoreCase))
                .ThenBy(p => p.Name, StringComparer.OrdinalIgnoreCase);
            foreach (var profile in matching)
            {
                yield return new CompletionResult(profile.Name, profile.Name, CompletionResultType.ParameterValue, Describe(profile, list.Default));
            }
        }

        /// <summary>What the list shows beside a name: the app, the tenant, and whether it is the default (no secret: the profile holds none).</summary>
        private static string Describe(SecureAppProfile profile, string? defaultName)
        {
            var isDefault = string.Equals(profile.Name, defaultName, StringComparison.OrdinalIgnoreCase) ? " (default)" : string.Empty;
            return $"{profile.Name}{isDefault}: application {profile.ApplicationId}, tenant {profile.Tenant}, {profile.Environment}";
        }
    }
}
