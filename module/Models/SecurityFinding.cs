namespace PartnerSecurity.Models
{
    /// <summary>Outcome of one finding, from best to least conclusive.</summary>
    public enum FindingStatus
    {
        Pass,
        Warn,
        Fail,
        /// <summary>The check could not read what it needs (permission, licence, network); never a pass.</summary>
        Error,
        NotApplicable,
    }

    public enum FindingSeverity
    {
        Info,
        Low,
        Medium,
        High,
    }

    /// <summary>
    /// One result of Invoke-PartnerSecurityAssessment: a subject (user, policy, relationship,
    /// event or the tenant) against one partner security requirement, with what was seen and
    /// what to do.
    /// </summary>
    public sealed class SecurityFinding
    {
        /// <summary><c>Check.Rule</c>, stable across versions (e.g. <c>MfaCoverage.NotCovered</c>).</summary>
        public string Id { get; set; } = string.Empty;

        public string Check { get; set; } = string.Empty;

        public string Requirement { get; set; } = string.Empty;

        public FindingStatus Status { get; set; }

        public FindingSeverity Severity { get; set; }

        public string Subject { get; set; } = string.Empty;

        public string Evidence { get; set; } = string.Empty;

        /// <summary>What to do; empty for a pass.</summary>
        public string Remediation { get; set; } = string.Empty;

        public override string ToString() => $"{Status} {Id} {Subject}";
    }
}
