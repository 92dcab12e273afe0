using System;

namespace PartnerSecurity.Models
{
    /// <summary>
    /// A cloud's endpoints. Has the properties of the PartnerCenter module's
    /// <c>PartnerEnvironment</c> (<c>EnvironmentName</c>, …) and <c>PSPartnerEnvironment</c>
    /// (<c>Name</c>, …), so scripts written for either keep working.
    /// </summary>
    public sealed class PartnerEnvironment
    {
        public string Name { get; set; } = string.Empty;

        /// <summary>Same as <see cref="Name"/>; the PartnerCenter module's context used this name.</summary>
        public string EnvironmentName => Name;

        public string ActiveDirectoryAuthority { get; set; } = string.Empty;

        public string AzureAdGraphEndpoint { get; set; } = string.Empty;

        public string AzureEndpoint { get; set; } = string.Empty;

        public string GraphEndpoint { get; set; } = string.Empty;

        public string PartnerCenterEndpoint { get; set; } = string.Empty;

        public string KeyVaultEndpoint { get; set; } = string.Empty;

        /// <summary><c>$true</c> for the Azure clouds; <c>$false</c> for environments added with Add-PartnerEnvironment.</summary>
        public bool IsBuiltIn { get; set; }

        public override string ToString() => Name;
    }
}
