using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace PartnerSecurity.Native
{
    /// <summary>What the native library says the user must do to finish a sign-in.</summary>
    internal sealed class SignInStarted
    {
        public string Id { get; set; } = string.Empty;

        /// <summary><c>Browser</c> or <c>DeviceCode</c>.</summary>
        public string Kind { get; set; } = string.Empty;

        public string? Url { get; set; }

        public string? RedirectUri { get; set; }

        public string? Message { get; set; }

        public string? UserCode { get; set; }

        public long? ExpiresInSeconds { get; set; }
    }

    /// <summary>
    /// Runs an interactive sign-in for a cmdlet: begins it in the native library, shows the user
    /// what to do (opens the browser, or writes the device-code message as a warning), and waits
    /// for the outcome; Ctrl+C abandons it.
    /// </summary>
    internal static class InteractiveSignIn
    {
        /// <summary>
        /// The command that opens the sign-in URL, when set (the Unix <c>BROWSER</c> convention);
        /// otherwise the system's default browser. Headless runs and tests point it at a script.
        /// </summary>
        internal const string BrowserVariable = "BROWSER";

        internal static T Run<T>(PSCmdlet cmdlet, SignInRequest request, Func<PartnerSecurityNative, Utf8String, CancellationToken, Task<Reply>> finish, CancellationToken cancellationToken, string deviceCodeHint)
        {
            return Run(
                cmdlet,
                () => NativeClient.CallAsync<SignInStarted>((n, r, ct) => n.BeginSignIn(r, ct), request, cancellationToken),
                id => NativeClient.CallWithTextAsync<T>(finish, id, cancellationToken),
                cancellationToken,
                deviceCodeHint);
        }

        /// <summary>
        /// The same for any begin/finish pair (a Secure Application Model consent begins with the
        /// profile's checks and finishes by saving it).
        /// </summary>
        internal static T Run<T>(PSCmdlet cmdlet, Func<Task<SignInStarted>> begin, Func<string, Task<T>> finish, CancellationToken cancellationToken, string deviceCodeHint)
        {
            var started = Await(begin(), cancellationToken);
            try
            {
                if (started.Kind == "DeviceCode")
                {
                    // As the PartnerCenter module: the device-code message goes out as a warning.
                    cmdlet.WriteWarning(started.Message ?? $"Open {started.Url} and enter the code {started.UserCode}.");
                }
                else
                {
                    Show(cmdlet, started.Url ?? string.Empty, deviceCodeHint);
                }
                return Await(finish(started.Id), cancellationToken);
            }
            catch
            {
                // Closes the redirect listener of a sign-in that will not finish (no-op when done).
                NativeClient.Call<bool>((n, id) => n.AbandonSignIn(id), started.Id);
                throw;
            }
        }

        private static void Show(PSCmdlet cmdlet, string url, string deviceCodeHint)
        {
            if (TryOpenBrowser(url, out var how))
            {
                cmdlet.WriteWarning($"We have launched a browser for you to login ({how}). For the old experience with device code flow, please run '{deviceCodeHint}'.");
            }
            else
            {
                cmdlet.WriteWarning($"No browser could be opened. Open this address in a browser on this computer to sign in (the answer returns to a listener on this machine), or stop with Ctrl+C and run '{deviceCodeHint}' to sign in on another device: {url}");
            }
        }

        /// <summary>
        /// How long a launcher has to fail before the page counts as opened: xdg-open without a
        /// browser exits with an error within milliseconds, while a browser run in the foreground
        /// (BROWSER=firefox) keeps running.
        /// </summary>
        private static readonly TimeSpan LauncherVerdict = TimeSpan.FromSeconds(2);

        private static bool TryOpenBrowser(string url, out string how)
        {
            var command = Environment.GetEnvironmentVariable(BrowserVariable);
            try
            {
                if (!string.IsNullOrWhiteSpace(command))
                {
                    var start = new ProcessStartInfo(command) { UseShellExecute = false };
                    start.ArgumentList.Add(url);
                    using var process = Process.Start(start);
                    how = $"${BrowserVariable}";
                    return process is not null && !FailedAtOnce(process);
                }
                // Windows hands the address to the browser already running and returns no process:
                // that is success. Elsewhere the launcher (xdg-open, open) is a process of its own.
                using var shell = Process.Start(new ProcessStartInfo(url) { UseShellExecute = true });
                how = "default browser";
                return shell is null || !FailedAtOnce(shell);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException || e is PlatformNotSupportedException)
            {
                how = string.Empty;
                return false;
            }
        }

        private static bool FailedAtOnce(Process launcher) => launcher.WaitForExit(LauncherVerdict) && launcher.ExitCode != 0;

        private static T Await<T>(Task<T> task, CancellationToken cancellationToken)
        {
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }
    }
}
