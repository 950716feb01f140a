//! mimalloc as the global allocator, asked the way that takes its fast path (the binary and
//! the examples that measure it install it).
//!
//! The `mimalloc` crate passes every request to `mi_malloc_aligned`, and in mimalloc 3 that
//! falls to a generic path (about 130 instructions) whenever a page's free list has run dry,
//! which in evaluation's allocate-and-free rhythm is often: 651,361 of fib's 1,273,814
//! allocations (callgrind, BENCHMARKS.md). Every mimalloc block is aligned to the
//! word at least, so requests that need no more than that go to plain `mi_malloc` and
//! `mi_realloc`; anything stricter still goes to the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// What every mimalloc block is aligned to: blocks are whole words.
const WORD: usize = std::mem::size_of::<usize>();

pub struct Mimalloc;

/// mimalloc's `mi_option_purge_delay` (its position in `mi_option_e`, mimalloc.h).
const MI_OPTION_PURGE_DELAY: mi::mi_option_t = 15;

/// Sets mimalloc up as nixweb runs it; call first thing in `main` where [`Mimalloc`] is the
/// global allocator.
///
/// Freed memory goes back to the system after a second rather than mimalloc's 10 ms: each
/// request frees what it allocated, and returning it at once only to fault it back in for
/// the next request cost 1.5 page faults and about a quarter of a small request's CPU
/// (examples/throughput.rs, BENCHMARKS.md). `MIMALLOC_PURGE_DELAY` in the environment still
/// decides, as mimalloc documents.
///
/// Engines ask for freed memory back at once where mimalloc's own pace would leave it
/// resident: a worker after an evaluation that held much (idle, its thread would keep it:
/// mimalloc purges when the thread allocates again), and past the memory ceiling, where
/// nothing allocates.
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option is allowed at any time; this one is read when purging.
        unsafe { mi::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
    // SAFETY: mi_collect only works on the calling thread's heap (and abandoned ones).
    nixweb_app::memory::set_release(|| unsafe { mi::mi_collect(true) });
}

// SAFETY: each call hands the layout's size (and, where the word is not enough, its
// alignment) to the mimalloc call made for it; `mi_free` frees blocks of either kind.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_as_asked() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 24, 40, 56, 100, 1000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a nonzero size; every block is freed with its own layout.
                unsafe {
                    let p = Mimalloc.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    p.write_bytes(0xA5, size);
                    let z = Mimalloc.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    let grown = Mimalloc.realloc(p, layout, size * 3);
                    assert_eq!(grown as usize % align, 0);
                    assert!(std::slice::from_raw_parts(grown, size)
                        .iter()
                        .all(|&b| b == 0xA5));
                    Mimalloc.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    Mimalloc.dealloc(z, layout);
                }
            }
        }
    }
}
