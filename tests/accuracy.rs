//! Accuracy of small stages: a function of known cost, measured uninstrumented, against the
//! median the profiler reports once its calibrated overhead is subtracted.
//!
//! Its own test binary because it resets the registry. Medians are robust to preemption on a
//! shared machine; the check retries a few times before failing.

use std::hint::black_box;
use std::time::Instant;

use profiler_macros::instrument_stage;

/// A fixed amount of arithmetic: about 100 ns in a release build, long enough for the clock,
/// short enough that the profiler's cost matters.
#[inline(never)]
fn known_work(seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..64 {
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

#[test]
fn small_stages_are_accurate_once_compensated() {
    profiler_core::set_enabled(true);
    let mut attempts = Vec::new();
    for _ in 0..5 {
        profiler_core::reset();
        // Interleaved, so that whatever else the machine does slows both sides alike: each
        // round times a batch of uninstrumented calls (so the clock's own cost is spread over
        // the batch), then makes as many instrumented calls.
        // Each call's input is the previous call's output, so calls run one after the other
        // (as they do inside a real program) instead of overlapping in the CPU's pipeline.
        let (mut plain, mut x) = (Vec::new(), 1);
        for _ in 0..200 {
            let start = Instant::now();
            for _ in 0..100 {
                x = known_work(x);
            }
            plain.push(start.elapsed().as_nanos() as f64 / 100.0);
            for _ in 0..100 {
                x = instrumented_work(x);
            }
        }
        black_box(x);
        let truth = median(plain);
        let snapshot = profiler_core::snapshot();
        let stage = snapshot.stage("accuracy::known_work").expect("recorded");
        assert_eq!(stage.calls, 20_000);
        let compensated = stage.percentile_ns(0.5) as f64 - snapshot.overhead.in_stage_ns;
        let error = (compensated - truth).abs() / truth;
        eprintln!(
            "true {truth:.0} ns, compensated median {compensated:.0} ns, in-stage overhead {:.1} ns",
            snapshot.overhead.in_stage_ns
        );
        if error <= 0.10 {
            return;
        }
        attempts.push(format!("true {truth:.0} ns, compensated median {compensated:.0} ns ({:.1} %)", error * 100.0));
    }
    panic!("compensated median off by more than 10 % in every attempt: {attempts:#?}");
}
