//! The measured function, uninstrumented, and the clock floors: the same call between two
//! reads of a clock, the least any timing profiler must add.
//!
//! # Safety
//!
//! [`rdtsc`] calls the `_rdtsc` intrinsic, which only reads the time-stamp counter into a
//! register: it has no preconditions and touches no memory. [`fenced_rdtsc`] first calls
//! `_mm_lfence`, which only orders instructions.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

use crate::measure::{Contender, Expect};

/// The work every contender calls: about 1 ns, opaque to the optimiser.
#[inline(never)]
pub(crate) fn work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// Runs `f` on `0..calls` and folds the results, so no call can be optimised away.
#[inline(always)]
pub(crate) fn drive(calls: u64, mut f: impl FnMut(u64) -> u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..calls {
        acc = acc.wrapping_add(f(black_box(i)));
    }
    acc
}

/// The uninstrumented call: what every other contender's overhead is measured against.
pub(crate) struct Baseline;

impl Contender for Baseline {
    fn name(&self) -> &'static str {
        "baseline (uninstrumented)"
    }

    fn run(&self, calls: u64) -> u64 {
        drive(calls, work)
    }

    fn expect(&self) -> Expect {
        Expect::NotApplicable
    }
}

/// Reads the time-stamp counter.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline(always)]
fn rdtsc() -> u64 {
    // SAFETY: see the module comment: no preconditions, no memory access.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Reads the time-stamp counter once every earlier instruction has completed.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline(always)]
fn fenced_rdtsc() -> u64 {
    // SAFETY: see the module comment; `lfence` (SSE2, part of x86_64) has no preconditions either.
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

/// The call between two time-stamp-counter reads: both plain (`rdtsc`, the cheapest clock
/// there is), or the second after an `lfence` (`fenced`: the reads our default clock mode makes,
/// the least any timing that waits for the call's last instructions must add).
#[cfg(target_arch = "x86_64")]
pub(crate) struct TwoTsc {
    pub(crate) fenced: bool,
}

#[cfg(target_arch = "x86_64")]
impl Contender for TwoTsc {
    fn name(&self) -> &'static str {
        if self.fenced { "floor: rdtsc, lfence + rdtsc" } else { "floor: 2 × rdtsc" }
    }

    fn run(&self, calls: u64) -> u64 {
        // One loop per variant, so that the choice is not made inside the timed loop.
        if self.fenced { between_tsc_reads(calls, fenced_rdtsc) } else { between_tsc_reads(calls, rdtsc) }
    }

    fn expect(&self) -> Expect {
        Expect::NotApplicable
    }
}

/// [`drive`]s the call between a plain start read and `end_read`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn between_tsc_reads(calls: u64, end_read: impl Fn() -> u64) -> u64 {
    drive(calls, |i| {
        let start = rdtsc();
        let out = work(i);
        let end = end_read();
        out.wrapping_add(black_box(end.wrapping_sub(start)))
    })
}

/// The call between two reads of quanta's raw clock (the TSC where available).
pub(crate) struct TwoQuanta;

impl TwoQuanta {
    fn clock() -> &'static quanta::Clock {
        static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
        CLOCK.get_or_init(quanta::Clock::new)
    }
}

impl Contender for TwoQuanta {
    fn name(&self) -> &'static str {
        "floor: 2 × quanta raw"
    }

    fn run(&self, calls: u64) -> u64 {
        let clock = Self::clock();
        drive(calls, |i| {
            let start = clock.raw();
            let out = work(i);
            let end = clock.raw();
            out.wrapping_add(black_box(end.wrapping_sub(start)))
        })
    }

    fn expect(&self) -> Expect {
        Expect::NotApplicable
    }
}

/// The call between two `std::time::Instant::now()` reads (the vDSO `clock_gettime`).
pub(crate) struct TwoInstant;

impl Contender for TwoInstant {
    fn name(&self) -> &'static str {
        "floor: 2 × Instant::now"
    }

    fn run(&self, calls: u64) -> u64 {
        drive(calls, |i| {
            let start = Instant::now();
            let out = work(i);
            let took = start.elapsed();
            out.wrapping_add(black_box(took.subsec_nanos().into()))
        })
    }

    fn expect(&self) -> Expect {
        Expect::NotApplicable
    }
}
