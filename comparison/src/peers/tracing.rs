//! tracing: `#[instrument]` under a global `Registry` with a small timing layer.
//!
//! The layer does what a span-timing layer does (tracing-subscriber's own `FmtSpan::CLOSE`
//! timings work the same way): on enter it stores the time in the span's extensions, on exit
//! it adds the busy time, on close it adds the span's busy time and one call to per-name
//! totals. The totals are kept per thread, as this workspace's profiler does, so that two
//! threads never write to the same cache line, and merged into a global table when a thread
//! hands them over (after each batch) or exits.
//!
//! Off: no subscriber installed (the run-time-off scenario runs before the subscriber is set);
//! the level check fails on a static and the span is never created.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use tracing::Subscriber;
use tracing::span::Id;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::measure::{Contender, Expect};
use crate::work::drive;

/// The span name of [`tracing_work`].
const SPAN: &str = "tracing_work";

#[inline(never)]
#[tracing::instrument(level = "info", name = "tracing_work", skip_all)]
fn tracing_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// Per-span timing state, kept in the span's extensions.
struct Busy {
    entered: Instant,
    busy: Duration,
}

/// Per-name call counts and busy time.
#[derive(Default)]
struct Totals(Vec<(&'static str, u64, Duration)>);

impl Totals {
    fn add(&mut self, name: &'static str, calls: u64, busy: Duration) {
        if let Some(entry) = self.0.iter_mut().find(|entry| entry.0 == name) {
            entry.1 += calls;
            entry.2 += busy;
        } else {
            self.0.push((name, calls, busy));
        }
    }
}

/// Totals handed over by threads.
static MERGED: Mutex<Totals> = Mutex::new(Totals(Vec::new()));

/// This thread's totals, merged into [`MERGED`] by [`hand_over`] or when the thread exits.
struct ThreadTotals(RefCell<Totals>);

impl Drop for ThreadTotals {
    fn drop(&mut self) {
        merge(std::mem::take(&mut *self.0.borrow_mut()));
    }
}

thread_local! {
    static LOCAL: ThreadTotals = ThreadTotals(RefCell::new(Totals::default()));
}

fn merge(totals: Totals) {
    let mut merged = MERGED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (name, calls, busy) in totals.0 {
        merged.add(name, calls, busy);
    }
}

/// Merges the calling thread's totals into the global table.
fn hand_over() {
    let _ = LOCAL.try_with(|local| merge(std::mem::take(&mut *local.0.borrow_mut())));
}

/// Calls recorded under `name` by threads that handed their totals over.
fn merged_calls(name: &str) -> u64 {
    let merged = MERGED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    merged.0.iter().filter(|entry| entry.0 == name).map(|entry| entry.1).sum()
}

/// A layer that records each span's busy time (enter to exit) and call count per span name.
struct TimingLayer;

impl<S> Layer<S> for TimingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let now = Instant::now();
        if let Some(timing) = extensions.get_mut::<Busy>() {
            timing.entered = now;
        } else {
            extensions.insert(Busy { entered: now, busy: Duration::ZERO });
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let now = Instant::now();
        let Some(span) = ctx.span(id) else { return };
        if let Some(timing) = span.extensions_mut().get_mut::<Busy>() {
            timing.busy += now.saturating_duration_since(timing.entered);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let busy = span.extensions().get::<Busy>().map_or(Duration::ZERO, |timing| timing.busy);
        let name = span.name();
        let _ = LOCAL.try_with(|local| local.0.borrow_mut().add(name, 1, busy));
    }
}

/// Whether the global subscriber has been installed (it cannot be removed again).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs `Registry` + [`TimingLayer`] as the global default subscriber, once.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(TimingLayer);
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("tracing: a global subscriber was already set");
        }
        INSTALLED.store(true, Ordering::Release);
    });
}

/// `#[instrument]` with the timing layer installed (`subscriber`) or no subscriber at all.
pub(crate) struct Tracing {
    /// Whether `begin_scenario` installs the subscriber.
    pub(crate) subscriber: bool,
}

impl Contender for Tracing {
    fn name(&self) -> &'static str {
        if self.subscriber { "tracing: #[instrument] + timing layer" } else { "tracing: no subscriber" }
    }

    fn run(&self, calls: u64) -> u64 {
        drive(calls, tracing_work)
    }

    fn expect(&self) -> Expect {
        if self.subscriber { Expect::EveryCall } else { Expect::Nothing }
    }

    fn begin_scenario(&self) {
        if self.subscriber {
            install();
        } else if INSTALLED.load(Ordering::Acquire) {
            eprintln!(
                "tracing: the subscriber is already installed, so the no-subscriber row is not an off measurement"
            );
        }
    }

    fn harvest_thread(&self) {
        hand_over();
    }

    fn recorded(&self) -> Option<u64> {
        hand_over();
        Some(merged_calls(SPAN))
    }
}
