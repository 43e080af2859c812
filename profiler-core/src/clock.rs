//! The clock: raw time-stamp-counter reads on the hot path, converted to nanoseconds only when
//! a snapshot is taken.
//!
//! Why the TSC: on x86_64 `rdtsc` is the cheapest monotonic clock there is (about 10 ns on the
//! reference VM, against about 23 ns for `Instant::now()`, which goes through the vDSO), and an
//! instrumented call reads the clock twice. It is used only when the CPU reports an *invariant*
//! TSC (CPUID leaf 0x8000_0007, EDX bit 8): one that ticks at a constant rate in every power
//! state and is synchronised across cores, so a start and an end read on different cores still
//! subtract correctly. Elsewhere (other architectures, or no invariant TSC) the clock falls back
//! to `Instant`, counted in nanoseconds since the process's first read.
//!
//! Ordering: `rdtsc` does not wait for earlier instructions, so an end stamp read with it alone
//! can be taken while the stage's last instructions are still in flight, which makes short
//! stages look up to twice as fast as they are. The end of every interval is therefore read
//! after an `lfence` ([`read_tsc_after`]), which costs about 7 ns per call on the reference VM
//! and makes a 70 ns stage measure 70 ns instead of 40.
//!
//! Calibration: the tick rate is measured against `Instant` between the first use of the
//! clock and each snapshot, so it grows more precise the longer the program runs. A snapshot
//! taken less than [`MIN_CALIBRATION`] after start-up waits out the difference once, which
//! bounds the rate's error to a few parts per million.
#![allow(unsafe_code)] // rdtsc: see the safety comment on `read_tsc`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Shortest interval over which the tick rate is measured.
const MIN_CALIBRATION: Duration = Duration::from_millis(10);

/// The clock's fixed reference: which source is used and when it started.
struct Anchor {
    use_tsc: bool,
    ticks: u64,
    instant: Instant,
}

static ANCHOR: OnceLock<Anchor> = OnceLock::new();

fn anchor() -> &'static Anchor {
    ANCHOR.get_or_init(|| {
        let use_tsc = invariant_tsc();
        let instant = Instant::now();
        let ticks = if use_tsc { read_tsc() } else { 0 };
        Anchor { use_tsc, ticks, instant }
    })
}

/// Reads the clock in ticks. Call [`init`] once before the first read on the hot path.
#[inline(always)]
pub(crate) fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // `USE_TSC` is settled by `init` before any recording starts.
        if USE_TSC.load(std::sync::atomic::Ordering::Relaxed) {
            return read_tsc();
        }
    }
    fallback_now()
}

#[cfg(target_arch = "x86_64")]
static USE_TSC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Fixes the clock source and its start point. Idempotent; cheap after the first call.
pub(crate) fn init() {
    let anchor = anchor();
    #[cfg(target_arch = "x86_64")]
    USE_TSC.store(anchor.use_tsc, std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = anchor;
}

#[inline(never)]
fn fallback_now() -> u64 {
    let anchor = anchor();
    u64::try_from(anchor.instant.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds per tick, measured now against `Instant` over at least [`MIN_CALIBRATION`]
/// (exactly 1.0 for the fallback clock).
pub(crate) fn ns_per_tick() -> f64 {
    let anchor = anchor();
    if anchor.use_tsc
        && let Some(wait) = MIN_CALIBRATION.checked_sub(anchor.instant.elapsed())
    {
        std::thread::sleep(wait);
    }
    measured_rate(anchor)
}

/// Converts a tick count without waiting for calibration (less precise in the first
/// milliseconds of the process, which is fine for one duration handed back to the user).
pub(crate) fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_nanos((ticks as f64 * measured_rate(anchor())).round() as u64)
}

fn measured_rate(anchor: &Anchor) -> f64 {
    if !anchor.use_tsc {
        return 1.0;
    }
    let (ticks, elapsed) = (read_tsc(), anchor.instant.elapsed());
    let delta = ticks.saturating_sub(anchor.ticks);
    if delta == 0 { 1.0 } else { elapsed.as_nanos() as f64 / delta as f64 }
}

/// A tick count read by [`now`] as nanoseconds since the clock's start point.
pub(crate) fn ticks_since_start_ns(ticks: u64, ns_per_tick: f64) -> u64 {
    (ticks.saturating_sub(anchor().ticks) as f64 * ns_per_tick).round() as u64
}

/// Wall time since the clock's start point.
pub(crate) fn since_start() -> Duration {
    anchor().instant.elapsed()
}

/// Which clock is in use, for reports.
#[must_use]
pub fn clock_name() -> &'static str {
    if anchor().use_tsc { "tsc" } else { "instant" }
}

/// Whether [`now`] reads the TSC (then [`read_tsc`] may be called directly).
#[inline(always)]
pub(crate) fn is_tsc() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        USE_TSC.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` has no preconditions on x86_64 (every x86_64 CPU implements it, and it
    // reads a register without touching memory); the intrinsic is `unsafe` only by convention.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Reads the TSC after every earlier instruction has completed (`lfence; rdtsc`): the end of
/// a measured interval, so that work still in flight in the CPU's pipeline is not left out.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn read_tsc_after() -> u64 {
    // SAFETY: `lfence` and `rdtsc` have no preconditions on x86_64 (SSE2 is part of x86_64).
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn read_tsc() -> u64 {
    0
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn read_tsc_after() -> u64 {
    0
}

#[cfg(target_arch = "x86_64")]
fn invariant_tsc() -> bool {
    use core::arch::x86_64::__cpuid;
    // Leaf 0x8000_0000 reports the highest extended leaf; query 0x8000_0007 only if it exists.
    if __cpuid(0x8000_0000).eax < 0x8000_0007 {
        return false;
    }
    __cpuid(0x8000_0007).edx & (1 << 8) != 0
}

#[cfg(not(target_arch = "x86_64"))]
fn invariant_tsc() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_convert_to_wall_time() {
        init();
        let (start, wall) = (now(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let ticks = now() - start;
        let measured = ticks as f64 * ns_per_tick();
        let real = wall.elapsed().as_nanos() as f64;
        assert!((measured - real).abs() / real < 0.05, "measured {measured} ns, real {real} ns");
    }

    #[test]
    fn clock_is_monotonic_on_one_thread() {
        init();
        let mut last = now();
        for _ in 0..10_000 {
            let t = now();
            assert!(t >= last);
            last = t;
        }
    }
}
