using System;

namespace PartnerSecurity.Models
{
    /// <summary>What Export-PartnerSignInActivity wrote.</summary>
    public sealed class SignInExportSummary
    {
        /// <summary>The output file.</summary>
        public string Path { get; set; } = string.Empty;

        /// <summary><c>Jsonl</c> or <c>Csv</c>.</summary>
        public string Format { get; set; } = string.Empty;

        /// <summary>Sign-ins in the file (those of earlier runs included when resumed).</summary>
        public long Records { get; set; }

        /// <summary>Graph pages read into the file.</summary>
        public long Pages { get; set; }

        /// <summary>Sign-ins written by this run.</summary>
        public long RecordsThisRun { get; set; }

        /// <summary>Tenants exported (failed ones included).</summary>
        public int Tenants { get; set; }

        /// <summary>Tenants that failed (their errors were written to the error stream).</summary>
        public string[] FailedTenants { get; set; } = Array.Empty<string>();

        public TimeSpan Duration { get; set; }

        /// <summary>Whether this run continued an interrupted export.</summary>
        public bool Resumed { get; set; }

        /// <summary>The checkpoint kept for a resume when a tenant failed; empty when complete.</summary>
        public string? Checkpoint { get; set; }

        public override string ToString() => $"{Records} sign-ins in {Path}";
    }
}
