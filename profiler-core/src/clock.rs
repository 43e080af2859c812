//! The clock: raw hardware-counter reads on the hot path, converted to nanoseconds only when
//! a snapshot is taken.
//!
//! Why a counter: reading the CPU's counter directly is the cheapest monotonic clock there is,
//! and an instrumented call reads the clock twice. The counter ([`read_counter`]) is:
//!
//! - on x86_64, the time-stamp counter (`rdtsc`: about 9 ns on the reference VM, against about
//!   19 ns for `clock_gettime` through the vDSO), used only when the CPU reports an *invariant*
//!   TSC (CPUID leaf 0x8000_0007, EDX bit 8): one that ticks at a constant rate in every power
//!   state and is synchronised across cores, so a start and an end read on different cores
//!   still subtract correctly;
//! - on aarch64 (Linux and Android from kernel 4.12 where a first read under a `SIGILL`
//!   handler succeeds, macOS), the generic timer's virtual count (`mrs cntvct_el0`), which the
//!   architecture defines as system-wide and constant-rate. These systems let programs read
//!   it; it is what their own `clock_gettime` reads. It ticks at 24 MHz on Apple silicon and
//!   1 GHz on ARMv8.6 and later CPUs. (Where a CPU erratum makes the raw count unreliable,
//!   Linux traps the read and answers it corrected: slower, still right.)
//!
//! Elsewhere (other systems and architectures, or no invariant TSC) the clock falls back to the
//! monotonic clock `Instant` reads, in nanoseconds, read with `clock_gettime` directly where the
//! system has it ([`monotonic_ns`]).
//!
//! Ordering: neither `rdtsc` nor `mrs cntvct_el0` waits for earlier instructions, so an end
//! stamp read with it alone can be taken while the stage's last instructions and loads are
//! still in flight, which makes short and memory-bound stages look several times faster than
//! they are. By default the end of every interval is therefore read after a barrier
//! ([`read_counter_after`]: `lfence`, or `isb` on aarch64), which costs about 7 ns per call on
//! the reference VM and makes a 72 ns stage measure 72 ns instead of 42, and a memory-bound one
//! of 3.3 µs measure 3.3 µs instead of 0.55.
//!
//! `PROFILE_CLOCK` chooses, once per process ([`ClockMode`], or [`set_clock_mode`] in code):
//! `exact` (the default: fenced end stamps), `fast` (plain counter reads at both ends: cheaper
//! calls, with the errors above) or `instant` (the portable clock, also where the counter could
//! be used).
//!
//! Calibration: the tick rate is measured against `Instant` between the first use of the
//! clock and each snapshot, so it grows more precise the longer the program runs. A snapshot
//! taken less than [`MIN_CALIBRATION`] after start-up waits out the difference once, which
//! bounds the rate's error to a few parts per million.
#![allow(unsafe_code)] // rdtsc, mrs: see the safety comments on `read_counter`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Shortest interval over which the tick rate is measured.
const MIN_CALIBRATION: Duration = Duration::from_millis(10);

/// How calls are timed, chosen with `PROFILE_CLOCK` (read once, at the first recorded call or
/// at [`crate::init`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// `PROFILE_CLOCK=exact` (the default): the CPU's counter (see the module documentation),
    /// the end stamp read after a barrier so that it waits for the stage's last instructions.
    /// Short and memory-bound stages measure right.
    Exact,
    /// `PROFILE_CLOCK=fast`: the counter read without a barrier, about 7 ns cheaper per call on
    /// the reference VM, but the end stamp may be read while the stage's last instructions and
    /// loads are still in flight: short stages and memory-bound stages of any length read low
    /// (measured there: a 72 ns stage read 42 ns, a 3.3 µs chain of cache misses 0.55 µs).
    Fast,
    /// `PROFILE_CLOCK=instant`, and the fallback where the counter cannot be used: the
    /// monotonic clock `std::time::Instant` reads, in nanoseconds.
    Instant,
}

