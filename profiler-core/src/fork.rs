//! Processes made by `fork()`.
//!
//! The child of a `fork()` holds only the thread that called it, and every lock another thread
//! held at that moment stays locked for good: the registry's thread list, a map shard. Rather
//! than deadlock on one, profiling is off in the child and stays off, and the child's snapshots
//! are empty. Its parent goes on as before.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Set in a child process, by the `fork()` handler.
static IN_CHILD: AtomicBool = AtomicBool::new(false);

/// Whether this process is the child of a `fork()` made after the profiler started.
pub(crate) fn in_child() -> bool {
    IN_CHILD.load(Relaxed)
}

/// Runs in the child right after `fork()`: only atomic stores, nothing that could take a lock.
extern "C" fn after_fork_in_child() {
    IN_CHILD.store(true, Relaxed);
    crate::switch::turn_off_in_fork_child();
}

/// Registers the handler; called once, before the profiler takes any lock.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple"))]
pub(crate) fn watch() {
    // SAFETY: the handler is a plain `extern "C" fn` that only stores atomics, which is
    // allowed in a child of a multi-threaded process.
    #[allow(unsafe_code)]
    let _ = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
}

/// No `fork()` to watch for.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple")))]
pub(crate) fn watch() {
    let _ = after_fork_in_child; // Only the handler's registration is platform-specific.
}
