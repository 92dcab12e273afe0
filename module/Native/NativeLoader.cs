using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace PartnerSecurity.Native
{
    /// <summary>
    /// Finds the Rust library under <c>runtimes/&lt;rid&gt;/native/</c> next to the module
    /// assembly. PowerShell does not probe that folder itself, so the module installs this
    /// resolver before the generated <c>Interop</c> class is first touched.
    /// </summary>
    internal static class NativeLoader
    {
        private static int _registered;

        /// <summary>Paths tried by the last resolution, for the error message when none worked.</summary>
        private static readonly List<string> Tried = new();

        internal static void Register()
        {
            if (Interlocked.Exchange(ref _registered, 1) == 0)
            {
                // Once per assembly: Import-Module -Force reuses the already loaded assembly.
                NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
            }
        }

        internal static IReadOnlyList<string> TriedPaths
        {
            get { lock (Tried) { return Tried.ToArray(); } }
        }

        private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (!string.Equals(libraryName, Interop.NativeLib, StringComparison.Ordinal))
            {
                return IntPtr.Zero;
            }
            foreach (var candidate in Candidates())
            {
                lock (Tried) { Tried.Add(candidate); }
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                {
                    return handle;
                }
            }
            return IntPtr.Zero;
        }

        /// <summary>Where the library may be: the RID folder first, then next to the assembly.</summary>
        internal static IEnumerable<string> Candidates()
        {
            var baseDir = Path.GetDirectoryName(typeof(NativeLoader).Assembly.Location) ?? ".";
            var fileName = FileName();
            foreach (var rid in RuntimeIdentifiers())
            {
                yield return Path.Combine(baseDir, "runtimes", rid, "native", fileName);
            }
            yield return Path.Combine(baseDir, fileName);
        }

        internal static string FileName()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return Interop.NativeLib + ".dll";
            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) return "lib" + Interop.NativeLib + ".dylib";
            return "lib" + Interop.NativeLib + ".so";
        }

        internal static IEnumerable<string> RuntimeIdentifiers()
        {
            var arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.X86 => "x86",
                Architecture.Arm64 => "arm64",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            };
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                yield return "win-" + arch;
            }
            else if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
            {
                yield return "osx-" + arch;
            }
            else
            {
                yield return "linux-" + arch;
                yield return "linux-musl-" + arch;
            }
        }
    }
}