impl ClockMode {
    /// The mode a `PROFILE_CLOCK` value asks for: `None` when unset or empty (the default),
    /// `Err` for a value that is not understood.
    pub fn parse(value: Option<&str>) -> Result<Option<ClockMode>, String> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
        match value.to_ascii_lowercase().as_str() {
            "exact" | "tsc" => Ok(Some(ClockMode::Exact)),
            "fast" => Ok(Some(ClockMode::Fast)),
            "instant" => Ok(Some(ClockMode::Instant)),
            _ => Err(format!("PROFILE_CLOCK={value:?} is not understood (use exact, fast or instant)")),
        }
    }

    /// The `PROFILE_CLOCK` value that asks for this mode: `exact`, `fast` or `instant`.
    #[must_use]
    pub fn setting(self) -> &'static str {
        match self {
            ClockMode::Exact => "exact",
            ClockMode::Fast => "fast",
            ClockMode::Instant => "instant",
        }
    }

    /// The clock's name in reports and profiles: `tsc`, `tsc-fast` or `instant` (on aarch64,
    /// `cntvct` and `cntvct-fast` for the counter).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ClockMode::Exact if cfg!(target_arch = "aarch64") => "cntvct",
            ClockMode::Fast if cfg!(target_arch = "aarch64") => "cntvct-fast",
            ClockMode::Exact => "tsc",
            ClockMode::Fast => "tsc-fast",
            ClockMode::Instant => "instant",
        }
    }

    /// The mode a clock name in a report or profile stands for, from any machine: `tsc` and
    /// `cntvct` are [`ClockMode::Exact`], and so on. `None` for other names (`mixed`, say).
    #[must_use]
    pub fn from_name(name: &str) -> Option<ClockMode> {
        match name {
            "tsc" | "cntvct" => Some(ClockMode::Exact),
            "tsc-fast" | "cntvct-fast" => Some(ClockMode::Fast),
            "instant" => Some(ClockMode::Instant),
            _ => None,
        }
    }
}

/// The clock's fixed reference: which source is used and when it started.
struct Anchor {
    /// Whether ticks are counter ticks (else nanoseconds of [`monotonic_ns`]). Fixed for the
    /// process: recorded ticks of both kinds must never mix.
    counter: bool,
    /// The clock's reading at `instant`: counter ticks, or [`monotonic_ns`].
    ticks: u64,
    instant: Instant,
}

static ANCHOR: OnceLock<Anchor> = OnceLock::new();

/// A mode chosen with [`set_clock_mode`] before the clock started ([`NO_REQUEST`]: none).
static REQUESTED: AtomicU8 = AtomicU8::new(NO_REQUEST);
const NO_REQUEST: u8 = u8::MAX;

fn anchor() -> &'static Anchor {
    ANCHOR.get_or_init(|| {
        let requested = match REQUESTED.load(Relaxed) {
            NO_REQUEST => {
                ClockMode::parse(std::env::var_os("PROFILE_CLOCK").map(|v| v.to_string_lossy().into_owned()).as_deref())
            }
            code => Ok(Some(ClockMode::from_code(code))),
        };
        let mode = choose_mode(requested, has_counter()).unwrap_or_else(|(mode, why)| {
            crate::warning::warn(format_args!("{why}; using {}", mode.setting()));
            mode
        });
        let instant = Instant::now();
        let counter = mode != ClockMode::Instant;
        let ticks = if counter { read_counter() } else { monotonic_ns() };
        MODE.store(mode.code(), Relaxed);
        Anchor { counter, ticks, instant }
    })
}

/// The mode to use for a `PROFILE_CLOCK` request where the counter can or cannot be used;
/// `Err((mode used, why))` when the request cannot be followed.
fn choose_mode(requested: Result<Option<ClockMode>, String>, counter: bool) -> Result<ClockMode, (ClockMode, String)> {
    let default = if counter { ClockMode::Exact } else { ClockMode::Instant };
    match requested {
        Err(why) => Err((default, why)),
        Ok(None) => Ok(default),
        Ok(Some(ClockMode::Instant)) => Ok(ClockMode::Instant),
        Ok(Some(mode)) if counter => Ok(mode),
        Ok(Some(mode)) => Err((ClockMode::Instant, format!("PROFILE_CLOCK={} needs {NO_COUNTER}", mode.setting()))),
    }
}

