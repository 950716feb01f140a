//! Memory an evaluation holds, measured where it is allocated.
//!
//! Values are reference counted and freed the moment the last reference goes, so the
//! bytes a thread has allocated and not yet freed, taken before and during an evaluation,
//! are what that evaluation holds. [`Counting`] wraps the host's global allocator and keeps
//! that figure per thread; the evaluator reads it (`Limits::max_memory`) at its regular
//! checks and before building anything large. A host that does not install it still has
//! each large allocation checked against the limit before it is made, but not the sum.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// Bytes allocated minus bytes freed by this thread. Memory freed by another thread
    /// than the one that allocated it skews both threads' figures, but evaluations compare
    /// only their own thread's figure with itself.
    static HELD: Cell<isize> = const { Cell::new(0) };
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts, per thread, the bytes it hands out and takes back:
/// `#[global_allocator] static A: Counting<std::alloc::System> = Counting(std::alloc::System);`
pub struct Counting<A>(pub A);

#[inline(always)]
fn count(bytes: isize) {
    // `try_with`: a thread's counter is gone while the thread itself is torn down.
    let _ = HELD.try_with(|held| held.set(held.get().wrapping_add(bytes)));
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on unchanged to the wrapped allocator; counting touches
// only a thread-local integer, which never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        self.0.alloc(layout)
    }

    #[inline(always)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        self.0.alloc_zeroed(layout)
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        self.0.dealloc(ptr, layout)
    }

    #[inline(always)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        self.0.realloc(ptr, layout, new_size)
    }
}

/// Bytes this thread holds (allocated and not freed), or `None` when [`Counting`] is not
/// the global allocator.
pub fn thread_held() -> Option<isize> {
    if !INSTALLED.load(Ordering::Relaxed) {
        return None;
    }
    HELD.try_with(Cell::get).ok()
}
