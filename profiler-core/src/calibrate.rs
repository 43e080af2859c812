//! The profiler's own cost per call, measured at start-up and again at the first snapshots,
//! so that reports can state it and, on request, subtract it.
//!
//! The first thread that starts recording runs an empty instrumented function in a loop
//! through the real hot path (before its own first frame opens, so no user stage sees the
//! time), and compares the loop with the same loop calling an empty uninstrumented function.
//! Of several rounds the fastest is kept, which filters out preemption. The part of the cost
//! that falls inside the stage's own interval is what the empty stage's calls recorded: their
//! mean, without the slowest [`OUTLIERS`] (see [`typical_mean`]). The calibration stage's calls
//! are then erased, and snapshots skip the stage altogether. It costs about 0.2 ms.
//!
//! One measurement that short can be disturbed as a whole (a busy neighbour on the same
//! physical core, say: once in about 25 runs the fallback clock's in-stage cost came out 50 %
//! high), and it would then skew every compensated number of the run. So each snapshot
//! measures again, up to [`MAX_CALIBRATIONS`] in all, on a short-lived thread of its own (with
//! no frame open, like the first one, and hidden from snapshots, so that whatever else it
//! records, calls to an instrumented allocator say, is not taken for the program's), and the
//! lowest result so far is kept: a disturbance only ever adds time.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use std::time::{Duration, Instant};

use crate::callsite::Callsite;
use crate::clock;
use crate::histogram::{Histogram, bucket_value};
use crate::switch;
use crate::thread;

/// Calls per round, and rounds.
const CALLS: u64 = 1000;
const ROUNDS: usize = 5;
/// The share of the slowest calibration calls left out of the in-stage cost: interrupted calls.
const OUTLIERS: f64 = 0.01;
/// Stage id of the calibration stage plus one (0 while not registered).
static STAGE: AtomicU32 = AtomicU32::new(0);
/// Set once the calibration has stored its results (or given up).
static FINISHED: AtomicBool = AtomicBool::new(false);
/// How long a snapshot waits for a calibration another thread is running: it takes about
/// 0.2 ms, far longer only on an overloaded or emulated machine.
const WAIT_FOR_RESULT: Duration = Duration::from_secs(1);
/// Calibrations a process runs at most: the first, then one per snapshot.
const MAX_CALIBRATIONS: u32 = 8;
/// Calibrations started so far (the first one marks the start), never more than
/// [`MAX_CALIBRATIONS`].
static CALIBRATIONS: AtomicU32 = AtomicU32::new(0);
/// `f64` bits of the lowest results so far, in ticks, or [`NO_RESULT`].
static PER_CALL_TICKS: AtomicU64 = AtomicU64::new(NO_RESULT);
static IN_STAGE_TICKS: AtomicU64 = AtomicU64::new(NO_RESULT);
/// Bits of a NaN, which no measurement gives.
const NO_RESULT: u64 = u64::MAX;

static CALLSITE: Callsite = Callsite::named("profiler::calibration");

/// Runs the calibration on the calling thread if no thread has yet. The caller is about to
/// open its first frame, so no user frame is open on this thread.
pub(crate) fn once_per_process() {
    if !start_calibration(|started| started == 0) {
        return;
    }
    calibrate();
    FINISHED.store(true, Release);
}

/// Measures once more on a thread of its own, if the first calibration has run and fewer than
/// [`MAX_CALIBRATIONS`] have; the caller (a snapshot) waits for it, about 0.3 ms.
pub(crate) fn again() {
    if !FINISHED.load(Acquire) || !switch::is_enabled() || !start_calibration(|started| started < MAX_CALIBRATIONS) {
        return;
    }
    // No thread to be had (a limit, a platform without threads): the results so far stand.
    let helper = std::thread::Builder::new().name("profiler-calibration".into()).spawn(|| {
        thread::hide_from_snapshots();
        calibrate();
    });
    if let Ok(helper) = helper {
        let _ = helper.join();
    }
}

/// Counts one more calibration if `allowed` says so of the number started so far.
fn start_calibration(allowed: impl Fn(u32) -> bool) -> bool {
    CALIBRATIONS.fetch_update(Relaxed, Relaxed, |started| allowed(started).then_some(started + 1)).is_ok()
}

