using System;

namespace PartnerSecurity.Native
{
    /// <summary>What the assessment cmdlets send to the native library.</summary>
    internal sealed class AssessmentRequest
    {
        public string[] Checks { get; init; } = Array.Empty<string>();

        public int? SignInDays { get; init; }

        public string[] BreakGlassAccounts { get; init; } = Array.Empty<string>();

        public int? ExpiringWithinDays { get; init; }

        /// <summary>For the building-block cmdlets: MfaCoverage, LegacyAuthSignIns, GdapRelationships or FraudEvents.</summary>
        public string? Kind { get; init; }
    }

    internal sealed class AssessmentStarted
    {
        public string AssessmentId { get; init; } = string.Empty;

        public string[] Checks { get; init; } = Array.Empty<string>();
    }

    internal sealed class CheckRequest
    {
        public string AssessmentId { get; init; } = string.Empty;

        public string Check { get; init; } = string.Empty;
    }

    internal sealed class ReportRequest
    {
        public string AssessmentId { get; init; } = string.Empty;

        public string Directory { get; init; } = string.Empty;

        public string BaseName { get; init; } = string.Empty;
    }
}
