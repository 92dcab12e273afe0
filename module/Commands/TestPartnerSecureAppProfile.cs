using System.Management.Automation;
using System.Security;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Checks a Secure Application Model profile: is its refresh token stored, how long since it
    /// was last used against Entra ID's 90-day inactivity limit, did its last token prove MFA,
    /// which scopes were consented, and what to do when something is close to failing.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "PartnerSecureAppProfile")]
    [OutputType(typeof(SecureAppProfileHealth))]
    public sealed class TestPartnerSecureAppProfile : PartnerCmdlet
    {
        [Parameter(Mandatory = false, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Name of the profile; the default profile when left out.")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SecureAppProfileNameCompleter))]
        public string? Name { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Passphrase of the encrypted file store (default: PARTNERSECURITY_SECRET_PASSPHRASE).")]
        public SecureString? Passphrase { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var reply = Await(NativeClient.CallAsync<HealthReply>((n, r, ct) => n.SamHealth(r, ct), HealthRequest(), CancellationToken));
                var result = reply.Health;
                result.ApplicationId = reply.Profile.ApplicationId;
                result.Tenant = reply.Profile.Tenant;
                result.ApplicationCredentials = reply.ApplicationCredentials;
                result.ApplicationCredentialsProblem = reply.ApplicationCredentialsProblem;
                if (reply.ApplicationCredentialsProblem is not null)
                {
                    WriteVerbose(reply.ApplicationCredentialsProblem);
                }
                if (!result.Healthy)
                {
                    WriteWarning($"Profile '{result.Profile}': {result.Advice}");
                }
                WriteObject(result);
            }
            catch (PartnerSecurityException failure)
            {
                WriteError(ErrorFor(failure, Name));
            }
        }

        /// <summary>
        /// Opens the profile as an exchange would: a certificate profile needs its certificate
        /// (from CurrentUser\My) to read the store and ask Graph about the application. When the
        /// certificate cannot be loaded the check still runs and says so in its advice.
        /// </summary>
        private SamRequest HealthRequest()
        {
            var passphrase = SecureAppProfiles.Plain(Passphrase);
            var plain = new SamRequest { Name = Name, Passphrase = passphrase };
            var profile = SecureAppProfiles.Get(Name);
            if (profile?.CertificateThumbprint is null)
            {
                return plain;
            }
            try
            {
                return SecureAppProfiles.Open(profile, passphrase);
            }
            catch (PartnerSecurityException failure)
            {
                WriteVerbose($"The certificate of profile '{profile.Name}' could not be loaded: {failure.Message}");
                return plain;
            }
        }
    }
}
