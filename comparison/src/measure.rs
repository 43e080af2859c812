//! The contender model and the interleaved timing loops.
//!
//! Every contender runs the same ~1 ns function, instrumented its own way, in batches. One
//! round times one batch of every contender, in a different (pseudo-random) order each round
//! so that none always runs first or right after a given other; the result per contender is
//! the distribution of per-call times over rounds, summarised by its median. Frequency
//! scaling, cache state and background activity then hit every contender alike.

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cputime;

/// What a contender is expected to have recorded for the calls it made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A profiler that is on: one record per call.
    EveryCall,
    /// A profiler switched off at run time: nothing.
    Nothing,
    /// Not a profiler (the baseline and the clock floors): nothing to check.
    NotApplicable,
}

/// One entry of the comparison: the work function, instrumented (or not) one way.
///
/// The hooks other than [`run`](Contender::run) are never timed.
pub(crate) trait Contender: Sync {
    /// The row label in the tables.
    fn name(&self) -> &'static str;

    /// Makes `calls` calls of the instrumented function on the current thread and returns a
    /// value derived from their results (so the optimiser cannot drop them).
    fn run(&self, calls: u64) -> u64;

    /// What [`recorded`](Contender::recorded) should report for the calls made.
    fn expect(&self) -> Expect;

    /// Called once before the contender's first batch in a scenario (install a subscriber,
    /// build a guard, flip a run-time switch).
    fn begin_scenario(&self) {}

    /// Called on each calling thread after each of its batches: hand thread-local data over
    /// where the profiler needs the owning thread to do so.
    fn harvest_thread(&self) {}

    /// Called on the main thread after each batch: the profiler's own periodic step, when it
    /// has one (puffin's `new_frame`).
    fn end_frame(&self) {}

    /// Called on the main thread after each batch, after [`end_frame`](Contender::end_frame):
    /// let the profiler's background threads finish the work the batch caused, so that it
    /// does not run during, and slow down, another contender's batch. On this 2-core machine a
    /// busy collector thread measurably slows the calling thread down.
    fn settle(&self) {}

    /// Called on each calling thread after its last batch of the scenario: close what the
    /// thread still holds open (a long-lived root span).
    fn end_thread(&self) {}

    /// Called once after the contender's last batch in a scenario: flush, drop guards, so
    /// that [`recorded`](Contender::recorded) sees every call.
    fn end_scenario(&self) {}

    /// Calls recorded so far, read back through the profiler's own output, cumulative over
    /// scenarios; `None` when there is nothing to read (not a profiler, or nothing running).
    fn recorded(&self) -> Option<u64> {
        None
    }
}

/// How much to measure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Timed rounds (one batch of every contender per round).
    pub(crate) rounds: usize,
    /// Calls per batch (per thread in the two-thread scenario).
    pub(crate) batch: u64,
    /// Untimed calls per contender (per thread) before the first round.
    pub(crate) warmup: u64,
    /// Untimed calls right before each timed batch, by the same contender on the same
    /// thread: the batch then starts with warm caches and a woken-up core, whatever ran or
    /// slept before it.
    pub(crate) prewarm: u64,
}

impl Plan {
    /// Calls each contender makes per calling thread over a timing scenario.
    pub(crate) fn calls_per_thread(self) -> u64 {
        self.warmup + self.rounds as u64 * (self.prewarm + self.batch)
    }
}

