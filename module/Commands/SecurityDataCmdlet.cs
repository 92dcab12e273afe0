using System;
using System.Text.Json;
using PartnerSecurity.Native;

namespace PartnerSecurity.Commands
{
    /// <summary>
    /// Base of the assessment's building-block cmdlets: reads one kind of data of the connected
    /// tenant through the native library (the same reads the assessment's checks use).
    /// </summary>
    public abstract class SecurityDataCmdlet : PartnerCmdlet
    {
        /// <summary>Reads <paramref name="kind"/> and writes each item as <typeparamref name="T"/>; failures terminate.</summary>
        private protected void WriteData<T>(string kind, int? signInDays = null, string[]? breakGlassAccounts = null, Func<JsonElement, object>? shape = null)
        {
            var request = new AssessmentRequest { Kind = kind, SignInDays = signInDays, BreakGlassAccounts = breakGlassAccounts ?? Array.Empty<string>() };
            JsonElement items;
            try
            {
                items = Await(NativeClient.CallAsync<JsonElement>((n, r, ct) => n.ReadSecurityData(r, ct), request, CancellationToken));
            }
            catch (PartnerSecurityException failure)
            {
                ThrowTerminatingError(ErrorFor(failure, kind));
                return;
            }
            if (items.ValueKind != JsonValueKind.Array)
            {
                return;
            }
            foreach (var item in items.EnumerateArray())
            {
                WriteObject(shape != null ? shape(item) : item.Deserialize<T>(NativeClient.Json));
            }
        }
    }
}
