namespace PartnerSecurity.Commands
{
    /// <summary>Where a Secure Application Model profile keeps its refresh token (-SecretStore).</summary>
    public enum SecretStoreKind
    {
        /// <summary>An encrypted file (AES-256-GCM, key from a passphrase through Argon2id), readable only by the owner.</summary>
        File,

        /// <summary>The OS credential store: Windows Credential Manager or the macOS Keychain (refused on Linux, where it does not last).</summary>
        CredentialManager,

        /// <summary>An Azure Key Vault secret, reached with the application's own credential.</summary>
        KeyVault,
    }
}