/// Waits, up to [`WAIT_FOR_RESULT`], for a calibration that another thread has started, so
/// that a snapshot taken meanwhile does not report an uncalibrated overhead.
pub(crate) fn wait_for_result() {
    let deadline = Instant::now() + WAIT_FOR_RESULT;
    while CALIBRATIONS.load(Relaxed) > 0 && !FINISHED.load(Acquire) && Instant::now() < deadline {
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
        // Each pair has per call >= in stage, so the two lowest keep that order too.
        keep_lowest(&IN_STAGE_TICKS, in_stage);
        keep_lowest(&PER_CALL_TICKS, per_call.max(in_stage));
    }
}

/// Stores `ticks` in `result` if lower than what it holds, or if it holds nothing yet.
fn keep_lowest(result: &AtomicU64, ticks: f64) {
    let _ = result.fetch_update(Relaxed, Relaxed, |bits| {
        (bits == NO_RESULT || ticks < f64::from_bits(bits)).then_some(ticks.to_bits())
    });
}

/// The value of a result, 0 before the first.
fn result(ticks: &AtomicU64) -> f64 {
    match ticks.load(Relaxed) {
        NO_RESULT => 0.0,
        bits => f64::from_bits(bits),
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
    (result(&PER_CALL_TICKS), result(&IN_STAGE_TICKS))
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

    /// The only test of this crate that records: nothing else here touches the global registry.
    #[test]
    fn a_snapshot_measures_again_and_keeps_the_lowest_result_without_showing_its_thread() {
        crate::set_enabled(true);
        crate::time_stage("calibrate::test", || {}); // The first calibration runs here.
        let (per_call, in_stage) = overhead_ticks();
        assert!(in_stage > 0.0 && per_call >= in_stage, "{per_call} {in_stage}");
        // As if a busy neighbour had slowed the first calibration tenfold.
        PER_CALL_TICKS.store((per_call * 10.0).to_bits(), Relaxed);
        IN_STAGE_TICKS.store((in_stage * 10.0).to_bits(), Relaxed);
        let snapshot = crate::snapshot();
        let (per_call_now, in_stage_now) = overhead_ticks();
        // Generous: the new measurement only has to be a plausible one.
        assert!(in_stage_now < in_stage * 5.0, "{in_stage} then {in_stage_now}");
        assert!(per_call_now < per_call * 5.0 && per_call_now >= in_stage_now, "{per_call} then {per_call_now}");
        let overhead = snapshot.overhead;
        assert!(overhead.in_stage_ns > 0.0 && overhead.in_stage_ns < in_stage * 5.0 * crate::clock::ns_per_tick());
        // The helper thread recorded only the calibration stage: it is not counted.
        assert_eq!(snapshot.threads, 1);
        let names: Vec<&str> = snapshot.stages.iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["calibrate::test"]);
        // Once the limit is reached, snapshots measure no more: a result stored now stays.
        for _ in 0..MAX_CALIBRATIONS {
            let _ = crate::snapshot();
        }
        IN_STAGE_TICKS.store((in_stage * 10.0).to_bits(), Relaxed);
        let _ = crate::snapshot();
        assert_eq!(overhead_ticks().1.to_bits(), (in_stage * 10.0).to_bits());
    }

    #[test]
    fn only_a_lower_result_replaces_the_one_kept() {
        let ticks = AtomicU64::new(NO_RESULT);
        let kept = |ticks: &AtomicU64| result(ticks).to_bits();
        assert_eq!(kept(&ticks), 0.0f64.to_bits());
        keep_lowest(&ticks, 30.0);
        keep_lowest(&ticks, 40.0);
        assert_eq!(kept(&ticks), 30.0f64.to_bits());
        keep_lowest(&ticks, 20.0);
        assert_eq!(kept(&ticks), 20.0f64.to_bits());
        keep_lowest(&ticks, 0.0);
        keep_lowest(&ticks, 5.0);
        assert_eq!(kept(&ticks), 0.0f64.to_bits(), "0 is a result, not 'none yet'");
    }

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
