//! fastrace: `#[trace]` under root spans, with a reporter that counts the spans it receives.
//!
//! A `#[trace]` function records a span only under a local parent (a root span set with
//! `set_local_parent`), so the contender opens root spans itself: one per 1,000 calls (a
//! "request"), or one per 100,000 calls (a long job), which shows what happens to a large
//! trace: a thread's local span queue holds at most 10,240 spans under one local parent, and
//! later spans are dropped without notice. Finished traces go to a collector thread that
//! hands them to the reporter (every second by default); `end_scenario` flushes it. Between
//! timed batches, `settle` flushes too, so that the collector's work (several hundred
//! nanoseconds per span, see the memory table) runs then rather than during another
//! contender's batch.
//!
//! Off: calls with no root span (no local parent) record nothing.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

use fastrace::Span;
use fastrace::collector::{Config, Reporter, SpanContext, SpanRecord};
use fastrace::local::LocalParentGuard;

use crate::measure::{Contender, Expect};
use crate::work::drive;

/// The span name of [`fastrace_work`].
const SPAN: &str = "fastrace_work";
/// The span name of [`fastrace_long_work`].
const LONG_SPAN: &str = "fastrace_long_work";

/// The function of the root-per-1k and no-root contenders.
#[inline(never)]
#[fastrace::trace(name = "fastrace_work")]
fn fastrace_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// The function of the long-root contender (a separate span name, separately counted).
#[inline(never)]
#[fastrace::trace(name = "fastrace_long_work")]
fn fastrace_long_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// Spans named [`SPAN`] the reporter has received.
static REPORTED: AtomicU64 = AtomicU64::new(0);
/// Spans named [`LONG_SPAN`] the reporter has received.
static REPORTED_LONG: AtomicU64 = AtomicU64::new(0);

/// Counts the spans of the two work functions and drops the records, as a network reporter
/// would after sending them.
struct CountingReporter;

impl Reporter for CountingReporter {
    fn report(&mut self, spans: Vec<SpanRecord>) {
        for span in &spans {
            if span.name == SPAN {
                REPORTED.fetch_add(1, Ordering::Relaxed);
            } else if span.name == LONG_SPAN {
                REPORTED_LONG.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Sets the counting reporter with the default configuration, once.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| fastrace::set_reporter(CountingReporter, Config::default()));
}

/// A root span set as the thread's local parent, with the calls it may still take.
struct OpenRoot {
    // Field order is drop order: the local parent is unset before the root span ends.
    _parent: LocalParentGuard,
    _root: Span,
    left: u64,
}

impl OpenRoot {
    fn new(calls: u64) -> Self {
        let root = Span::root("comparison::root", SpanContext::random());
        Self { _parent: root.set_local_parent(), _root: root, left: calls }
    }
}

thread_local! {
    /// The long-lived root of this thread, kept across batches.
    static LONG_ROOT: RefCell<Option<OpenRoot>> = const { RefCell::new(None) };
}

/// Where the contender opens root spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Roots {
    /// A root span around every `n` calls within a batch.
    Every(u64),
    /// A root span around every `n` calls on a thread, kept open across batches.
    Long(u64),
    /// No root span: fastrace's off state.
    None,
}

/// `#[trace]` under the given root spans.
pub(crate) struct Fastrace {
    /// Where root spans are opened.
    pub(crate) roots: Roots,
}

impl Fastrace {
    /// `calls` calls in chunks of at most `chunk`, each under a fresh root span.
    fn short_roots(calls: u64, chunk: u64) -> u64 {
        let mut acc = 0u64;
        let mut done = 0;
        while done < calls {
            let n = chunk.min(calls - done);
            let root = OpenRoot::new(n);
            acc = acc.wrapping_add(drive(n, fastrace_work));
            drop(root);
            done += n;
        }
        acc
    }

    /// `calls` calls under this thread's long-lived root, replaced after every `chunk` calls.
    fn long_root(calls: u64, chunk: u64) -> u64 {
        let mut acc = 0u64;
        let mut done = 0;
        while done < calls {
            let take = LONG_ROOT.with_borrow_mut(|slot| {
                let open = slot.get_or_insert_with(|| OpenRoot::new(chunk));
                let take = open.left.min(calls - done);
                open.left -= take;
                take
            });
            acc = acc.wrapping_add(drive(take, fastrace_long_work));
            done += take;
            let finished = LONG_ROOT.with_borrow_mut(|slot| slot.take_if(|open| open.left == 0));
            drop(finished); // ends the root outside the borrow
        }
        acc
    }
}

impl Contender for Fastrace {
    fn name(&self) -> &'static str {
        match self.roots {
            Roots::Every(_) => "fastrace: #[trace], root per 1k calls",
            Roots::Long(_) => "fastrace: #[trace], root per 100k calls",
            Roots::None => "fastrace: no root span",
        }
    }

    fn run(&self, calls: u64) -> u64 {
        match self.roots {
            Roots::Every(chunk) => Self::short_roots(calls, chunk),
            Roots::Long(chunk) => Self::long_root(calls, chunk),
            Roots::None => drive(calls, fastrace_work),
        }
    }

    fn expect(&self) -> Expect {
        if self.roots == Roots::None { Expect::Nothing } else { Expect::EveryCall }
    }

    fn begin_scenario(&self) {
        install();
    }

    fn settle(&self) {
        fastrace::flush();
        crate::measure::wait_for_quiet();
    }

    fn end_thread(&self) {
        let open = LONG_ROOT.with_borrow_mut(Option::take);
        drop(open);
    }

    fn end_scenario(&self) {
        fastrace::flush();
        let total = || REPORTED.load(Ordering::Relaxed) + REPORTED_LONG.load(Ordering::Relaxed);
        let at_flush = total();
        // `flush` only sees the commands in each thread's channel (10,240 slots); a thread that
        // produced faster than the collector drained keeps the rest in a private overflow queue
        // that moves into the channel only at its next send. An empty root span is such a send.
        let mut rounds = 0;
        loop {
            let before = total();
            drop(OpenRoot::new(0));
            fastrace::flush();
            rounds += 1;
            if total() == before || rounds == 1_000 {
                break;
            }
        }
        let late = total() - at_flush;
        if late > 0 {
            crate::report::note(format!(
                "fastrace: {} spans had not reached the reporter after `fastrace::flush()`: they were waiting in \
                 the calling thread's overflow queue (its channel to the collector holds 10,240 commands) and \
                 arrived only after {rounds} more send(s) from that thread (an empty root span) and flushes; they \
                 are counted above. A thread that stops sending after such a burst leaves them there, and one that \
                 exits while its channel is full drops them.",
                crate::report::thousands(late)
            ));
        }
    }

    fn recorded(&self) -> Option<u64> {
        let counter = if matches!(self.roots, Roots::Long(_)) { &REPORTED_LONG } else { &REPORTED };
        Some(counter.load(Ordering::Relaxed))
    }
}
