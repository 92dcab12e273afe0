using System;
using System.Management.Automation;

namespace PartnerSecurity.Native
{
    /// <summary>The kinds of failure the native library reports (its <c>Status</c> values).</summary>
    public enum FailureKind
    {
        InvalidInput,
        Authentication,
        PermissionDenied,
        NotFound,
        Throttled,
        Network,
        InvalidResponse,
        NotConnected,
        Cancelled,
        /// <summary>A local file could not be written or read (disk full, permissions).</summary>
        Storage,
        Internal,
    }

    /// <summary>
    /// A failure reported by the native library: its kind, a stable code (an AADSTS code, an
    /// HTTP status, …) and a message that says what to do. The message never holds a secret.
    /// </summary>
    public sealed class PartnerSecurityException : Exception
    {
        internal PartnerSecurityException(FailureKind kind, string code, string message)
            : base(message)
        {
            Kind = kind;
            Code = string.IsNullOrEmpty(code) ? kind.ToString() : code;
        }

        public FailureKind Kind { get; }

        /// <summary>A stable identifier scripts can branch on, e.g. <c>AADSTS700082</c>.</summary>
        public string Code { get; }

        /// <summary>The PowerShell error category for this failure.</summary>
        public ErrorCategory Category => Kind switch
        {
            FailureKind.InvalidInput => ErrorCategory.InvalidArgument,
            FailureKind.Authentication => ErrorCategory.AuthenticationError,
            FailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
            FailureKind.NotFound => ErrorCategory.ObjectNotFound,
            FailureKind.Throttled => ErrorCategory.LimitsExceeded,
            FailureKind.Network => ErrorCategory.ConnectionError,
            FailureKind.InvalidResponse => ErrorCategory.InvalidResult,
            FailureKind.NotConnected => ErrorCategory.InvalidOperation,
            FailureKind.Cancelled => ErrorCategory.OperationStopped,
            FailureKind.Storage => ErrorCategory.WriteError,
            _ => ErrorCategory.NotSpecified,
        };

        internal static FailureKind KindOf(Status status)
        {
            if (status.IsInvalidInput) return FailureKind.InvalidInput;
            if (status.IsAuthentication) return FailureKind.Authentication;
            if (status.IsPermissionDenied) return FailureKind.PermissionDenied;
            if (status.IsNotFound) return FailureKind.NotFound;
            if (status.IsThrottled) return FailureKind.Throttled;
            if (status.IsNetwork) return FailureKind.Network;
            if (status.IsInvalidResponse) return FailureKind.InvalidResponse;
            if (status.IsNotConnected) return FailureKind.NotConnected;
            if (status.IsCancelled) return FailureKind.Cancelled;
            if (status.IsStorage) return FailureKind.Storage;
            return FailureKind.Internal;
        }
    }
}
