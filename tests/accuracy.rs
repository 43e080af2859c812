//! Accuracy of short and memory-bound stages: functions of known cost, measured uninstrumented,
//! against the median the profiler reports once its calibrated overhead is subtracted.
//!
//! Optimised builds only (`cargo test --release --test accuracy`, part of the README's test
//! command): in a debug build the profiler's own unoptimised exit path fills the CPU's
//! reorder window before the end stamp is read, which hides exactly the errors these tests are
//! here to catch.
//!
//! Its own test binary because it resets the registry (its tests take turns, see [`SERIAL`]).
//! Medians are robust to preemption on a shared machine; each check retries a few times before
//! failing.

use std::hint::black_box;
use std::sync::Mutex;
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

/// Both tests reset and read the global registry: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the test's turn and records with the default clock, whatever `PROFILE_CLOCK` says
/// (without a TSC, `Instant`, which waits for earlier instructions too).
fn setup() -> std::sync::MutexGuard<'static, ()> {
    let turn = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = profiler_core::set_clock_mode(profiler_core::ClockMode::Exact);
    profiler_core::set_enabled(true);
    turn
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
#[cfg_attr(debug_assertions, ignore = "measured on optimised code: cargo test --release --test accuracy")]
fn small_stages_are_accurate_once_compensated() {
    let _serial = setup();
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

/// A random cycle through `len` slots (Sattolo's shuffle): following it from any slot visits
/// every slot, in an order the prefetchers cannot guess.
fn random_cycle(len: usize) -> Vec<u32> {
    let mut next: Vec<u32> = (0..len as u32).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for i in (1..len).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        next.swap(i, (state % i as u64) as usize);
    }
    next
}

/// Dependent loads far apart in memory: each waits for the one before, so the stage's time is
/// memory latency, not instructions.
#[inline(never)]
fn chase(next: &[u32], mut slot: u32) -> u32 {
    for _ in 0..8 {
        slot = next[slot as usize];
    }
    slot
}

#[inline(never)]
#[instrument_stage(name = "accuracy::chase")]
fn instrumented_chase(next: &[u32], slot: u32) -> u32 {
    chase(next, slot)
}

/// The loads of a memory-bound stage are still in flight when its last instruction is issued:
/// an end stamp that does not wait for them (`PROFILE_CLOCK=fast`) makes such a stage look
/// several times shorter than it is. The default clock must not.
#[test]
#[cfg_attr(debug_assertions, ignore = "measured on optimised code: cargo test --release --test accuracy")]
fn memory_bound_stages_are_not_under_measured() {
    let _serial = setup();
    let next = random_cycle(1 << 22); // 16 MiB: four times the L2 cache of the reference VM
    let mut attempts = Vec::new();
    for _ in 0..5 {
        profiler_core::reset();
        let (mut plain, mut slot) = (Vec::new(), 0);
        for _ in 0..100 {
            let start = Instant::now();
            for _ in 0..20 {
                slot = chase(&next, slot);
            }
            plain.push(start.elapsed().as_nanos() as f64 / 20.0);
            for _ in 0..20 {
                slot = instrumented_chase(&next, slot);
            }
        }
        black_box(slot);
        let truth = median(plain);
        let snapshot = profiler_core::snapshot();
        let stage = snapshot.stage("accuracy::chase").expect("recorded");
        assert_eq!(stage.calls, 2_000);
        let compensated = stage.percentile_ns(0.5) as f64 - snapshot.overhead.in_stage_ns;
        let error = (compensated - truth).abs() / truth;
        eprintln!("memory-bound: true {truth:.0} ns, compensated median {compensated:.0} ns");
        if error <= 0.25 {
            return;
        }
        attempts.push(format!("true {truth:.0} ns, compensated median {compensated:.0} ns ({:.1} %)", error * 100.0));
    }
    panic!("memory-bound stage off by more than 25 % in every attempt: {attempts:#?}");
}
