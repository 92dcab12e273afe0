using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PartnerSecurity.Native
{
    /// <summary>
    /// Finds an application's certificate by thumbprint, as the PartnerCenter module does: the
    /// CurrentUser 'My' store first, then LocalMachine 'My' (on Linux and macOS .NET keeps the
    /// same stores in the user profile).
    /// </summary>
    internal static class CertificateCredential
    {
        internal static (string CertificateBase64, string PrivateKeyPem) Load(string thumbprint)
        {
            var wanted = Normalize(thumbprint);
            if (wanted.Length != 40)
            {
                throw new PartnerSecurityException(FailureKind.InvalidInput, "InvalidCertificateThumbprint", $"Parameter 'CertificateThumbprint': '{thumbprint}' is not a SHA-1 thumbprint (40 hexadecimal characters).");
            }
            foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
            {
                using var store = new X509Store(StoreName.My, location);
                try
                {
                    store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                }
                catch (CryptographicException)
                {
                    continue;
                }
                foreach (var certificate in store.Certificates.Find(X509FindType.FindByThumbprint, wanted, validOnly: false))
                {
                    using (certificate)
                    {
                        using var key = certificate.GetRSAPrivateKey();
                        if (key is null)
                        {
                            throw new PartnerSecurityException(FailureKind.InvalidInput, "CertificateHasNoPrivateKey", $"Parameter 'CertificateThumbprint': the certificate {wanted} in {location}\\My has no RSA private key this user can use.");
                        }
                        if (certificate.NotAfter < DateTime.Now)
                        {
                            throw new PartnerSecurityException(FailureKind.InvalidInput, "CertificateExpired", $"Parameter 'CertificateThumbprint': the certificate {wanted} expired on {certificate.NotAfter:u}. Register a new certificate on the application.");
                        }
                        return (Convert.ToBase64String(certificate.RawData), ExportKey(key, wanted));
                    }
                }
            }
            throw new PartnerSecurityException(FailureKind.NotFound, "CertificateNotFound", $"Parameter 'CertificateThumbprint': no certificate with thumbprint {wanted} was found in the CurrentUser or LocalMachine 'My' store.");
        }

        private static string ExportKey(RSA key, string thumbprint)
        {
            try
            {
                return key.ExportPkcs8PrivateKeyPem();
            }
            catch (CryptographicException)
            {
                throw new PartnerSecurityException(FailureKind.InvalidInput, "CertificateKeyNotExportable", $"Parameter 'CertificateThumbprint': the private key of certificate {thumbprint} cannot be exported for signing; import the certificate with an exportable key.");
            }
        }

        private static string Normalize(string thumbprint)
        {
            var chars = new System.Text.StringBuilder(thumbprint.Length);
            foreach (var c in thumbprint)
            {
                if (Uri.IsHexDigit(c)) chars.Append(char.ToUpperInvariant(c));
                else if (!char.IsWhiteSpace(c) && c != ':' && c != '\u200e') return string.Empty;
            }
            return chars.ToString();
        }
    }
}
