using System;
using System.Management.Automation;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Base of every PartnerSecurity cmdlet: one cancellation source per invocation (Ctrl+C
    /// cancels the native work), and one way to turn native failures into error records.
    /// </summary>
    public abstract class PartnerCmdlet : PSCmdlet, IDisposable
    {
        private CancellationTokenSource? _cancellation;

        protected CancellationToken CancellationToken => (_cancellation ??= new CancellationTokenSource()).Token;

        protected override void StopProcessing()
        {
            _cancellation?.Cancel();
        }

        public void Dispose()
        {
            _cancellation?.Dispose();
            _cancellation = null;
            GC.SuppressFinalize(this);
        }

        /// <summary><paramref name="value"/> when the caller gave parameter <paramref name="name"/>, null when it holds its default.</summary>
        protected string? IfGiven(string name, string value) => MyInvocation.BoundParameters.ContainsKey(name) ? value : null;

        /// <summary>Waits for native work on the pipeline thread; Ctrl+C stops it.</summary>
        protected T Await<T>(Task<T> task)
        {
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (_cancellation?.IsCancellationRequested == true)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>An error record whose ErrorId is the failure's stable code (e.g. AADSTS700082).</summary>
        protected static ErrorRecord ErrorFor(PartnerSecurityException failure, object? target)
        {
            return new ErrorRecord(failure, failure.Code, failure.Category, target);
        }

        protected static ErrorRecord ErrorFor(string errorId, string message, ErrorCategory category, object? target)
        {
            return new ErrorRecord(new PSArgumentException(message), errorId, category, target);
        }

        /// <summary>
        /// Writes a progress update. A new record each time: hosts that keep records (a PowerShell
        /// instance's Streams.Progress, jobs, remoting) hold the object itself, not a copy.
        /// </summary>
        protected void ReportProgress(int activityId, string activity, string status, int percentComplete = -1)
        {
            WriteProgress(new ProgressRecord(activityId, activity, status) { PercentComplete = percentComplete });
        }

        /// <summary>Ends a progress bar; also on the way out of a stopped pipeline, where writing may fail.</summary>
        protected void CompleteProgress(int activityId, string activity, string status)
        {
            var done = new ProgressRecord(activityId, activity, status) { PercentComplete = 100, RecordType = ProgressRecordType.Completed };
            try { WriteProgress(done); } catch (PipelineStoppedException) { } catch (InvalidOperationException) { }
        }

        /// <summary>The password of a PSCredential, read only at the moment it is sent.</summary>
        protected static string PasswordOf(PSCredential credential)
        {
            return credential.GetNetworkCredential().Password;
        }
    }
}
