using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// The sign-in query parameters shared by Get-PartnerUserSignInActivity and
    /// Export-PartnerSignInActivity: the PartnerCenter module's -StartDate, -EndDate and -UserId,
    /// plus more filters, -Property, -Tenant (pipeline), -ApiVersion and the pacing of many
    /// tenants. The outcome filters are parameter sets: every sign-in, -Succeeded only, or
    /// -Failed (optionally narrowed by -ErrorCode).
    /// </summary>
    public abstract class SignInQueryCmdlet : PartnerCmdlet
    {
        /// <summary>The default set: sign-ins of any outcome (or those with the given -ErrorCode).</summary>
        internal const string AnyOutcomeSet = "AnyOutcome";
        internal const string SucceededSet = "Succeeded";
        internal const string FailedSet = "Failed";

        private readonly List<string> _tenants = new();

        /// <summary>Sign-ins at or after this time (a DateTime without a kind is local time).</summary>
        [Parameter(Mandatory = false, HelpMessage = "The start date of the activity logs.")]
        public DateTime? StartDate { get; set; }

        /// <summary>Sign-ins at or before this time.</summary>
        [Parameter(Mandatory = false, HelpMessage = "The end date of the activity logs.")]
        public DateTime? EndDate { get; set; }

        /// <summary>Object ids of users.</summary>
        [Parameter(Mandatory = false, HelpMessage = "The identifier for the user.")]
        [ValidateGuid]
        [ValidateNotNullOrEmpty]
        public string[]? UserId { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "User principal names of the users.")]
        [Alias("UPN")]
        [ValidateNotNullOrEmpty]
        public string[]? UserPrincipalName { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Application (client) ids of the applications signed in to.")]
        [Alias("AppId")]
        [ValidateGuid]
        [ValidateNotNullOrEmpty]
        public string[]? ApplicationId { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Client apps (clientAppUsed), e.g. Browser, IMAP4.")]
        [ArgumentCompleter(typeof(ClientAppCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? ClientApp { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Interactive user sign-ins (beta API).")]
        public SwitchParameter Interactive { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Non-interactive user sign-ins (beta API).")]
        public SwitchParameter NonInteractive { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Service principal sign-ins (beta API).")]
        public SwitchParameter ServicePrincipal { get; set; }

        /// <summary>AADSTS error codes (<c>status/errorCode</c>); 0 is success.</summary>
        [Parameter(Mandatory = false, ParameterSetName = AnyOutcomeSet, HelpMessage = "Sign-ins with any of these error codes (AADSTS numbers such as 50126; 0 is success).")]
        [Parameter(Mandatory = false, ParameterSetName = FailedSet, HelpMessage = "Failed sign-ins with any of these error codes (AADSTS numbers such as 50126).")]
        [ValidateRange(0, int.MaxValue)]
        [ValidateCount(1, 50)]
        public int[]? ErrorCode { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SucceededSet, HelpMessage = "Only sign-ins that succeeded (error code 0).")]
        public SwitchParameter Succeeded { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = FailedSet, HelpMessage = "Only sign-ins that failed (any error code but 0).")]
        public SwitchParameter Failed { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Properties to read ($select); Id and CreatedDateTime are always read.")]
        [ValidateNotNullOrEmpty]
        public string[]? Property { get; set; }

        [Parameter(Mandatory = false, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Tenant ids or domains; the connected tenant when left out.")]
        [Alias("TenantId", "CustomerId", "CustomerTenantId")]
        [TenantArgument]
        [ValidateNotNullOrEmpty]
        public string[]? Tenant { get; set; }

        [Parameter(Mandatory = false, HelpMessage = "Microsoft Graph version: beta (default) or v1.0.")]
        [ValidateSet("beta", "v1.0", IgnoreCase = true)]
        public string ApiVersion { get; set; } = "beta";

        /// <summary>Tenants read at the same time; each has its own throttle budget.</summary>
        [Parameter(Mandatory = false, HelpMessage = "How many tenants are read at the same time (default 4).")]
        [ValidateRange(1, 256)]
        public int? ThrottleLimit { get; set; }

        /// <summary>
        /// Sign-in report requests per 10 seconds per tenant and application. Graph documents 5;
        /// only a cloud or test service with another limit needs a different value.
        /// </summary>
        [Parameter(Mandatory = false, HelpMessage = "Sign-in report requests allowed per 10 seconds per tenant and application (default 5, Graph's limit).")]
        [ValidateRange(1, 10000)]
        public int? ThrottleBudget { get; set; }

        /// <summary>The window -ThrottleBudget counts in (Graph: 10 seconds).</summary>
        [Parameter(Mandatory = false, HelpMessage = "The window -ThrottleBudget counts requests in (default 10 seconds).")]
        public TimeSpan? ThrottleWindow { get; set; }

        /// <summary>Collects piped tenants; the query runs in EndProcessing, over all of them at once.</summary>
        protected override void ProcessRecord()
        {
            if (Tenant != null)
            {
                foreach (var t in Tenant)
                {
                    if (!string.IsNullOrWhiteSpace(t) && !_tenants.Contains(t.Trim(), StringComparer.OrdinalIgnoreCase))
                    {
                        _tenants.Add(t.Trim());
                    }
                }
            }
        }

        /// <summary>The tenants named so far (empty: the connected tenant).</summary>
        protected IReadOnlyList<string> Tenants => _tenants;

        /// <summary>
        /// Piped input that named no tenant (an empty customer list, say) means nothing to read:
        /// it must not silently fall back to the connected tenant.
        /// </summary>
        protected bool NothingPiped => MyInvocation.ExpectingInput && _tenants.Count == 0;

        /// <summary>UTC in ISO 8601; a DateTime of kind Unspecified is local time, as PowerShell gives it.</summary>
        internal static string? Utc(DateTime? value)
        {
            if (value == null) return null;
            var utc = value.Value.Kind == DateTimeKind.Utc ? value.Value : value.Value.ToUniversalTime();
            return utc.ToString("o", System.Globalization.CultureInfo.InvariantCulture);
        }

        internal SignInsRequest BuildQuery()
        {
            var events = new List<string>();
            if (Interactive) events.Add("Interactive");
            if (NonInteractive) events.Add("NonInteractive");
            if (ServicePrincipal) events.Add("ServicePrincipal");
            return new SignInsRequest
            {
                StartDate = Utc(StartDate),
                EndDate = Utc(EndDate),
                UserId = UserId ?? Array.Empty<string>(),
                UserPrincipalName = UserPrincipalName ?? Array.Empty<string>(),
                ApplicationId = ApplicationId ?? Array.Empty<string>(),
                ClientApp = ClientApp ?? Array.Empty<string>(),
                EventTypes = events.ToArray(),
                Property = Property ?? Array.Empty<string>(),
                Tenant = _tenants.ToArray(),
                ApiVersion = ApiVersion.ToLowerInvariant(),
                ErrorCode = ErrorCode ?? Array.Empty<int>(),
                Outcome = ParameterSetName switch
                {
                    SucceededSet => "Succeeded",
                    FailedSet => "Failed",
                    _ => null,
                },
                TenantConcurrency = ThrottleLimit,
                ThrottleRequests = ThrottleBudget,
                ThrottleWindowSeconds = ThrottleWindow?.TotalSeconds,
            };
        }

        /// <summary>A tenant's failure, written as a non-terminating error that names the tenant.</summary>
        protected void WriteTenantError(PartnerSecurityException failure, string? tenant)
        {
            WriteError(new ErrorRecord(failure, failure.Code, failure.Category, tenant));
        }
    }

    /// <summary>Tab-completes Graph's <c>clientAppUsed</c> values (api-contracts §3.7).</summary>
    public sealed class ClientAppCompleter : IArgumentCompleter
    {
        internal static readonly string[] Values =
        {
            "Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync", "Exchange Web Services", "AutoDiscover",
            "IMAP4", "POP3", "Authenticated SMTP", "MAPI Over HTTP", "Offline Address Book", "Outlook Anywhere (RPC over HTTP)",
            "Exchange Online PowerShell", "Reporting Web Services", "Universal Outlook", "Other clients", "Unknown",
        };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            foreach (var value in Values.Where(v => v.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                var text = value.Contains(' ') ? $"'{value}'" : value;
                var legacy = value is "Browser" or "Mobile Apps and Desktop clients" or "Unknown" ? "modern authentication" : "legacy authentication";
                yield return new CompletionResult(text, value, CompletionResultType.ParameterValue, $"{value} ({legacy})");
            }
        }
    }
}
