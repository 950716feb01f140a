//! Memory the process gives back to the system.
//!
//! The allocator is the binary's choice, so the binary says how to give freed memory back
//! at once ([`set_release`]); engines call [`release`] where waiting for the allocator's
//! own pace would leave much of it resident (an idle thread's freed memory may stay with
//! that thread until it allocates again).

use std::sync::OnceLock;

/// How this process gives memory it freed back to the system at once.
static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Says how to give freed memory back at once. Only the first call counts.
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Gives what the calling thread freed back to the system, if the binary said how.
pub fn release() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}
