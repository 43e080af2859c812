//! Accuracy of small stages: a function of known cost, measured uninstrumented, against the
//! median the profiler reports once its calibrated overhead is subtracted.
//!
//! Its own test binary because it resets the registry. Medians are robust to preemption on a
//! shared machine; the check retries a few times before failing.

use std::hint::black_box;
use std::time::Instant;

use profiler_macros::instrument_stage;

/// A fixed amount of arithmetic: a few hundred nanoseconds, long enough for the clock,
/// short enough that the profiler's cost matters.
#[inline(never)]
fn known_work(seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..400 {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407));
    }
    x
}

#[inline(never)]
#[instrument_stage(name = "accuracy::known_work")]
fn instrumented_work(seed: u64) -> u64 {
    known_work(seed)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median cost of one uninstrumented call, from batches timed with `Instant`.
fn uninstrumented_ns() -> f64 {
    let batches: Vec<f64> = (0..101)
        .map(|batch| {
            let start = Instant::now();
            for i in 0..200 {
                black_box(known_work(batch * 1000 + i));
            }
            start.elapsed().as_nanos() as f64 / 200.0
        })
        .collect();
    median(batches)
}

#[test]
fn small_stages_are_accurate_once_compensated() {
    profiler_core::set_enabled(true);
    let mut attempts = Vec::new();
    for _ in 0..5 {
        profiler_core::reset();
        let truth = uninstrumented_ns();
        for i in 0..20_000 {
            black_box(instrumented_work(i));
        }
        let snapshot = profiler_core::snapshot();
        let stage = snapshot.stage("accuracy::known_work").expect("recorded");
        assert_eq!(stage.calls, 20_000);
        let compensated = stage.percentile_ns(0.5) as f64 - snapshot.overhead.in_stage_ns;
        let error = (compensated - truth).abs() / truth;
        if error <= 0.10 {
            return;
        }
        attempts.push(format!("true {truth:.0} ns, compensated median {compensated:.0} ns ({:.1} %)", error * 100.0));
    }
    panic!("compensated median off by more than 10 % in every attempt: {attempts:#?}");
}
