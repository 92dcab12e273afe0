using System;
using System.Diagnostics;
using System.Management.Automation;
using PartnerSecurity.Models;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Gets sign-in activity from Microsoft Graph (<c>auditLogs/signIns</c>, beta by default like
    /// the PartnerCenter module). Same name, alias and parameters as PartnerCenter 3.0.10, plus
    /// filters, -Property and -Tenant. Sign-ins are written as pages arrive, newest first, with
    /// the Graph SDK's property names; dates are sent in UTC.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "PartnerUserSignInActivity", DefaultParameterSetName = AnyOutcomeSet)]
    [Alias("Get-PartnerUserSignActivity")]
    [OutputType(typeof(SignIn))]
    public sealed class GetPartnerUserSignInActivity : SignInQueryCmdlet
    {
        private const int ProgressId = 1;
        private const string Activity = "Reading sign-in activity";

        /// <summary>
        /// The least time between progress updates after the first page's: each costs the host about
        /// a millisecond, and pages can arrive hundreds a second.
        /// </summary>
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

        protected override void EndProcessing()
        {
            if (NothingPiped)
            {
                return;
            }
            var request = BuildQuery();
            CursorOpened opened;
            try
            {
                opened = Await(NativeClient.CallAsync<CursorOpened>((n, r, ct) => n.OpenSignIns(r, ct), request, CancellationToken));
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, request.Tenant.Length == 1 ? request.Tenant[0] : null));
                return;
            }
            foreach (var warning in opened.Warnings)
            {
                WriteWarning(warning);
            }

            ReportProgress(ProgressId, Activity, "Waiting for the first page");
            var sinceProgress = new Stopwatch();
            try
            {
                while (true)
                {
                    SignInBatch batch;
                    try
                    {
                        batch = Await(NativeClient.CallWithTextAsync((n, id, ct) => n.NextSignIns(id, ct), opened.CursorId, SignInBatch.Read, CancellationToken));
                    }
                    catch (PartnerSecurityException failure)
                    {
                        ThrowTerminatingError(ErrorFor(failure, null));
                        return;
                    }
                    var header = batch.Header;
                    if (header.Error != null)
                    {
                        WriteTenantError(header.Error.ToException(header.Tenant), header.Tenant);
                    }
                    foreach (var record in batch.Records)
                    {
                        WriteObject(record);
                    }
                    if (header.Done)
                    {
                        break;
                    }
                    if (!sinceProgress.IsRunning || sinceProgress.Elapsed >= ProgressInterval)
                    {
                        ReportProgress(ProgressId, Activity, $"{header.Fetched} sign-ins, {header.Pages} pages" + (header.Tenant != null ? $" (tenant {header.Tenant})" : string.Empty));
                        sinceProgress.Restart();
                    }
                }
            }
            finally
            {
                // Ctrl+C ends up here too: stop the background requests.
                try { NativeClient.Call<bool>((n, id) => n.CloseSignIns(id), opened.CursorId); } catch (PartnerSecurityException) { }
                CompleteProgress(ProgressId, Activity, "Done");
            }
        }
    }
}
