//! CPU time of the process and of the calling thread, to see work a profiler moves to its
//! own background threads (a collector, a drain worker), which the caller's wall time misses.
//!
//! # Safety
//!
//! `clock_gettime` is called with a valid clock id and a pointer to a live, writable
//! `timespec` on the stack; it writes nothing else.
#![allow(unsafe_code)]

use std::time::Duration;

/// Reads one POSIX CPU-time clock; zero if the clock is unavailable.
fn read(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: see the module comment: valid clock id, valid out-pointer.
    let rc = unsafe { libc::clock_gettime(clock, &raw mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

/// CPU time consumed so far by every thread of the process.
pub(crate) fn process() -> Duration {
    read(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time consumed so far by the calling thread.
pub(crate) fn thread() -> Duration {
    read(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU-time readings taken together, to measure what the other threads used since.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    process: Duration,
    thread: Duration,
}

impl Mark {
    /// Reads both clocks now.
    pub(crate) fn now() -> Self {
        Self { process: process(), thread: thread() }
    }

    /// CPU time used since this mark by the threads other than the calling one (which must be
    /// the thread that took the mark).
    pub(crate) fn others_since(self) -> Duration {
        let all = process().saturating_sub(self.process);
        let mine = thread().saturating_sub(self.thread);
        all.saturating_sub(mine)
    }
}
