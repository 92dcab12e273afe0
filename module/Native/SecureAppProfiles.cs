using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Threading;
using PartnerSecurity.Models;

namespace PartnerSecurity.Native
{
    /// <summary>A token obtained through a profile (no refresh token: that stays in the store).</summary>
    internal sealed class ProfileToken
    {
        public string Profile { get; set; } = string.Empty;

        public AuthResult Token { get; set; } = new();
    }

    /// <summary>A session connected through a profile.</summary>
    internal sealed class ProfileContext
    {
        public string Profile { get; set; } = string.Empty;

        public PartnerContext Context { get; set; } = new();
    }

    internal sealed class ProfileList
    {
        public SecureAppProfile[] Profiles { get; set; } = Array.Empty<SecureAppProfile>();

        public string? Default { get; set; }

        public string Directory { get; set; } = string.Empty;

        public UnreadableProfile[] Unreadable { get; set; } = Array.Empty<UnreadableProfile>();
    }

    internal sealed class UnreadableProfile
    {
        public string Path { get; set; } = string.Empty;

        public string Reason { get; set; } = string.Empty;
    }

    internal sealed class HealthReply
    {
        public SecureAppProfile Profile { get; set; } = new();

        /// <summary>The native <c>ProfileHealth</c> (same property names).</summary>
        public SecureAppProfileHealth Health { get; set; } = new();

        public ApplicationCredentialInfo[] ApplicationCredentials { get; set; } = Array.Empty<ApplicationCredentialInfo>();

        public string? ApplicationCredentialsProblem { get; set; }
    }

    /// <summary>
    /// Secure Application Model profiles for the cmdlets: the default profile, and the switch
    /// that lets the legacy sign-in forms (Connect-PartnerCenter without parameters or with a
    /// user's -Credential, New-PartnerAccessToken -Scopes, Test-PartnerSecurityRequirement) run
    /// on it non-interactively, with one warning per session.
    /// </summary>
    internal static class SecureAppProfiles
    {
        private static int _warned;

        /// <summary>
        /// The passphrase of a -Passphrase SecureString, read only to send it; without one,
        /// PARTNERSECURITY_SECRET_PASSPHRASE as this session sees it (unattended runs).
        /// </summary>
        internal static string? Plain(SecureString? value) => value is null
            ? System.Environment.GetEnvironmentVariable(SamRequest.PassphraseVariable)
            : new NetworkCredential(string.Empty, value).Password;

        /// <summary>A request as the synchronous native calls take it (with the session's PARTNERSECURITY_HOME and PARTNERSECURITY_PROFILE).</summary>
        private static string Json(SamRequest request) => System.Text.Json.JsonSerializer.Serialize(request, NativeClient.Json);

        /// <summary>The profile called <paramref name="name"/>, or with null the default profile (PARTNERSECURITY_PROFILE first), or null when there is none.</summary>
        internal static SecureAppProfile? Get(string? name)
        {
            return NativeClient.Call<SecureAppProfile?>((n, r) => n.SamGet(r), Json(new SamRequest { Name = name }));
        }

        /// <summary>The default profile (PARTNERSECURITY_PROFILE first), or null when there is none.</summary>
        internal static SecureAppProfile? Default() => Get(null);

        /// <summary>Every profile in PARTNERSECURITY_HOME, with the files that are not readable profiles.</summary>
        internal static ProfileList List()
        {
            return NativeClient.Call<ProfileList>((n, r) => n.SamList(r), Json(new SamRequest()));
        }

        /// <summary>
        /// The profile a caller named (-SecureAppProfile), checked against the -Environment they
        /// named, if any. A missing profile fails with ProfileNotFound, one of another environment
        /// with ProfileEnvironmentMismatch.
        /// </summary>
        internal static SecureAppProfile Named(string name, string? environment)
        {
            var profile = Get(name)
                ?? throw new PartnerSecurityException(FailureKind.NotFound, "ProfileNotFound", $"There is no SAM profile '{name}'. Get-PartnerSecureAppProfile lists the profiles; New-PartnerSecureAppProfile creates one.");
            if (!string.IsNullOrEmpty(environment) && !IsFor(profile, environment))
            {
                throw new PartnerSecurityException(
                    FailureKind.InvalidInput,
                    "ProfileEnvironmentMismatch",
                    $"SAM profile '{profile.Name}' signs in to environment '{profile.Environment}', not '{environment}'. Leave -Environment out to use the profile's, or create a profile for '{environment}' with New-PartnerSecureAppProfile -Environment {environment}.");
            }
            return profile;
        }

        /// <summary>
        /// The default profile when a legacy form may switch to it: there is one, and it is for
        /// the environment the caller named (if they named one).
        /// </summary>
        internal static SecureAppProfile? ForLegacyForm(string? environment)
        {
            var profile = Default();
            return profile is not null && (string.IsNullOrEmpty(environment) || IsFor(profile, environment)) ? profile : null;
        }

        /// <summary>Whether <paramref name="profile"/> signs in to <paramref name="environment"/> (a name or alias such as GlobalCloud).</summary>
        private static bool IsFor(SecureAppProfile profile, string environment)
        {
            var named = NativeClient.Call<PartnerEnvironment>((n, r) => n.FindEnvironment(r), environment);
            return string.Equals(named.Name, profile.Environment, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>Says, once per session, that a profile replaced user credentials.</summary>
        internal static void WarnOnce(Cmdlet cmdlet, SecureAppProfile profile, string command)
        {
            if (Interlocked.Exchange(ref _warned, 1) == 0)
            {
                cmdlet.WriteWarning(
                    $"SAM profile '{profile.Name}' (application {profile.ApplicationId}, tenant {profile.Tenant}) was used instead of user credentials: {command} signed in non-interactively with the profile's refresh token. " +
                    $"Check it with Test-PartnerSecureAppProfile -Name {profile.Name}. To sign in as a user again, run Set-PartnerSecureAppProfile -Name {profile.Name} -Default:$false (and clear PARTNERSECURITY_PROFILE). This warning is shown once per session.");
            }
        }

        /// <summary>The request that opens <paramref name="profile"/>: its certificate when it has one; the passphrase comes from PARTNERSECURITY_SECRET_PASSPHRASE.</summary>
        internal static SamRequest Open(SecureAppProfile profile, string? passphrase = null, string? tenant = null, string[]? scopes = null)
        {
            var certificate = profile.CertificateThumbprint is null ? default : CertificateCredential.Load(profile.CertificateThumbprint);
            return new SamRequest
            {
                Name = profile.Name,
                Passphrase = passphrase ?? Plain(null),
                Tenant = tenant,
                CertificateBase64 = certificate.CertificateBase64,
                PrivateKeyPem = certificate.PrivateKeyPem,
                Scopes = scopes ?? Array.Empty<string>(),
            };
        }
    }
}
