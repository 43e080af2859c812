//! The profiler's own cost per call, measured once per process so reports can state it and,
//! on request, subtract it.
//!
//! The first thread that starts recording runs an empty instrumented function in a loop
//! through the real hot path (before its own first frame opens, so no user stage sees the
//! time), and compares the loop with the same loop calling an empty uninstrumented function.
//! Of several rounds the fastest is kept, which filters out preemption. The part of the cost
//! that falls inside the stage's own interval is what the empty stage's calls recorded: their
//! mean, without the slowest [`OUTLIERS`] (see [`typical_mean`]). The calibration stage's calls
//! are then erased, and snapshots skip the stage altogether. It costs about 0.2 ms once.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use std::time::{Duration, Instant};

use crate::callsite::Callsite;
use crate::clock;
use crate::histogram::{Histogram, bucket_value};
use crate::thread;

/// Calls per round, and rounds.
const CALLS: u64 = 1000;
const ROUNDS: usize = 5;
/// The share of the slowest calibration calls left out of the in-stage cost: interrupted calls.
const OUTLIERS: f64 = 0.01;
/// Stage id of the calibration stage plus one (0 while not registered).
static STAGE: AtomicU32 = AtomicU32::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);
/// Set once the calibration has stored its results (or given up).
static FINISHED: AtomicBool = AtomicBool::new(false);
/// How long a snapshot waits for a calibration another thread is running: it takes about
/// 0.2 ms, far longer only on an overloaded or emulated machine.
const WAIT_FOR_RESULT: Duration = Duration::from_secs(1);
/// `f64` bits of the results, in ticks.
static PER_CALL_TICKS: AtomicU64 = AtomicU64::new(0);
static IN_STAGE_TICKS: AtomicU64 = AtomicU64::new(0);

static CALLSITE: Callsite = Callsite::named("profiler::calibration");

/// Runs the calibration on the calling thread if no thread has yet. The caller is about to
/// open its first frame, so no user frame is open on this thread.
pub(crate) fn once_per_process() {
    if STARTED.swap(true, Relaxed) {
        return;
    }
    calibrate();
    FINISHED.store(true, Release);
}

/// Waits, up to [`WAIT_FOR_RESULT`], for a calibration that another thread has started, so
/// that a snapshot taken meanwhile does not report an uncalibrated overhead.
pub(crate) fn wait_for_result() {
    let deadline = Instant::now() + WAIT_FOR_RESULT;
    while STARTED.load(Relaxed) && !FINISHED.load(Acquire) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Measures the cost per call and stores it (see the [module documentation](self)).
fn calibrate() {
    let Some(stage) = CALLSITE.registered().or_else(|| thread::while_busy(|| CALLSITE.register())) else {
        return;
    };
    STAGE.store(stage.0 + 1, Relaxed);
    let (mut with_stage, mut without) = (u64::MAX, u64::MAX);
    for _ in 0..ROUNDS {
        let start = clock::now();
        for _ in 0..CALLS {
            empty_stage();
        }
        let middle = clock::now();
        for _ in 0..CALLS {
            empty_function();
        }
        let end = clock::now();
        with_stage = with_stage.min(middle.saturating_sub(start));
        without = without.min(end.saturating_sub(middle));
    }
    let per_call = with_stage.saturating_sub(without) as f64 / CALLS as f64;
    let in_stage = thread::with_data(|data| {
        let mut histogram = Histogram::default();
        if let Some(recorded) = data.histogram(stage.0) {
            recorded.add_scaled_to(&mut histogram, 1.0);
        }
        data.clear_stage(stage.0);
        // The thread has no frame of its own open yet: every event it holds is the calibration's.
        if let Some(events) = &data.events {
            events.clear();
        }
        typical_mean(&histogram)
    });
    if let Some(in_stage) = in_stage {
        IN_STAGE_TICKS.store(in_stage.to_bits(), Relaxed);
        PER_CALL_TICKS.store(per_call.max(in_stage).to_bits(), Relaxed);
    }
}

/// The mean of the recorded values without the slowest [`OUTLIERS`] of them; 0 when empty.
///
/// Not the median: on a coarse clock (Apple silicon's counter ticks every 41.7 ns) an empty
/// stage measures 0 ticks most of the time and 1 tick now and then, so its median is 0 while
/// the mean of the ticks is the real cost. On a fine clock the two barely differ.
fn typical_mean(histogram: &Histogram) -> f64 {
    let count = histogram.count();
    let mut keep = count - (count as f64 * OUTLIERS).floor() as u64;
    let kept = keep;
    let mut sum = 0.0;
    for &(bucket, calls) in histogram.buckets() {
        let taken = calls.min(keep);
        sum += bucket_value(bucket.into()) as f64 * taken as f64;
        keep -= taken;
        if keep == 0 {
            break;
        }
    }
    if kept == 0 { 0.0 } else { sum / kept as f64 }
}

/// Whether `stage` is the calibration's own stage (left out of snapshots).
pub(crate) fn is_calibration_stage(stage: u32) -> bool {
    STAGE.load(Relaxed) == stage + 1
}

/// (per call, in stage), in ticks; zeros before calibration.
pub(crate) fn overhead_ticks() -> (f64, f64) {
    (f64::from_bits(PER_CALL_TICKS.load(Relaxed)), f64::from_bits(IN_STAGE_TICKS.load(Relaxed)))
}

/// What `#[instrument_stage]` generates for an empty function, written out by hand.
#[inline(never)]
fn empty_stage() {
    let _stage = crate::__private::enter(&CALLSITE);
    black_box(());
}

#[inline(never)]
fn empty_function() {
    black_box(());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typical_mean_leaves_out_interrupted_calls_but_not_rare_ticks() {
        assert!(typical_mean(&Histogram::default()).abs() < f64::EPSILON);
        // A coarse clock: three calls in four measure 0 ticks, the fourth 1 tick; two were
        // interrupted. The median would be 0.
        let mut coarse = Histogram::default();
        coarse.record_n(0, 747);
        coarse.record_n(1, 251);
        coarse.record_n(90_000, 2);
        assert_eq!(coarse.quantile(0.5), 0);
        // 1000 calls, of which the slowest 10 are left out: the two interrupted, eight ticks.
        assert!((typical_mean(&coarse) - 243.0 / 990.0).abs() < 1e-9, "{}", typical_mean(&coarse));
        // A fine clock: the mean of what remains.
        let mut fine = Histogram::default();
        for value in [30, 31, 32, 33, 34] {
            fine.record_n(value, 200);
        }
        fine.record_n(1_000_000, 5);
        let mean = typical_mean(&fine);
        assert!((mean - 32.0).abs() < 0.02, "{mean}");
    }
}
