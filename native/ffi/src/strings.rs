//! The string functions the C# bindings call: interoptopus' `builtins_string!` with one change.
//! A string handed back for destruction is wiped before its memory is freed: replies carry access
//! and refresh tokens, and the C# side destroys each reply string as soon as it has copied it.
//! (The managed copy is .NET's to manage and cannot be wiped; the module keeps it only as long as
//! the object that shows it.)

use interoptopus::ffi;
use interoptopus::inventory::RustInventory;
use interoptopus::lang::function::FunctionInfo;
use std::mem::MaybeUninit;
use zeroize::Zeroize;

#[ffi]
pub fn interoptopus_string_create(utf8: *const std::ffi::c_void, len: u64, rval: &mut MaybeUninit<ffi::String>) -> i64 {
    let bytes = if utf8.is_null() || len == 0 {
        Vec::new()
    } else {
        // SAFETY: the caller passes `len` readable bytes at `utf8` (the generated C# does).
        unsafe { std::slice::from_raw_parts::<u8>(utf8.cast(), len as usize) }.to_vec()
    };
    // Not checked here, as in interoptopus: every reader of a request goes through
    // `ffi::String::as_str`, and the C# side encodes with UTF-8.
    let string = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    rval.write(ffi::String::from_string(string));
    0
}

#[ffi]
pub fn interoptopus_string_destroy(utf8: ffi::String) -> i64 {
    wipe(utf8);
    0
}

#[ffi]
pub fn interoptopus_string_clone(utf8: &ffi::String, rval: &mut MaybeUninit<ffi::String>) -> i64 {
    rval.write(utf8.clone());
    0
}

/// Overwrites the string's whole allocation with zeros, then frees it.
pub fn wipe(utf8: ffi::String) {
    if utf8.as_str().is_empty() {
        return;
    }
    let mut owned = utf8.into_string();
    owned.zeroize();
}

/// Registers the three functions (what `builtins_string!()` registers).
pub fn register(inventory: &mut RustInventory) {
    <interoptopus_string_create as FunctionInfo>::register(inventory);
    <interoptopus_string_destroy as FunctionInfo>::register(inventory);
    <interoptopus_string_clone as FunctionInfo>::register(inventory);
}
