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
    /// <summary>Tab-completes environment names: the Azure clouds and the custom ones registered in this session.</summary>
    public sealed class EnvironmentNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            IEnumerable<PartnerEnvironment> environments;
            try
            {
                environments = NativeClient.Call<PartnerEnvironment[]>(n => n.Environments());
            }
            catch (PartnerSecurityException)
            {
                yield break;
            }
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            foreach (var env in environments.Where(e => e.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                yield return new CompletionResult(env.Name, env.Name, CompletionResultType.ParameterValue, $"{env.Name}: {env.ActiveDirectoryAuthority}");
            }
        }
    }
}
