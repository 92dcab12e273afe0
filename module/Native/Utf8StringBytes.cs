using System;

namespace PartnerSecurity.Native
{
    // The generated Utf8String gives a string; the sign-in pages are read straight from its UTF-8
    // bytes instead (a page is about a megabyte).
    public partial class Utf8String
    {
        /// <summary>The native bytes, valid until the string is disposed.</summary>
        internal unsafe ReadOnlySpan<byte> Utf8 => _ptr == IntPtr.Zero ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>((byte*)_ptr, checked((int)_len));
    }
}
