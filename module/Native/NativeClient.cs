using System;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;

namespace PartnerSecurity.Native
{
    /// <summary>
    /// The module's one door to the Rust library: owns the native service, turns each
    /// <see cref="Reply"/> into a value or a <see cref="PartnerSecurityException"/>, and moves
    /// requests and answers as JSON. Cmdlets never touch the generated interop types directly.
    /// </summary>
    internal static class NativeClient
    {
        /// <summary>
        /// The generated marshaller copies strings through the stack; a request larger than this is
        /// refused before it gets there (no legitimate request comes close).
        /// </summary>
        internal const int MaxRequestBytes = 256 * 1024;

        private static readonly Lazy<PartnerSecurityNative> Service = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

        internal static readonly JsonSerializerOptions Json = new()
        {
            PropertyNameCaseInsensitive = true,
            Converters = { new JsonStringEnumConverter() },
        };

        private static PartnerSecurityNative Create()
        {
            NativeLoader.Register();
            try
            {
                return PartnerSecurityNative.Create();
            }
            catch (Exception e) when (e is DllNotFoundException || e is TypeInitializationException || e is TypeLoadException || e is EntryPointNotFoundException)
            {
                throw new PartnerSecurityException(
                    FailureKind.Internal,
                    "NativeLibraryNotLoaded",
                    $"The native library of PartnerSecurity could not be loaded ({e.GetBaseException().Message}). Paths tried: {string.Join(", ", NativeLoader.Candidates())}. Reinstall the module for this platform.");
            }
        }

        /// <summary>Loads the native library now, so a broken install fails at Import-Module.</summary>
        internal static void EnsureLoaded() => _ = Service.Value;

        internal static T Call<T>(Func<PartnerSecurityNative, Reply> call)
        {
            return Read<T>(call(Service.Value));
        }

        internal static T Call<T>(Func<PartnerSecurityNative, Utf8String, Reply> call, string request)
        {
            return Read<T>(call(Service.Value, Argument(request)));
        }

        /// <summary>Sends <paramref name="request"/> as JSON to an async native call.</summary>
        internal static Task<T> CallAsync<T>(Func<PartnerSecurityNative, Utf8String, CancellationToken, Task<Reply>> call, object request, CancellationToken cancellationToken)
        {
            return CallWithTextAsync<T>(call, JsonSerializer.Serialize(request, Json), cancellationToken);
        }

        /// <summary>Sends <paramref name="text"/> as it is (an id, a name) to an async native call.</summary>
        internal static Task<T> CallWithTextAsync<T>(Func<PartnerSecurityNative, Utf8String, CancellationToken, Task<Reply>> call, string text, CancellationToken cancellationToken)
        {
            return CallWithTextAsync(call, text, Deserialize<T>, cancellationToken);
        }

        /// <summary>
        /// <see cref="CallWithTextAsync{T}(Func{PartnerSecurityNative, Utf8String, CancellationToken, Task{Reply}}, string, CancellationToken)"/>
        /// with a reader of its own: <paramref name="read"/> reads the payload from the native UTF-8
        /// bytes (large answers, such as a page of sign-ins).
        /// </summary>
        internal static async Task<T> CallWithTextAsync<T>(Func<PartnerSecurityNative, Utf8String, CancellationToken, Task<Reply>> call, string text, ReadUtf8<T> read, CancellationToken cancellationToken)
        {
            Reply reply;
            try
            {
                reply = await call(Service.Value, Argument(text), cancellationToken).ConfigureAwait(false);
            }
            catch (TaskCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            return Read(reply, read);
        }

        internal delegate T ReadUtf8<T>(ReadOnlySpan<byte> json);

        /// <summary>Copies a string into Rust memory after checking its size.</summary>
        internal static Utf8String Argument(string value)
        {
            if (Encoding.UTF8.GetByteCount(value) > MaxRequestBytes)
            {
                var parameter = LongestProperty(value);
                var which = parameter is null ? "a parameter value" : $"the value of parameter '{parameter}'";
                throw new PartnerSecurityException(FailureKind.InvalidInput, "RequestTooLarge", $"The request is larger than {MaxRequestBytes / 1024} KiB: {which} is far longer than any valid token, scope or name.");
            }
            return value.Utf8();
        }

        /// <summary>The request property (named like the cmdlet parameter) with the longest text, to name it in the error.</summary>
        private static string? LongestProperty(string json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }
                string? longest = null;
                var length = -1;
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    var size = property.Value.GetRawText().Length;
                    if (size > length)
                    {
                        (longest, length) = (property.Name, size);
                    }
                }
                return longest;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static T Read<T>(Reply reply) => Read(reply, Deserialize<T>);

        private static T Deserialize<T>(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<T>(json, Json)!;

        /// <summary>The payload of <paramref name="reply"/> read by <paramref name="read"/>, or its failure; frees the reply.</summary>
        private static T Read<T>(Reply reply, ReadUtf8<T> read)
        {
            var code = reply.code.IntoString();
            var message = reply.message.IntoString();
            using var json = reply.json;
            if (!reply.status.IsOk)
            {
                throw new PartnerSecurityException(PartnerSecurityException.KindOf(reply.status), code, message);
            }
            try
            {
                return read(json.Utf8);
            }
            catch (JsonException e)
            {
                throw new PartnerSecurityException(FailureKind.Internal, "UnreadableReply", $"The native library's answer could not be read ({e.Message}). This is a bug; please report it.");
            }
        }
    }
}