/// The order in which the contenders run in `round`: a fixed pseudo-random permutation per
/// round, so that no contender always runs first, last or right after a given other.
fn round_order(round: usize, count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    // SplitMix64 seeded by the round number; deterministic from run to run.
    let mut state = (round as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..count).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Per-call times of one contender, one sample per round, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples(Vec<f64>);

impl Samples {
    /// The `q`-quantile (nearest rank, `q` in `[0, 1]`); NaN when empty.
    pub(crate) fn quantile(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = (q * (sorted.len() - 1) as f64).round() as usize;
        sorted[rank.min(sorted.len() - 1)]
    }

    /// The median per-call time.
    pub(crate) fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    fn push(&mut self, elapsed: Duration, calls: u64) {
        self.0.push(elapsed.as_nanos() as f64 / calls as f64);
    }
}

/// The outcome of one timed scenario for each contender, in the order given.
pub(crate) struct Timings {
    /// Per-call time samples.
    pub(crate) samples: Vec<Samples>,
    /// Calls made per contender, warm-up included, over all threads.
    pub(crate) calls: Vec<u64>,
}

/// Times every contender on the calling thread, interleaved.
pub(crate) fn one_thread(contenders: &[&dyn Contender], plan: Plan) -> Timings {
    let count = contenders.len();
    let mut samples = vec![Samples::default(); count];
    for contender in contenders {
        black_box(contender.run(plan.warmup));
        contender.harvest_thread();
        contender.end_frame();
        contender.settle();
    }
    for round in 0..plan.rounds {
        for index in round_order(round, count) {
            let contender = contenders[index];
            black_box(contender.run(plan.prewarm));
            let start = Instant::now();
            black_box(contender.run(plan.batch));
            let elapsed = start.elapsed();
            contender.harvest_thread();
            contender.end_frame();
            contender.settle();
            samples[index].push(elapsed, plan.batch);
        }
    }
    for contender in contenders {
        contender.end_thread();
    }
    Timings { samples, calls: vec![plan.calls_per_thread(); count] }
}

/// Waits until the threads other than the caller have been idle for a millisecond (at most
/// 200 ms): used by [`Contender::settle`] for profilers with background threads.
pub(crate) fn wait_for_quiet() {
    const WINDOW: Duration = Duration::from_millis(1);
    const IDLE: Duration = Duration::from_micros(50);
    for _ in 0..200 {
        let mark = cputime::Mark::now();
        std::thread::sleep(WINDOW);
        if mark.others_since() < IDLE {
            return;
        }
    }
}

/// Number of calling threads in the contention scenario.
pub(crate) const THREADS: usize = 2;

/// Times every contender with [`THREADS`] threads calling it at the same time, interleaved.
///
/// The threads live for the whole scenario (so thread-local profiler state is set up once, as
/// in a real program) and start each batch together at a barrier. A sample is the slower
/// thread's time divided by the calls each thread made: the wall time per call when every
/// thread calls concurrently.
pub(crate) fn two_threads(contenders: &[&dyn Contender], plan: Plan) -> Timings {
    let count = contenders.len();
    let mut samples = vec![Samples::default(); count];
    let job_index = AtomicUsize::new(0);
    let job_calls = AtomicU64::new(0);
    let job_prewarm = AtomicU64::new(0);
    let quit = AtomicBool::new(false);
    let start = Barrier::new(THREADS + 1);
    let warm = Barrier::new(THREADS);
    let done = Barrier::new(THREADS + 1);
    let elapsed_ns: [AtomicU64; THREADS] = [const { AtomicU64::new(0) }; THREADS];

    std::thread::scope(|scope| {
        for slot in &elapsed_ns {
            let (job_index, job_calls, job_prewarm) = (&job_index, &job_calls, &job_prewarm);
            let (quit, start, warm, done) = (&quit, &start, &warm, &done);
            scope.spawn(move || {
                loop {
                    start.wait();
                    if quit.load(Ordering::Acquire) {
                        for contender in contenders {
                            contender.end_thread();
                        }
                        break;
                    }
                    let contender = contenders[job_index.load(Ordering::Acquire)];
                    let calls = job_calls.load(Ordering::Acquire);
                    let prewarm = job_prewarm.load(Ordering::Acquire);
                    if prewarm > 0 {
                        black_box(contender.run(prewarm));
                    }
                    warm.wait();
                    let begin = Instant::now();
                    black_box(contender.run(calls));
                    let took = begin.elapsed();
                    contender.harvest_thread();
                    slot.store(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Release);
                    done.wait();
                }
            });
        }

        let dispatch = |index: usize, prewarm: u64, calls: u64| -> Duration {
            job_index.store(index, Ordering::Release);
            job_prewarm.store(prewarm, Ordering::Release);
            job_calls.store(calls, Ordering::Release);
            start.wait();
            done.wait();
            contenders[index].end_frame();
            contenders[index].settle();
            let slowest = elapsed_ns.iter().map(|slot| slot.load(Ordering::Acquire)).max().unwrap_or(0);
            Duration::from_nanos(slowest)
        };

        for index in 0..count {
            dispatch(index, 0, plan.warmup);
        }
        for round in 0..plan.rounds {
            for index in round_order(round, count) {
                let took = dispatch(index, plan.prewarm, plan.batch);
                samples[index].push(took, plan.batch);
            }
        }
        quit.store(true, Ordering::Release);
        start.wait();
    });

    Timings { samples, calls: vec![plan.calls_per_thread() * THREADS as u64; count] }
}
