using System.Linq;
using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Lists Secure Application Model profiles, or gets them by name (wildcards allowed), or the
    /// default one. Shows where the secrets are, never their values.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PartnerSecureAppProfile", DefaultParameterSetName = ByNameParameterSet)]
    [OutputType(typeof(SecureAppProfile))]
    public sealed class GetPartnerSecureAppProfile : PartnerCmdlet
    {
        private const string ByNameParameterSet = "ByName";
        private const string DefaultParameterSet = "Default";

        [Parameter(ParameterSetName = ByNameParameterSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Profile names; wildcards are allowed.")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SecureAppProfileNameCompleter))]
        public string[]? Name { get; set; }

        [Parameter(ParameterSetName = DefaultParameterSet, Mandatory = true, HelpMessage = "Get the default profile (PARTNERSECURITY_PROFILE first).")]
        public SwitchParameter Default { get; set; }

        private ProfileList? _list;

        protected override void ProcessRecord()
        {
            try
            {
                if (Default)
                {
                    var profile = SecureAppProfiles.Default();
                    if (profile is null)
                    {
                        WriteError(ErrorFor("NoDefaultProfile", "No profile is the default. Make one the default with Set-PartnerSecureAppProfile -Default, or set PARTNERSECURITY_PROFILE.", ErrorCategory.ObjectNotFound, null));
                    }
                    else
                    {
                        WriteObject(profile);
                    }
                    return;
                }
                _list ??= Load();
                if (Name is null)
                {
                    WriteObject(_list.Profiles, enumerateCollection: true);
                    return;
                }
                foreach (var name in Name)
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    var found = _list.Profiles.Where(p => pattern.IsMatch(p.Name)).ToArray();
                    if (found.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        WriteError(ErrorFor("ProfileNotFound", $"There is no profile named '{name}' in {_list.Directory}. List them with Get-PartnerSecureAppProfile, or create one with New-PartnerSecureAppProfile.", ErrorCategory.ObjectNotFound, name));
                    }
                    WriteObject(found, enumerateCollection: true);
                }
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, Name));
            }
        }

        private ProfileList Load()
        {
            var list = SecureAppProfiles.List();
            foreach (var bad in list.Unreadable)
            {
                WriteWarning($"'{bad.Path}' is not a readable profile: {bad.Reason}");
            }
            return list;
        }
    }
}
