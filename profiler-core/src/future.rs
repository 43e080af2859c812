//! Instrumented futures (`async fn`): wall time from first poll to completion, and busy time
//! inside polls.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::callsite::Callsite;
use crate::switch;
use crate::thread::{self, Entry, Exit};

pin_project_lite::pin_project! {
    /// A future that reports into a stage: each poll is a frame on the polling thread (so the
    /// stages it calls get it as their parent, and its busy time excludes theirs), and its
    /// completion records one call whose duration is the wall time since the first poll.
    ///
    /// The future may move between threads between polls; it is `Send` when the inner future
    /// is. Profiling is decided at the first poll: a future first polled while profiling is
    /// off is never recorded. A future dropped before completion keeps its busy time but
    /// records no call.
    #[must_use = "futures do nothing unless polled"]
    pub struct InstrumentedFuture<F> {
        #[pin]
        inner: F,
        callsite: &'static Callsite,
        state: FutureState,
    }
}

#[derive(Clone, Copy)]
enum FutureState {
    NotStarted,
    Recording { first_poll: u64 },
    Off,
}

impl<F> InstrumentedFuture<F> {
    pub(crate) fn new(callsite: &'static Callsite, inner: F) -> Self {
        Self { inner, callsite, state: FutureState::NotStarted }
    }
}

/// Closes the poll's frame also when the inner future panics.
struct PollFrame {
    entry: Entry,
    completed_since: Option<u64>,
}

impl Drop for PollFrame {
    fn drop(&mut self) {
        if self.entry.is_recording() {
            thread::exit(self.entry, Exit::Poll(self.completed_since));
        }
    }
}

impl<F: Future> Future for InstrumentedFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let state = switch::state();
        let entry = match *this.state {
            FutureState::Off => Entry::NONE,
            _ if !switch::is_on(state) => {
                if matches!(this.state, FutureState::NotStarted) {
                    *this.state = FutureState::Off;
                }
                Entry::NONE
            }
            _ => thread::enter(this.callsite, state),
        };
        if let FutureState::NotStarted = this.state {
            *this.state = if entry.is_recording() {
                FutureState::Recording { first_poll: entry.start }
            } else {
                FutureState::Off
            };
        }
        let mut frame = PollFrame { entry, completed_since: None };
        let result = this.inner.poll(cx);
        if result.is_ready()
            && let FutureState::Recording { first_poll } = *this.state
        {
            frame.completed_since = Some(first_poll);
        }
        drop(frame);
        result
    }
}
