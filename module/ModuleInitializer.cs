using System.Management.Automation;
using PartnerSecurity.Native;

namespace PartnerSecurity
{
    /// <summary>
    /// Runs at Import-Module: installs the native library resolver and loads the library, so a
    /// broken installation fails now with one clear message instead of at the first command.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport()
        {
            NativeLoader.Register();
            NativeClient.EnsureLoaded();
        }
    }
}
