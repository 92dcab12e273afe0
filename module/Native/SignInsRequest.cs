using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;
using PartnerSecurity.Models;

namespace PartnerSecurity.Native
{
    /// <summary>What to read from the sign-in logs; serialised to the native library's <c>SignInsRequest</c>.</summary>
    internal sealed class SignInsRequest
    {
        /// <summary>UTC, ISO 8601 ("o").</summary>
        public string? StartDate { get; init; }

        public string? EndDate { get; init; }

        public string[] UserId { get; init; } = Array.Empty<string>();

        public string[] UserPrincipalName { get; init; } = Array.Empty<string>();

        public string[] ApplicationId { get; init; } = Array.Empty<string>();

        public string[] ClientApp { get; init; } = Array.Empty<string>();

        /// <summary><c>Interactive</c>, <c>NonInteractive</c>, <c>ServicePrincipal</c>.</summary>
        public string[] EventTypes { get; init; } = Array.Empty<string>();

        public string[] Property { get; init; } = Array.Empty<string>();

        public string[] Tenant { get; init; } = Array.Empty<string>();

        /// <summary><c>beta</c> or <c>v1.0</c>.</summary>
        public string ApiVersion { get; init; } = "beta";

        /// <summary>Any of these <c>status/errorCode</c> values.</summary>
        public int[] ErrorCode { get; init; } = Array.Empty<int>();

        /// <summary><c>Succeeded</c>, <c>Failed</c>, or null for any outcome.</summary>
        public string? Outcome { get; init; }

        /// <summary>Tenants read at the same time; null: the native default.</summary>
        public int? TenantConcurrency { get; init; }

        /// <summary>Requests per 10 s per tenant and application; null: Graph's 5.</summary>
        public int? ThrottleRequests { get; init; }

        /// <summary>The window of <see cref="ThrottleRequests"/>; null: 10 s.</summary>
        public double? ThrottleWindowSeconds { get; init; }
    }

    /// <summary>Export-PartnerSignInActivity's request (<c>ExportSignInsRequest</c>).</summary>
    internal sealed class ExportSignInsRequest
    {
        public SignInsRequest Query { get; init; } = new();

        public string Path { get; init; } = string.Empty;

        /// <summary><c>Jsonl</c> or <c>Csv</c>.</summary>
        public string Format { get; init; } = "Jsonl";

        public bool Resume { get; init; }

        public bool Force { get; init; }
    }

    /// <summary>A failure reported inside an answer (one tenant's, or an export's).</summary>
    internal sealed class NativeFailure
    {
        public string Status { get; init; } = "Internal";

        public string Code { get; init; } = string.Empty;

        public string Message { get; init; } = string.Empty;

        public PartnerSecurityException ToException(string? tenant = null)
        {
            var kind = Enum.TryParse<FailureKind>(Status, out var k) ? k : FailureKind.Internal;
            var message = string.IsNullOrEmpty(tenant) ? Message : $"Tenant '{tenant}': {Message}";
            return new PartnerSecurityException(kind, Code, message);
        }
    }

    internal sealed class CursorOpened
    {
        public string CursorId { get; init; } = string.Empty;

        /// <summary>What to tell the user before the records (a start older than Graph keeps sign-ins).</summary>
        public string[] Warnings { get; init; } = Array.Empty<string>();
    }

    /// <summary>What a native <c>BatchReply</c> says besides its records (its <c>"Header"</c>).</summary>
    internal sealed class BatchHeader
    {
        public string? Tenant { get; set; }

        public string? TenantId { get; set; }

        public bool Done { get; set; }

        public long Fetched { get; set; }

        public long Pages { get; set; }

        public long TenantsDone { get; set; }

        public NativeFailure? Error { get; set; }
    }

    [JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.Strict)]
    [JsonSerializable(typeof(BatchHeader))]
    internal sealed partial class SignInBatchJsonContext : JsonSerializerContext
    {
    }

    /// <summary>One page of a cursor (or one tenant's failure, or the end).</summary>
    internal sealed class SignInBatch
    {
        private SignInBatch(BatchHeader header, List<object> records)
        {
            Header = header;
            Records = records;
            foreach (var record in records)
            {
                SignInRecords.SetTenant(record, header.TenantId);
            }
        }

        public BatchHeader Header { get; }

        /// <summary>The sign-ins as output objects (see <see cref="SignInRecords"/>).</summary>
        public List<object> Records { get; }

        /// <summary>Reads a batch, <c>{"Header":{...},"Records":[...]}</c> (the native <c>BatchReply</c>), from its UTF-8 bytes.</summary>
        internal static SignInBatch Read(ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json);
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
            Expect(reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("Header"u8));
            Expect(reader.Read());
            var header = JsonSerializer.Deserialize(ref reader, SignInBatchJsonContext.Default.BatchHeader) ?? throw NotABatch();
            Expect(reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("Records"u8));
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartArray);
            var records = new List<object>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                records.Add(SignInRecords.Read(ref reader));
            }
            return new SignInBatch(header, records);
        }

        private static void Expect(bool condition)
        {
            if (!condition)
            {
                throw NotABatch();
            }
        }

        private static JsonException NotABatch() => new("a sign-in batch is not the expected JSON object");
    }

    internal sealed class ExportStarted
    {
        public string ExportId { get; init; } = string.Empty;

        /// <summary>What to tell the user before the export runs, as <see cref="CursorOpened.Warnings"/>.</summary>
        public string[] Warnings { get; init; } = Array.Empty<string>();
    }

    internal sealed class ExportProgressInfo
    {
        public long Records { get; init; }

        public long Pages { get; init; }

        public long TenantsDone { get; init; }

        public long TenantsFailed { get; init; }

        public bool Done { get; init; }

        public NativeFailure? Error { get; init; }
    }

    internal sealed class TenantFailureInfo
    {
        public string Tenant { get; init; } = string.Empty;

        public string Status { get; init; } = "Internal";

        public string Code { get; init; } = string.Empty;

        public string Message { get; init; } = string.Empty;

        public PartnerSecurityException ToException() => new NativeFailure { Status = Status, Code = Code, Message = Message }.ToException(Tenant);
    }

    internal sealed class ExportSummaryInfo
    {
        public string Path { get; init; } = string.Empty;

        public string Format { get; init; } = string.Empty;

        public long Records { get; init; }

        public long Pages { get; init; }

        public long RecordsThisRun { get; init; }

        public int Tenants { get; init; }

        public double DurationSeconds { get; init; }

        public bool Resumed { get; init; }

        public string? Checkpoint { get; init; }

        public TenantFailureInfo[] Failures { get; init; } = Array.Empty<TenantFailureInfo>();
    }
}
