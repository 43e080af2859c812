//! Cost of one instrumented call, side by side with the same function uninstrumented.
//!
//! `cargo bench --bench overhead`. Groups:
//! - `call`: baseline, the clock floor (the same function between two raw TSC reads, the same
//!   with the end read after an `lfence` as the profiler does, on aarch64 the same two with
//!   the virtual count and `isb`, and between two `Instant` reads, and between two direct
//!   `clock_gettime` reads), instrumented with profiling off at run time, instrumented and on
//!   (with the default clock, and with `PROFILE_CLOCK=fast`'s unfenced end stamp). A process's clock source is fixed once it starts, so the fallback
//!   clock is measured by a run of its own: `PROFILE_CLOCK=instant cargo bench --bench overhead`;
//! - `nesting`: a chain of 1, 2, 4 and 8 instrumented calls, 8 levels of recursion, and one
//!   stage calling 8 different stages in turn (`fan_out_8`);
//! - `threads`: the per-call cost with one thread and with two threads calling the same stage,
//!   and with one thread recording every call as an event (`PROFILE_TRACE`).
//!
//! The work function costs about 1 ns, so the differences are the profiler's own cost.
#![allow(missing_docs)] // criterion's macros generate undocumented functions.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use profiler_core::ClockMode;
use profiler_macros::instrument_stage;

#[inline(never)]
fn baseline(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// The work between two raw time-stamp-counter reads: the floor of any instrumentation that
/// reads the TSC at entry and exit.
#[inline(never)]
#[allow(unsafe_code)]
#[cfg(target_arch = "x86_64")]
fn between_tsc_reads(x: u64) -> u64 {
    // SAFETY: `rdtsc` has no preconditions on x86_64.
    let start = unsafe { std::arch::x86_64::_rdtsc() };
    let result = black_box(x).wrapping_mul(3);
    // SAFETY: as above.
    let end = unsafe { std::arch::x86_64::_rdtsc() };
    black_box(end.wrapping_sub(start));
    result
}

/// The same with the end stamp read after an `lfence`, as the profiler reads it (so that the
/// interval covers work still in flight).
#[inline(never)]
#[allow(unsafe_code)]
#[cfg(target_arch = "x86_64")]
fn between_fenced_tsc_reads(x: u64) -> u64 {
    // SAFETY: `rdtsc` and `lfence` have no preconditions on x86_64.
    let start = unsafe { std::arch::x86_64::_rdtsc() };
    let result = black_box(x).wrapping_mul(3);
    // SAFETY: as above.
    let end = unsafe {
        std::arch::x86_64::_mm_lfence();
        std::arch::x86_64::_rdtsc()
    };
    black_box(end.wrapping_sub(start));
    result
}

/// On aarch64, the work between two reads of the CPU's virtual count, plain (`fenced` false)
/// or the end one after an `isb` as the profiler reads it: that platform's counter floor.
#[inline(never)]
#[allow(unsafe_code)]
#[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn between_cntvct_reads(x: u64, fenced: bool) -> u64 {
    fn read() -> u64 {
        let count: u64;
        // SAFETY: reads a system register, which these systems let programs read (the profiler
        // times with it there); touches no memory.
        unsafe { std::arch::asm!("mrs {count}, cntvct_el0", count = out(reg) count, options(nostack)) };
        count
    }
    let start = read();
    let result = black_box(x).wrapping_mul(3);
    if fenced {
        // SAFETY: `isb` only flushes the pipeline.
        unsafe { std::arch::asm!("isb", options(nostack)) };
    }
    black_box(read().wrapping_sub(start));
    result
}

/// The same with `Instant`, the portable clock.
#[inline(never)]
fn between_instant_reads(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x).wrapping_mul(3);
    black_box(start.elapsed());
    result
}

/// The same between two direct `clock_gettime(CLOCK_MONOTONIC)` reads: the floor of the
/// fallback clock (`PROFILE_CLOCK=instant`), which reads it so, without `Instant`'s arithmetic.
#[inline(never)]
#[allow(unsafe_code)]
#[cfg(target_os = "linux")]
fn between_monotonic_reads(x: u64) -> u64 {
    fn now() -> u64 {
        // SAFETY: all zeroes is a valid `timespec` (plain integers); the call only writes it.
        let now = unsafe {
            let mut now: libc::timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now);
            now
        };
        (now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64)
    }
    let start = now();
    let result = black_box(x).wrapping_mul(3);
    black_box(now().wrapping_sub(start));
    result
}

