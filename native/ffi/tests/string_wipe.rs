//! Strings the C# side hands back for destruction are wiped before their memory is freed: an
//! allocator that looks at every block as it is freed finds the marker only in a string dropped
//! the ordinary way (the control), never in one destroyed through the FFI function.

use interoptopus::ffi;
use partnersecurity_native::strings::interoptopus_string_destroy;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const MARKER: &[u8] = b"eyJ0eXAiOiJKV1QiLCJNQVJLRVIiOiJ3aXBlLW1lIn0";

/// Counts freed blocks that still held the marker.
struct Inspecting;
static MARKED_FREES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= MARKER.len() {
            // SAFETY: the block is still allocated (it is freed right after) and `size` bytes long.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(MARKER.len()).any(|w| w == MARKER) {
                MARKED_FREES.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting;

fn reply_with_token() -> ffi::String {
    // Room for it all up front: a reallocation would free a copy of the marker on the way.
    let mut text = String::with_capacity(128);
    text.push_str(r#"{"AccessToken":""#);
    text.push_str(std::str::from_utf8(MARKER).expect("ASCII"));
    text.push_str(r#""}"#);
    ffi::String::from_string(text)
}

#[test]
fn a_destroyed_reply_string_leaves_no_token_in_freed_memory() {
    // The control: an ordinary drop frees the token as it was (the allocator sees it).
    let before = MARKED_FREES.load(Ordering::SeqCst);
    drop(reply_with_token());
    assert_eq!(MARKED_FREES.load(Ordering::SeqCst), before + 1, "the inspecting allocator must see an unwiped token");

    let before = MARKED_FREES.load(Ordering::SeqCst);
    assert_eq!(interoptopus_string_destroy(reply_with_token()), 0);
    assert_eq!(MARKED_FREES.load(Ordering::SeqCst), before, "the destroyed string was freed with the token still in it");
}
