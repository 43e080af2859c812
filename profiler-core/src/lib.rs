//! The registry and hot path of the stage profiler.
//!
//! Functions annotated with `#[instrument_stage]` (crate `profiler-macros`) report every call
//! here; `profiler_report::dump()` turns a [`snapshot`] into a report. This crate can also be
//! used by hand: [`start_stage`], [`time_stage`], [`increment_counter`], [`record_memory`].
//!
//! # Switching it on
//!
//! Recording happens when the environment variable `PROFILE` is `1`, `true`, `on` or `yes` (any
//! case). Unset, empty, `0`, `false`, `off` and `no` leave it off; any other value leaves it off
//! and prints one warning line. [`set_enabled`] overrides the variable at run time, both ways.
//! When off, an instrumented call costs one relaxed atomic load and a branch.
//!
//! # What is measured
//!
//! - `calls`: every invocation, recursive ones included (for `async fn`: every completion).
//! - `total_ns` (inclusive): entry to exit. A call made while the same stage is already active
//!   on the same thread adds to `calls` but not to `total_ns` (cProfile's cumulative time), so
//!   recursion never inflates it.
//! - `self_ns` (exclusive): total minus the time spent in instrumented callees. Summed over the
//!   stages of one thread it never exceeds that thread's wall time.
//! - min and max exactly; mean exactly (sum of every call's duration over `calls`); stdev and
//!   percentiles from a histogram of bounded memory whose quantiles are within 2 % of the exact
//!   order statistics (see [`Histogram`]).
//! - `threads`: how many threads called the stage.
//! - a call tree: one node per distinct path of stages, hence exact caller → callee edges.
//! - a panicking call is recorded (the guard records while unwinding) and the nesting stays right.
//! - `async fn`: `total_ns` is wall time from first poll to completion, `busy_ns` the time
//!   inside polls, `self_ns` the busy time minus instrumented callees. The future may move
//!   between threads and stays `Send` when the original is.
//! - [`StageSnapshot::segments`]: the calls in time order, in segments of doubling length, for
//!   trends; [`Snapshot::overhead`]: the profiler's own cost per call, calibrated at start-up
//!   and again at the first snapshots.
//! - with tracing on (`PROFILE_TRACE=1` or [`set_tracing`]), every call as a timed event in a
//!   bounded ring per thread ([`Snapshot::events`]), for timelines.
//!
//! # Cost
//!
//! Per call: two reads of the CPU's counter (the TSC on x86_64, the virtual count on aarch64;
//! the second read after a barrier, so short and memory-bound stages are not under-measured)
//! and a few stores to data only the calling thread writes. No lock, no hashing, no allocation
//! and no system call. A call site finds its stage once and keeps the id in its own `static`.
//! About 30 ns per call on the reference VM; see the README.
//!
//! `PROFILE_CLOCK=fast` (or [`set_clock_mode`]) drops the fence: about 24 ns per call, but an
//! end stamp may then be read before the stage's last instructions or loads complete, so short
//! and memory-bound stages read low. `PROFILE_CLOCK=instant` times with `std::time::Instant`,
//! which is also the fallback where the counter cannot be used. See [`ClockMode`].
//!
//! # Robustness
//!
//! Data of exited threads is merged when they exit, never lost. Calls made from thread-local
//! destructors after the profiler's own thread state is gone, and calls made while the profiler
//! itself is allocating or holding a lock on the same thread (an instrumented global allocator),
//! pass unrecorded instead of crashing, recursing or deadlocking. In the child of a `fork()`,
//! profiling is off for good (see the `fork` module). Warnings that cannot be written to stderr
//! are dropped rather than stopping the program.

mod arena;
mod calibrate;
mod callsite;
mod clock;
mod fork;
mod future;
mod guard;
mod histogram;
mod registry;
mod snapshot;
mod switch;
mod thread;
mod trace;
#[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")))]
mod trap_probe;
mod tree;
mod warning;