#[inline(never)]
#[instrument_stage(name = "bench::work")]
fn instrumented(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[inline(never)]
#[instrument_stage(name = "bench::level")]
fn chain(depth: u32, x: u64) -> u64 {
    if depth <= 1 { instrumented(x) } else { chain(depth - 1, x) }
}

#[inline(never)]
fn plain_chain(depth: u32, x: u64) -> u64 {
    if depth <= 1 { baseline(x) } else { plain_chain(depth - 1, x) }
}

#[inline(never)]
#[instrument_stage(name = "bench::recurse")]
fn recurse(depth: u32, x: u64) -> u64 {
    if depth == 0 { black_box(x).wrapping_mul(3) } else { recurse(depth - 1, x) }
}

/// Eight distinct leaf stages, for a parent that calls several stages in turn.
macro_rules! fan_leaves {
    ($($leaf:ident),*) => {
        $(
            #[inline(never)]
            #[instrument_stage]
            fn $leaf(x: u64) -> u64 {
                black_box(x).wrapping_mul(3)
            }
        )*
        const FAN_LEAVES: [fn(u64) -> u64; 8] = [$($leaf),*];
    };
}
fan_leaves!(leaf_0, leaf_1, leaf_2, leaf_3, leaf_4, leaf_5, leaf_6, leaf_7);

/// One stage calling eight different stages in turn: nine stages per call.
#[inline(never)]
#[instrument_stage(name = "bench::fan_out")]
fn fan_out(x: u64) -> u64 {
    FAN_LEAVES.iter().fold(x, |acc, leaf| acc.wrapping_add(leaf(black_box(x))))
}

#[inline(never)]
fn plain_fan_out(x: u64) -> u64 {
    [baseline as fn(u64) -> u64; 8].iter().fold(x, |acc, leaf| acc.wrapping_add(leaf(black_box(x))))
}

fn call(c: &mut Criterion) {
    let mut group = c.benchmark_group("call");
    group.bench_function("baseline", |b| b.iter(|| baseline(black_box(7))));
    #[cfg(target_arch = "x86_64")]
    group.bench_function("two_tsc_reads", |b| b.iter(|| between_tsc_reads(black_box(7))));
    #[cfg(target_arch = "x86_64")]
    group.bench_function("two_tsc_reads_fenced", |b| b.iter(|| between_fenced_tsc_reads(black_box(7))));
    #[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android", target_os = "macos")))]
    group.bench_function("two_cntvct_reads", |b| b.iter(|| between_cntvct_reads(black_box(7), false)));
    #[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android", target_os = "macos")))]
    group.bench_function("two_cntvct_reads_fenced", |b| b.iter(|| between_cntvct_reads(black_box(7), true)));
    group.bench_function("two_instant_reads", |b| b.iter(|| between_instant_reads(black_box(7))));
    #[cfg(target_os = "linux")]
    group.bench_function("two_monotonic_reads", |b| b.iter(|| between_monotonic_reads(black_box(7))));
    profiler_core::set_enabled(false);
    group.bench_function("disabled", |b| b.iter(|| instrumented(black_box(7))));
    profiler_core::set_enabled(true);
    group.bench_function("enabled", |b| b.iter(|| instrumented(black_box(7))));
    // `PROFILE_CLOCK=fast`: the end stamp without the fence (refused without the counter).
    if profiler_core::set_clock_mode(ClockMode::Fast).is_ok() {
        group.bench_function("enabled_fast_clock", |b| b.iter(|| instrumented(black_box(7))));
        profiler_core::set_clock_mode(ClockMode::Exact).expect("the counter is in use");
    }
    group.finish();
}

fn nesting(c: &mut Criterion) {
    profiler_core::set_enabled(true);
    let mut group = c.benchmark_group("nesting");
    for depth in [1, 2, 4, 8] {
        group.bench_function(format!("baseline_depth_{depth}"), |b| b.iter(|| plain_chain(depth, black_box(7))));
        // `chain(depth)` makes `depth` `level` calls and one `work` call: `depth + 1` stages.
        group.bench_function(format!("depth_{depth}"), |b| b.iter(|| chain(depth, black_box(7))));
    }
    group.bench_function("recursion_8", |b| b.iter(|| recurse(7, black_box(7))));
    group.bench_function("baseline_fan_out_8", |b| b.iter(|| plain_fan_out(black_box(7))));
    group.bench_function("fan_out_8", |b| b.iter(|| fan_out(black_box(7))));
    group.finish();
}

/// Wall time per call when `threads` threads each make `iters` calls at the same time.
fn per_call_on_threads(threads: usize, iters: u64) -> Duration {
    let barrier = std::sync::Barrier::new(threads);
    let elapsed: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    instrumented(1); // register the thread outside the timed loop
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        instrumented(black_box(i));
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    elapsed.into_iter().max().unwrap()
}

fn threads(c: &mut Criterion) {
    profiler_core::set_enabled(true);
    let mut group = c.benchmark_group("threads");
    for threads in [1, 2] {
        group.bench_function(format!("same_stage_{threads}"), |b| {
            b.iter_custom(|iters| per_call_on_threads(threads, iters));
        });
    }
    // Tracing is chosen when a thread starts recording: the fresh threads of this benchmark
    // record every call as an event too (target: at most twice `same_stage_1`).
    profiler_core::set_tracing(Some(1 << 16));
    group.bench_function("traced_1", |b| b.iter_custom(|iters| per_call_on_threads(1, iters)));
    profiler_core::set_tracing(None);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = call, nesting, threads
}
criterion_main!(benches);