/// Chooses how calls are timed from code, overriding `PROFILE_CLOCK`.
///
/// Before the clock has started (before the first recorded call or [`crate::init`]) any mode
/// can be chosen. Afterwards the source is fixed, since ticks of the counter and of `Instant`
/// must not mix: switching between [`ClockMode::Exact`] and [`ClockMode::Fast`] still works
/// (calls already open end in the new mode), and a change to or from [`ClockMode::Instant`] is
/// refused. Also refused: a counter mode where the counter cannot be used.
///
/// The overhead calibration ([`crate::Snapshot::overhead`]) reflects the mode in force when
/// the first call was recorded.
///
/// # Errors
/// The mode cannot be used; the clock stays as it was.
pub fn set_clock_mode(mode: ClockMode) -> Result<(), String> {
    if ANCHOR.get().is_none() {
        REQUESTED.store(mode.code(), Relaxed);
    }
    let anchor = anchor();
    if anchor.counter != (mode != ClockMode::Instant) {
        let current = clock_name();
        return Err(if anchor.counter || has_counter() {
            format!("the clock has started as {current}; it cannot switch to {} now", mode.name())
        } else {
            format!("the {} clock needs {NO_COUNTER}", mode.setting())
        });
    }
    MODE.store(mode.code(), Relaxed);
    Ok(())
}

/// [`MODE`] values: the fallback clock, the counter with fenced end stamps, the plain counter.
const MODE_INSTANT: u8 = 0;
const MODE_COUNTER_EXACT: u8 = 1;
const MODE_COUNTER_FAST: u8 = 2;

impl ClockMode {
    fn code(self) -> u8 {
        match self {
            ClockMode::Exact => MODE_COUNTER_EXACT,
            ClockMode::Fast => MODE_COUNTER_FAST,
            ClockMode::Instant => MODE_INSTANT,
        }
    }

    fn from_code(code: u8) -> ClockMode {
        match code {
            MODE_COUNTER_EXACT => ClockMode::Exact,
            MODE_COUNTER_FAST => ClockMode::Fast,
            _ => ClockMode::Instant,
        }
    }
}

/// The hot path's copy of the mode: set when the clock starts, and by [`set_clock_mode`].
/// Where there is no counter, `has_counter` is false and the mode is `Instant`.
static MODE: AtomicU8 = AtomicU8::new(MODE_INSTANT);

/// Reads the clock in ticks. Call [`init`] once before the first read on the hot path.
#[inline(always)]
pub(crate) fn now() -> u64 {
    if is_counter() {
        return read_counter();
    }
    fallback_now()
}

/// Reads the clock at the end of an interval, as the mode asks: after a fence or not. `None`
/// when the clock is not the counter (then the caller takes its cold path, which uses [`now`]).
#[inline(always)]
pub(crate) fn end_stamp() -> Option<u64> {
    match MODE.load(Relaxed) {
        MODE_COUNTER_EXACT => Some(read_counter_after()),
        MODE_COUNTER_FAST => Some(read_counter()),
        _ => None,
    }
}

/// Fixes the clock source and its start point. Idempotent; cheap after the first call.
pub(crate) fn init() {
    anchor();
}

/// [`monotonic_ns`] out of line, so that [`now`] inlines as a test and a counter read.
#[inline(never)]
fn fallback_now() -> u64 {
    monotonic_ns()
}

/// Nanoseconds of the monotonic clock `Instant` reads, from a fixed point of the system's.
///
/// Read with `clock_gettime` directly rather than through `Instant`: the `Instant` arithmetic
/// (`elapsed`, `Duration`, a 128-bit `as_nanos`) cost about 7 ns per read on the reference VM,
/// 13 ns per call, a third of the clock itself.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple"))]
#[inline(always)]
fn monotonic_ns() -> u64 {
    // The clock `std::time::Instant` uses on each of these systems.
    #[cfg(target_vendor = "apple")]
    const CLOCK: libc::clockid_t = libc::CLOCK_UPTIME_RAW;
    #[cfg(not(target_vendor = "apple"))]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;
    // SAFETY: `timespec` is plain integers (and, on some 32-bit targets, private padding that
    // rules out a struct literal), so all zeroes is a valid value. `now` is then valid and
    // writable, and `CLOCK` exists on this system, so the call only writes `now` (it cannot
    // fail: `Instant::now` relies on the same call).
    let now = unsafe {
        let mut now: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(CLOCK, &raw mut now);
        now
    };
    (now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64)
}

/// CPU time the whole process has used so far (all its threads, user and system), where the
/// system tells: what lets a report say how much of the time inside stages was spent waiting.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple"))]
pub(crate) fn process_cpu_ns() -> Option<u64> {
    // SAFETY: as in `monotonic_ns`; the call writes `now` or fails, which the result says.
    let (result, now) = unsafe {
        let mut now: libc::timespec = std::mem::zeroed();
        (libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut now), now)
    };
    (result == 0).then(|| (now.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(now.tv_nsec as u64))
}

