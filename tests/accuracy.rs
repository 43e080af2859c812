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
//! failing. The fallback clock (`PROFILE_CLOCK=instant`, the default without an invariant TSC)
//! is checked in a child process, since a process's clock source is fixed once it starts.

mod support;

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Instant;

use profiler_core::ClockMode;
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

/// Set in the child process that checks the fallback clock (to the name of its test).
const INSTANT_CHILD: &str = "PROFILER_ACCURACY_INSTANT_CHILD";

/// Takes the test's turn and records with the default clock, whatever `PROFILE_CLOCK` says
/// (without a TSC, `Instant`'s, which waits for earlier instructions too), or in the
/// [`INSTANT_CHILD`] with the fallback clock.
fn setup() -> std::sync::MutexGuard<'static, ()> {
    let turn = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mode = if std::env::var_os(INSTANT_CHILD).is_some() { ClockMode::Instant } else { ClockMode::Exact };
    let _ = profiler_core::set_clock_mode(mode);
    profiler_core::set_enabled(true);
    turn
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Interleaved, so that whatever else the machine does slows both sides alike: each of
/// `rounds` rounds times a batch of `batch` uninstrumented calls (`call(false)`; the clock's own
/// cost is spread over the batch), then makes as many instrumented calls (`call(true)`). Checks
/// that the stage's median, less the calibrated in-stage overhead, is within `tolerance` of the
/// median uninstrumented call; five attempts.
fn check_accuracy(stage: &str, rounds: usize, batch: usize, tolerance: f64, mut call: impl FnMut(bool)) {
    let mut attempts = Vec::new();
    for _ in 0..5 {
        profiler_core::reset();
        let mut plain = Vec::new();
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..batch {
                call(false);
            }
            plain.push(start.elapsed().as_nanos() as f64 / batch as f64);
            for _ in 0..batch {
                call(true);
            }
        }
        let truth = median(plain);
        let snapshot = profiler_core::snapshot();
        let recorded = snapshot.stage(stage).expect("recorded");
        assert_eq!(recorded.calls, (rounds * batch) as u64);
        let in_stage = snapshot.overhead.in_stage_ns;
        let compensated = recorded.percentile_ns(0.5) as f64 - in_stage;
        let error = (compensated - truth) / truth;
        let line = format!(
            "{stage}: true {truth:.0} ns, compensated median {compensated:.0} ns ({:+.1} %), in-stage overhead {in_stage:.1} ns",
            error * 100.0
        );
        eprintln!("{line}");
        if error.abs() <= tolerance {
            return;
        }
        attempts.push(line);
    }
    panic!("off by more than {:.0} % in every attempt: {attempts:#?}", tolerance * 100.0);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "measured on optimised code: cargo test --release --test accuracy")]
fn small_stages_are_accurate_once_compensated() {
    let _serial = setup();
    small_stages_check();
}

fn small_stages_check() {
    // Each call's input is the previous call's output, so calls run one after the other (as
    // they do inside a real program) instead of overlapping in the CPU's pipeline.
    let mut x = 1;
    check_accuracy("accuracy::known_work", 200, 100, 0.10, |instrumented| {
        x = if instrumented { instrumented_work(x) } else { known_work(x) };
    });
    black_box(x);
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
    memory_bound_check();
}

fn memory_bound_check() {
    let next = random_cycle(1 << 22); // 16 MiB: four times the L2 cache of the reference VM
    let mut slot = 0;
    check_accuracy("accuracy::chase", 100, 20, 0.25, |instrumented| {
        slot = if instrumented { instrumented_chase(&next, slot) } else { chase(&next, slot) };
    });
    black_box(slot);
}

/// Both checks again with the fallback clock, in a child process of this test binary.
#[test]
#[cfg_attr(debug_assertions, ignore = "measured on optimised code: cargo test --release --test accuracy")]
fn the_fallback_clock_is_accurate_too() {
    const TEST: &str = "the_fallback_clock_is_accurate_too";
    support::run_program_if_child(INSTANT_CHILD, TEST, || {
        let _serial = setup();
        assert_eq!(profiler_core::clock_mode(), ClockMode::Instant);
        small_stages_check();
        memory_bound_check();
        std::process::exit(0);
    });
    let run = support::run_child(INSTANT_CHILD, TEST, &std::env::temp_dir(), &["PROFILE", "PROFILE_CLOCK"], &[]);
    eprintln!("{}", run.stderr);
    assert!(run.status.success(), "the fallback clock's checks failed: {}", run.stderr);
}
