using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Assesses the connected partner tenant against the partner security requirements: one check
    /// per requirement, each writing findings with evidence and remediation. A permission or
    /// licence the tenant lacks becomes an Error finding that says what to grant, never a pass.
    /// With -OutputPath it writes an HTML, JSON and CSV report; with -FailOn it ends with a
    /// terminating error when a finding is at or above that status (for CI).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "PartnerSecurityAssessment", SupportsShouldProcess = true)]
    [OutputType(typeof(SecurityFinding))]
    public sealed class InvokePartnerSecurityAssessment : PartnerCmdlet
    {
        private const string Activity = "Partner security assessment";
        private const int ProgressId = 1;

        [Parameter(Position = 0)]
        [ValidateSet("MfaCoverage", "SignInEvidence", "MfaConfiguration", "LegacyAuthentication", "SecureApplicationModel", "AdminAgents", "GdapLeastPrivilege", "FraudNotifications", "SecurityScore", "MfaReadiness", "FederatedMfa")]
        public string[] Check { get; set; } = Array.Empty<string>();

        [Parameter]
        [ValidateRange(1, 30)]
        public int SignInDays { get; set; } = 7;

        [Parameter]
        [ValidateNotNull]
        public string[] BreakGlassAccount { get; set; } = Array.Empty<string>();

        [Parameter]
        [ValidateRange(0, 730)]
        public int ExpiringWithinDays { get; set; } = 30;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? OutputPath { get; set; }

        [Parameter]
        [ValidateSet("Warn", "Fail")]
        public string? FailOn { get; set; }

        protected override void EndProcessing()
        {
            var request = new AssessmentRequest { Checks = Check, SignInDays = SignInDays, BreakGlassAccounts = BreakGlassAccount, ExpiringWithinDays = ExpiringWithinDays };
            AssessmentStarted started;
            try
            {
                started = NativeClient.Call<AssessmentStarted>((n, r) => n.StartAssessment(r), System.Text.Json.JsonSerializer.Serialize(request, NativeClient.Json));
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, null));
                return;
            }

            var counts = new Dictionary<FindingStatus, int>();
            try
            {
                for (var i = 0; i < started.Checks.Length; i++)
                {
                    var check = started.Checks[i];
                    ReportProgress(ProgressId, Activity, $"Check {i + 1} of {started.Checks.Length}: {check}", i * 100 / started.Checks.Length);
                    SecurityFinding[] findings;
                    try
                    {
                        findings = Await(NativeClient.CallAsync<SecurityFinding[]>((n, r, ct) => n.RunAssessmentCheck(r, ct), new CheckRequest { AssessmentId = started.AssessmentId, Check = check }, CancellationToken));
                    }
                    catch (PartnerSecurityException failure)
                    {
                        ThrowTerminatingError(ErrorFor(failure, check));
                        return;
                    }
                    foreach (var finding in findings)
                    {
                        counts[finding.Status] = counts.GetValueOrDefault(finding.Status) + 1;
                        WriteObject(finding);
                    }
                }
                if (OutputPath != null)
                {
                    WriteReports(started.AssessmentId);
                }
            }
            finally
            {
                // Ctrl+C ends up here too: the assessment and what it read are forgotten.
                try { NativeClient.Call<bool>((n, id) => n.CloseAssessment(id), started.AssessmentId); } catch (PartnerSecurityException) { }
                CompleteProgress(ProgressId, Activity, "Done");
            }
            EnforceFailOn(counts);
        }

        private void WriteReports(string assessmentId)
        {
            var directory = GetUnresolvedProviderPathFromPSPath(OutputPath);
            var baseName = $"PartnerSecurityAssessment-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            if (!ShouldProcess(Path.Combine(directory, baseName + ".{html,json,csv}"), "Write assessment reports"))
            {
                return;
            }
            try
            {
                var written = NativeClient.Call<string[]>((n, r) => n.WriteAssessmentReport(r), System.Text.Json.JsonSerializer.Serialize(new ReportRequest { AssessmentId = assessmentId, Directory = directory, BaseName = baseName }, NativeClient.Json));
                foreach (var path in written)
                {
                    WriteVerbose($"Wrote {path}");
                }
            }
            catch (PartnerSecurityException failure)
            {
                WriteError(ErrorFor(failure, OutputPath));
            }
        }

        /// <summary>-FailOn Fail stops on Fail and Error findings; -FailOn Warn also on Warn.</summary>
        private void EnforceFailOn(Dictionary<FindingStatus, int> counts)
        {
            if (FailOn == null)
            {
                return;
            }
            var failing = new List<FindingStatus> { FindingStatus.Fail, FindingStatus.Error };
            if (FailOn == "Warn")
            {
                failing.Add(FindingStatus.Warn);
            }
            var found = 0;
            var parts = new List<string>();
            foreach (var status in failing)
            {
                var n = counts.GetValueOrDefault(status);
                found += n;
                parts.Add($"{n} {status}");
            }
            if (found > 0)
            {
                var message = $"The assessment found {string.Join(", ", parts)} finding(s), at or above -FailOn {FailOn}. Review the findings' Evidence and Remediation (or the -OutputPath report).";
                ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(message), "AssessmentFailed", ErrorCategory.InvalidResult, FailOn));
            }
        }
    }
}