/// Elsewhere: unknown.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple")))]
pub(crate) fn process_cpu_ns() -> Option<u64> {
    None
}

/// Elsewhere: `Instant`, from the first read in the process.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple")))]
fn monotonic_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds per tick, measured now against `Instant` over at least [`MIN_CALIBRATION`]
/// (exactly 1.0 for the fallback clock).
pub(crate) fn ns_per_tick() -> f64 {
    let anchor = anchor();
    if anchor.counter
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
    if !anchor.counter {
        return 1.0;
    }
    let (ticks, elapsed) = (read_counter(), anchor.instant.elapsed());
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

/// Which clock is in use, for reports: `tsc`, `tsc-fast` or `instant`, and so on (see
/// [`ClockMode::name`]).
#[must_use]
pub fn clock_name() -> &'static str {
    clock_mode().name()
}

/// How calls are timed in this process (reads `PROFILE_CLOCK` on first use).
#[must_use]
pub fn clock_mode() -> ClockMode {
    init();
    ClockMode::from_code(MODE.load(Relaxed))
}

/// Whether [`now`] reads the counter (then [`read_counter`] may be called directly).
#[inline(always)]
pub(crate) fn is_counter() -> bool {
    MODE.load(Relaxed) != MODE_INSTANT
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn read_counter() -> u64 {
    // SAFETY: `rdtsc` has no preconditions on x86_64 (every x86_64 CPU implements it, and it
    // reads a register without touching memory); the intrinsic is `unsafe` only by convention.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Reads the TSC after every earlier instruction has completed (`lfence; rdtsc`): the end of
/// a measured interval, so that work still in flight in the CPU's pipeline is not left out.
///
/// Not `rdtscp`, although it was about 0.4 ns cheaper per call on the reference VM: it waits
/// for earlier instructions but lets later ones run ahead of it, so the next call's (plain)
/// start stamp could be read before this end stamp, up to a cache miss earlier, and sibling
/// calls would overlap. `lfence` holds every later instruction back until it completes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn read_counter_after() -> u64 {
    // SAFETY: `lfence` and `rdtsc` have no preconditions on x86_64 (SSE2 is part of x86_64).
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub(crate) fn read_counter() -> u64 {
    let count: u64;
    // SAFETY: reads a system register into a general one, touching no memory or flags. Only
    // called once the clock has chosen the counter, that is, on a system where `has_counter`
    // says programs may read it. No `nomem`: the compiler must not move memory accesses of the
    // measured code across the read.
    unsafe { core::arch::asm!("mrs {count}, cntvct_el0", count = out(reg) count, options(nostack, preserves_flags)) };
    count
}

/// Reads the virtual count after every earlier instruction has completed (`isb; mrs`): the end
/// of a measured interval, as `lfence; rdtsc` on x86_64.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub(crate) fn read_counter_after() -> u64 {
    let count: u64;
    // SAFETY: as in `read_counter`; `isb` only flushes the pipeline.
    unsafe {
        core::arch::asm!(
            "isb",
            "mrs {count}, cntvct_el0",
            count = out(reg) count,
            options(nostack, preserves_flags),
        );
    }
    count
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn read_counter() -> u64 {
    0
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn read_counter_after() -> u64 {
    0
}

/// Why a counter mode cannot be used where [`has_counter`] is false.
const NO_COUNTER: &str = if cfg!(target_arch = "x86_64") {
    "an invariant TSC, which this CPU does not report"
} else if cfg!(target_arch = "aarch64") {
    "the CPU's counter, which this system does not let programs read"
} else {
    "a CPU counter, which the profiler reads on x86_64 and aarch64 only"
};

/// Whether the CPU's counter can time calls here: an invariant TSC on x86_64.
#[cfg(target_arch = "x86_64")]
fn has_counter() -> bool {
    use core::arch::x86_64::__cpuid;
    // Leaf 0x8000_0000 reports the highest extended leaf; query 0x8000_0007 only if it exists.
    if __cpuid(0x8000_0000).eax < 0x8000_0007 {
        return false;
    }
    __cpuid(0x8000_0007).edx & (1 << 8) != 0
}

/// Whether the CPU's counter can time calls here: on aarch64, the system allows the read (the
/// counter itself is part of every ARMv8 CPU). On Linux and Android, a kernel from 4.12 on: it
/// either lets programs read the counter or, where an erratum needs it, traps and answers the
/// read; some older vendor kernels did neither, and the read raised `SIGILL`. A vendor kernel
/// might still refuse it, so one read is also tried under a `SIGILL` handler first
/// ([`trap_probe`](crate::trap_probe)).
#[cfg(target_arch = "aarch64")]
fn has_counter() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return kernel_answers_counter_reads(&kernel_release()) && !crate::trap_probe::counter_read_traps();
    // Elsewhere, macOS lets programs read it; iOS, for one, does not.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return cfg!(target_os = "macos");
}

/// The running kernel's release (`uname -r`), empty if unknown.
#[cfg(all(target_arch = "aarch64", any(target_os = "linux", target_os = "android")))]
fn kernel_release() -> String {
    // SAFETY: all zeroes is a valid `utsname` (arrays of bytes); `uname` only writes it, and
    // NUL-terminates `release` when it succeeds.
    unsafe {
        let mut names: libc::utsname = std::mem::zeroed();
        if libc::uname(&raw mut names) != 0 {
            return String::new();
        }
        std::ffi::CStr::from_ptr(names.release.as_ptr()).to_string_lossy().into_owned()
    }
}

/// Whether a Linux kernel of this release (`6.1.0-rpi7-rpi-v8`, say) is 4.12 or later.
#[cfg(any(test, all(target_arch = "aarch64", any(target_os = "linux", target_os = "android"))))]
fn kernel_answers_counter_reads(release: &str) -> bool {
    let mut numbers = release.split(|c: char| !c.is_ascii_digit()).map(str::parse::<u32>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (4, 12),
        _ => false,
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn has_counter() -> bool {
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
    fn profile_clock_values_parse() {
        for (value, mode) in [
            (None, None),
            (Some(""), None),
            (Some(" "), None),
            (Some("exact"), Some(ClockMode::Exact)),
            (Some("TSC"), Some(ClockMode::Exact)),
            (Some(" Fast "), Some(ClockMode::Fast)),
            (Some("instant"), Some(ClockMode::Instant)),
        ] {
            assert_eq!(ClockMode::parse(value), Ok(mode), "{value:?}");
        }
        for mode in [ClockMode::Exact, ClockMode::Fast, ClockMode::Instant] {
            assert_eq!(ClockMode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(ClockMode::from_name("cntvct-fast"), Some(ClockMode::Fast));
        assert_eq!(ClockMode::from_name("mixed"), None);
        let error = ClockMode::parse(Some("quick")).unwrap_err();
        assert!(error.contains("\"quick\"") && error.contains("exact, fast or instant"), "{error}");
    }

    #[test]
    fn the_mode_follows_the_request_when_the_cpu_allows_it() {
        assert_eq!(choose_mode(Ok(None), true), Ok(ClockMode::Exact));
        assert_eq!(choose_mode(Ok(None), false), Ok(ClockMode::Instant));
        assert_eq!(choose_mode(Ok(Some(ClockMode::Fast)), true), Ok(ClockMode::Fast));
        assert_eq!(choose_mode(Ok(Some(ClockMode::Instant)), true), Ok(ClockMode::Instant));
        let (mode, why) = choose_mode(Ok(Some(ClockMode::Fast)), false).unwrap_err();
        assert_eq!(mode, ClockMode::Instant);
        assert_eq!(why, format!("PROFILE_CLOCK=fast needs {NO_COUNTER}"));
        let (mode, why) = choose_mode(Err("bad".into()), true).unwrap_err();
        assert_eq!((mode, why.as_str()), (ClockMode::Exact, "bad"));
    }

    #[test]
    fn the_aarch64_counter_needs_linux_4_12_or_later() {
        for (release, answers) in [
            ("6.1.0-rpi7-rpi-v8", true),
            ("4.12.0", true),
            ("5.4.0-1045-aws", true),
            ("10.0", true),
            ("4.9.337-g1c4d2d5", false),
            ("3.14.29", false),
            ("", false),
            ("weird", false),
        ] {
            assert_eq!(kernel_answers_counter_reads(release), answers, "{release}");
        }
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
