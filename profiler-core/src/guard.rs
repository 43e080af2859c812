//! The guard that times one synchronous call.

use std::time::Duration;

use crate::clock;
use crate::thread::{self, Entry, Exit};

/// Times a stage from its creation to its drop (or [`end`](Self::end)).
///
/// Dropping it on the thread that created it records the call, also while unwinding from a
/// panic. It is `Send`, so a future holding one stays `Send`; dropped on another thread, the
/// call is not recorded. When profiling is off the guard is inert and reads no clock.
#[must_use = "the stage ends when the guard is dropped: bind it with `let _stage = ...`"]
#[derive(Debug)]
pub struct StageGuard {
    entry: Entry,
}

impl StageGuard {
    pub(crate) const INACTIVE: StageGuard = StageGuard { entry: Entry::NONE };

    pub(crate) fn new(entry: Entry) -> Self {
        Self { entry }
    }

    /// Ends the stage now and returns how long it took; `Duration::ZERO` when profiling was
    /// off at its start (no clock is read then).
    #[must_use = "dropping the guard ends the stage too; `end` is for the duration"]
    pub fn end(self) -> Duration {
        let entry = self.entry;
        std::mem::forget(self);
        if !entry.is_recording() {
            return Duration::ZERO;
        }
        let ticks = thread::exit(entry, Exit::Call);
        clock::ticks_to_duration(ticks)
    }

    /// Whether this guard is recording (profiling was on when it was created).
    #[must_use]
    pub fn is_recording(&self) -> bool {
        self.entry.is_recording()
    }
}

impl Drop for StageGuard {
    /// Only a flag test is inlined into the caller, so that an inert guard (profiling off)
    /// costs a compare and a branch; the recording exit is one call away.
    #[inline(always)]
    fn drop(&mut self) {
        if self.entry.is_recording() {
            record_exit(self.entry);
        }
    }
}

#[inline(never)]
fn record_exit(entry: Entry) {
    thread::exit(entry, Exit::Call);
}
