//! What a worker gives back to the system after a request that held much memory.
//!
//! Left alone, an idle worker keeps both: the allocator returns a thread's freed memory
//! when that thread allocates again, and the pages of its 64 MiB stack that a deep
//! evaluation touched stay resident for the thread's life. Each worker would then hold
//! what its biggest request needed, and the workers add up.

/// Bytes an evaluation may have held at its peak and leave to the allocator's own pace.
const HEAP_AFTER: u64 = 16 << 20;

/// Stack below the worker's loop that stays resident: what ordinary requests use.
const STACK_KEPT: usize = 1 << 20;

/// What an evaluation used, as its evaluator saw it (`Evaluator::memory_high` and
/// `Evaluator::stack_low`); `None` when the evaluator is gone (thrown away, or never
/// made): then everything is given back.
pub fn after_request(used: Option<(u64, usize)>, loop_sp: usize) {
    let (memory_high, stack_low) = used.unwrap_or((u64::MAX, 0));
    if memory_high > HEAP_AFTER {
        nixweb_app::memory::release();
    }
    // Stack pages below `loop_sp` (an address in the worker loop's frame) minus
    // STACK_KEPT, if the evaluation went below that.
    let below = loop_sp.saturating_sub(STACK_KEPT);
    if stack_low < below {
        release_stack_below(below);
    }
}

/// An address in the caller's frame: close to the stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Drops the pages of this thread's stack below `below`, which must be below every live
/// frame: they read as zeros when touched again.
fn release_stack_below(below: usize) {
    let Some(lowest) = stack_start() else {
        return;
    };
    let page = page_size();
    // The first page may be the guard; it is never resident anyway.
    let start = lowest.next_multiple_of(page) + page;
    let end = below / page * page;
    if end > start {
        // SAFETY: [start, end) lies in this thread's stack below every live frame (the
        // caller's frame is above `below`), so nothing refers to what it holds.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

/// The lowest address of this thread's stack.
fn stack_start() -> Option<usize> {
    // SAFETY: the attribute object is initialised by pthread_getattr_np before it is read
    // and destroyed once; the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let got = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (got == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}
