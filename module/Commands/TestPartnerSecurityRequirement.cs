using System;
using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Signs in fresh and tests whether the account's access token proves multi-factor
    /// authentication (the <c>amr</c> claim contains <c>mfa</c>), as Partner Center checks it.
    /// Writes <c>pass</c> or <c>fail</c> like the PartnerCenter module; -Detailed writes an object.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "PartnerSecurityRequirement")]
    [OutputType(typeof(string), typeof(SecurityRequirementResult))]
    public sealed class TestPartnerSecurityRequirement : PartnerCmdlet
    {
        /// <summary>The Azure CLI public client, which the PartnerCenter module always uses here.</summary>
        private const string PowerShellApplicationId = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
        private const string WarningLink = "https://aka.ms/partnercenterps-psr-warning";

        [Parameter(Mandatory = false, HelpMessage = "Environment (cloud) to sign in to.")]
        [Alias("EnvironmentName")]
        [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string Environment { get; set; } = "AzureCloud";

        [Parameter(Mandatory = false)]
        [Alias("DeviceCode", "DeviceAuth", "Device")]
        public SwitchParameter UseDeviceAuthentication { get; set; }

        /// <summary>Writes a <see cref="SecurityRequirementResult"/> instead of the string.</summary>
        [Parameter(Mandatory = false)]
        public SwitchParameter Detailed { get; set; }

        protected override void ProcessRecord()
        {
            var request = new SignInRequest
            {
                Kind = SignInKind.Interactive,
                Environment = Environment,
                ApplicationId = PowerShellApplicationId,
                UseDeviceCode = UseDeviceAuthentication.IsPresent,
            };
            AuthResult token;
            var applicationId = PowerShellApplicationId;
            try
            {
                // With a default Secure Application Model profile, what runs unattended is that
                // profile: test the token it produces (a fresh exchange) instead of a person.
                var profile = UseDeviceAuthentication.IsPresent ? null : SecureAppProfiles.ForLegacyForm(IfGiven(nameof(Environment), Environment));
                if (profile is not null)
                {
                    var scope = $"{NativeClient.Call<PartnerEnvironment>((n, r) => n.FindEnvironment(r), profile.Environment).PartnerCenterEndpoint.TrimEnd('/')}/user_impersonation";
                    token = Await(NativeClient.CallAsync<ProfileToken>((n, r, ct) => n.SamExchange(r, ct), SecureAppProfiles.Open(profile, scopes: new[] { scope }), CancellationToken)).Token;
                    applicationId = profile.ApplicationId;
                    SecureAppProfiles.WarnOnce(this, profile, "Test-PartnerSecurityRequirement");
                }
                else
                {
                    token = InteractiveSignIn.Run<AuthResult>(this, request, (n, id, ct) => n.FinishSignInForToken(id, ct), CancellationToken, "Test-PartnerSecurityRequirement -UseDeviceAuthentication");
                }
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, Environment));
                return;
            }

            WriteDebug("Checking if the access token contains the MFA claim...");
            var result = new SecurityRequirementResult
            {
                Account = token.Account?.Username ?? token.UniqueId,
                TenantId = token.TenantId,
                ApplicationId = applicationId,
                AuthenticationMethods = token.AuthenticationMethods,
                HasAuthenticationMethodsClaim = token.AuthenticationMethods.Length > 0,
                CheckedOn = DateTimeOffset.UtcNow,
            };
            if (!result.HasAuthenticationMethodsClaim)
            {
                result.Reason = $"Unable to find the AMR claim, which means the ability to verify the MFA challenge happened will not be possible. See {WarningLink} for more information.";
                WriteWarning(result.Reason);
            }
            else if (!token.HasMfa)
            {
                result.Reason = $"Unable to determine if the account authenticated using MFA. See {WarningLink} for more information.";
                WriteWarning(result.Reason);
            }
            else
            {
                result.Result = "pass";
                result.Reason = $"The access token's authentication methods ({string.Join(", ", token.AuthenticationMethods)}) include multi-factor authentication.";
            }

            if (Detailed)
            {
                WriteObject(result);
            }
            else
            {
                WriteObject(result.Result);
            }
        }
    }
}
