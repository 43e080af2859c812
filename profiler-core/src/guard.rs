//! The guard that times one synchronous call.

use std::marker::PhantomData;
use std::time::Duration;

use crate::clock;
use crate::thread::{self, Entry, Exit};

/// Times a stage from its creation to its drop (or [`end`](Self::end)).
///
/// Dropping it records the call, also while unwinding from a panic. When profiling is off the
/// guard is inert and reads no clock.
///
/// A stage is a frame on the stack of the thread that started it: the thread's later stages
/// nest in it until it ends. So the guard is not `Send` (nor is a future holding it across an
/// `.await`): dropped on another thread, it could not end its frame, and every later stage of
/// the first thread would nest in a call that never ends. For code that moves between threads,
/// put `#[instrument_stage]` on the `async fn`, whose future opens and closes a frame at each
/// poll. A guard leaked with [`std::mem::forget`] likewise leaves its stage open on its thread.
///
/// ```compile_fail
/// let guard = profiler_core::start_stage("work");
/// std::thread::spawn(move || drop(guard)); // error: `StageGuard` cannot be sent between threads
/// ```
#[must_use = "the stage ends when the guard is dropped: bind it with `let _stage = ...`"]
#[derive(Debug)]
pub struct StageGuard {
    entry: Entry,
    /// Not `Send`: see above.
    _on_this_thread: PhantomData<*const ()>,
}

impl StageGuard {
    pub(crate) const INACTIVE: StageGuard = StageGuard { entry: Entry::NONE, _on_this_thread: PhantomData };

    pub(crate) fn new(entry: Entry) -> Self {
        Self { entry, _on_this_thread: PhantomData }
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
