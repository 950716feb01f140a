//! A cheaper `stacker::maybe_grow` for the evaluator's hot recursion (eval, call, force).
//!
//! `stacker::maybe_grow` asks for the stack pointer and the thread's stack limit on every
//! call. Here the first (outermost) check on a stack segment records a window of
//! addresses known to have at least the red zone below them; nested checks then only
//! compare the address of a local with that window, and fall back to `stacker` when
//! outside it (near the limit, or on a segment the window was not made for, e.g. one that
//! another `maybe_grow` switched to). The window is per thread, and restored on the way
//! out, so it always describes a segment that is still live below the current frame.

use std::cell::Cell;

use crate::eval::{STACK_GROW, STACK_RED_ZONE};

thread_local! {
    /// (lowest address with the red zone still below it, size of the window above it).
    /// An empty window sends every check to the slow path.
    static WINDOW: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// An address in the current frame: close to the stack pointer.
#[inline(always)]
pub(crate) fn approximate_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Runs `f` with at least `STACK_RED_ZONE` bytes of stack, growing onto a new segment when
/// needed.
#[inline(always)]
pub(crate) fn ensure<R>(f: impl FnOnce() -> R) -> R {
    let sp = approximate_sp();
    let (floor, span) = WINDOW.with(|w| w.get());
    if sp.wrapping_sub(floor) < span {
        return f();
    }
    slow(f)
}

struct Restore((usize, usize));

impl Drop for Restore {
    fn drop(&mut self) {
        WINDOW.with(|w| w.set(self.0));
    }
}

#[inline(never)]
fn slow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
        let sp = approximate_sp();
        let window = match stacker::remaining_stack() {
            Some(rem) if rem > STACK_RED_ZONE && rem - STACK_RED_ZONE < sp => {
                let span = rem - STACK_RED_ZONE;
                (sp - span, span)
            }
            _ => (0, 0),
        };
        let _restore = Restore(WINDOW.with(|w| w.replace(window)));
        f()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(n: u64) -> u64 {
        ensure(|| {
            let pad = std::hint::black_box([0u8; 512]);
            if n == 0 {
                pad[0] as u64
            } else {
                1 + depth(n - 1) + pad[1] as u64
            }
        })
    }

    #[test]
    fn deep_recursion_grows_the_stack() {
        // Far more than a thread's default stack holds at ~600 bytes a frame.
        let r = std::thread::Builder::new()
            .stack_size(256 * 1024 * 4)
            .spawn(|| depth(200_000))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(r, 200_000);
        // The window is empty again once the outermost check returns.
        assert_eq!(WINDOW.with(|w| w.get()).1, 0);
    }
}