pub use callsite::Callsite;
pub use clock::{ClockMode, clock_mode, clock_name, set_clock_mode};
pub use future::InstrumentedFuture;
pub use guard::StageGuard;
pub use histogram::{BUCKETS, Histogram, bucket_lower, bucket_of, bucket_value, bucket_width};
pub use registry::{MAX_STAGES, Registry};
pub use snapshot::{
    CounterSnapshot, Edge, Event, MemorySnapshot, Overhead, Segment, Snapshot, StageSnapshot, ThreadEvents, TreeNode,
    recursive_nodes,
};
pub use switch::{ProfileSetting, is_enabled, parse_profile_setting, set_enabled};
pub use trace::{DEFAULT_EVENTS_PER_THREAD, set_tracing};

/// Reads `PROFILE` now rather than at the first instrumented call and, when profiling is on,
/// starts the profiler's clock, so that the reported wall time covers everything after this
/// point. Optional. With profiling off it does nothing more: the clock starts when profiling
/// is turned on ([`set_enabled`]).
pub fn init() {
    if switch::is_on(switch::ensure_initialised()) {
        clock::init();
    }
}

/// Starts a stage by name; it ends when the returned guard is dropped or [`StageGuard::end`]
/// is called.
///
/// Each call looks the name up in the registry (a hash), which an annotated function does only
/// once per call site: prefer `#[instrument_stage]` for code called millions of times.
///
/// ```
/// let stage = profiler_core::start_stage("load");
/// // ... work ...
/// let took = stage.end();
/// # let _ = took;
/// ```
pub fn start_stage(name: &str) -> StageGuard {
    let state = switch::state();
    if !switch::is_on(state) {
        return StageGuard::INACTIVE;
    }
    StageGuard::new(thread::enter_named(name, state))
}

/// Runs `f` as a stage named `name` and returns its result.
///
/// ```
/// let sum = profiler_core::time_stage("sum", || (1..=10).sum::<u32>());
/// assert_eq!(sum, 55);
/// ```
pub fn time_stage<R>(name: &str, f: impl FnOnce() -> R) -> R {
    let _stage = start_stage(name);
    f()
}

/// Adds `by` to a named counter (reported with the stages). Does nothing when profiling is off.
pub fn increment_counter(name: &str, by: u64) {
    Registry::global().increment_counter(name, by);
}

/// Records a memory size in bytes under a name; the report shows samples, last, min, peak and
/// mean. Does nothing when profiling is off.
pub fn record_memory(name: &str, bytes: u64) {
    Registry::global().record_memory(name, bytes);
}

/// Everything recorded so far, merged over all threads, while they keep running.
#[must_use]
pub fn snapshot() -> Snapshot {
    Registry::global().snapshot()
}

/// Discards everything recorded so far.
pub fn reset() {
    Registry::global().reset();
}

/// Support for the code `#[instrument_stage]` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::callsite::Callsite;
    pub use crate::future::InstrumentedFuture;
    pub use crate::guard::StageGuard;

    use crate::{switch, thread};

    /// Starts the stage of a call site: one relaxed load when profiling is off.
    #[inline(always)]
    pub fn enter(callsite: &'static Callsite) -> StageGuard {
        let state = switch::state();
        if !switch::is_on(state) {
            return StageGuard::INACTIVE;
        }
        StageGuard::new(thread::enter(callsite, state))
    }

    /// Wraps the body of an `async fn`.
    pub fn instrument_future<F: core::future::Future>(callsite: &'static Callsite, future: F) -> InstrumentedFuture<F> {
        InstrumentedFuture::new(callsite, future)
    }

    /// A value of any type, for code that never runs: the `if false { return
    /// output_of::<R>(); }` an `async fn`'s instrumented body starts with fixes the output type
    /// of its `async` block to the declared return type, so that `return` and `?` in the body
    /// infer and coerce as in the original. A call rather than `loop {}`, which would set off
    /// `unreachable_code`.
    #[must_use]
    pub fn output_of<T>() -> T {
        unreachable!("only named in code that never runs")
    }
}
