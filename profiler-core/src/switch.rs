//! The run-time switch: `PROFILE` from the environment, overridden by [`set_enabled`].
//!
//! One global word holds the switch (bit 0) and a generation number (the other bits) that
//! [`reset`](crate::reset) bumps. The hot path reads it with one relaxed load: when bit 0 is
//! clear nothing else happens. Until the environment has been read the word says "enabled,
//! generation 0", which no thread has seen yet, so the first call of every thread takes the
//! slow path, where the environment is read once.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const ENABLED: u64 = 1;
const GENERATION_STEP: u64 = 2;

/// Bit 0: enabled. Bits 1..: generation (0 = environment not read yet).
static STATE: AtomicU64 = AtomicU64::new(ENABLED);
static READ_ENV: Once = Once::new();

/// What a value of `PROFILE` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileSetting {
    /// `1`, `true`, `on`, `yes` in any case.
    On,
    /// Unset, empty, `0`, `false`, `off`, `no` in any case.
    Off,
    /// Anything else: profiling stays off and one warning is printed.
    Invalid,
}

/// Values of `PROFILE` that turn recording on, and off (compared ignoring ASCII case).
const ON: [&str; 4] = ["1", "true", "on", "yes"];
const OFF: [&str; 5] = ["", "0", "false", "off", "no"];

/// Parses a value of the `PROFILE` variable (`None` when unset). Surrounding blanks are ignored.
#[must_use]
pub fn parse_profile_setting(value: Option<&str>) -> ProfileSetting {
    let Some(value) = value else {
        return ProfileSetting::Off;
    };
    let value = value.trim();
    if ON.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        ProfileSetting::On
    } else if OFF.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        ProfileSetting::Off
    } else {
        ProfileSetting::Invalid
    }
}

/// The current state word: one relaxed load.
#[inline(always)]
pub(crate) fn state() -> u64 {
    STATE.load(Relaxed)
}

#[inline(always)]
pub(crate) fn is_on(state: u64) -> bool {
    state & ENABLED != 0
}

/// Reads `PROFILE` once (printing one warning for a value it does not understand) and
/// returns the state word in force afterwards.
#[cold]
pub(crate) fn ensure_initialised() -> u64 {
    READ_ENV.call_once(|| {
        let raw = std::env::var_os("PROFILE");
        let text = raw.as_ref().map(|v| v.to_string_lossy());
        let setting = parse_profile_setting(text.as_deref());
        if setting == ProfileSetting::Invalid {
            crate::warning::warn(format_args!(
                "PROFILE={:?} is not understood (use 1/true/on/yes or 0/false/off/no); profiling stays off",
                text.as_deref().unwrap_or_default()
            ));
        }
        set_switch(setting == ProfileSetting::On);
    });
    STATE.load(Relaxed)
}

/// Turns profiling on or off at run time, overriding `PROFILE` (which is then never read).
///
/// Calls already in progress finish recording; calls that start while profiling is off are
/// not recorded and cost one relaxed atomic load.
pub fn set_enabled(enabled: bool) {
    if crate::fork::in_child() {
        return; // Off for good in the child of a `fork()`: see `crate::fork`.
    }
    READ_ENV.call_once(|| {});
    set_switch(enabled);
}

/// Turns profiling off in the child of a `fork()`, without the `Once` another thread of the
/// parent may have been inside: the generation becomes non-zero, so `PROFILE` is never read.
pub(crate) fn turn_off_in_fork_child() {
    set_switch(false);
}

/// Sets the switch bit. Generation 0 (environment not read) becomes 1; a generation already
/// bumped by a reset is kept.
fn set_switch(enabled: bool) {
    let _ = STATE.fetch_update(Relaxed, Relaxed, |s| {
        let generation = (s & !ENABLED).max(GENERATION_STEP);
        Some(generation | u64::from(enabled))
    });
}

/// Whether calls are being recorded now (reads `PROFILE` on first use).
#[must_use]
pub fn is_enabled() -> bool {
    let s = state();
    if s & !ENABLED == 0 { is_on(ensure_initialised()) } else { is_on(s) }
}

/// Starts a new generation: every thread discards what it recorded before its next call.
pub(crate) fn bump_generation() -> u64 {
    ensure_initialised();
    STATE.fetch_add(GENERATION_STEP, Relaxed) + GENERATION_STEP
}

/// The generation part of a state word.
#[inline(always)]
pub(crate) fn generation(state: u64) -> u64 {
    state & !ENABLED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_values_parse_as_documented() {
        for on in ["1", "true", "TRUE", "On", "yes", " YES "] {
            assert_eq!(parse_profile_setting(Some(on)), ProfileSetting::On, "{on:?}");
        }
        for off in ["", "0", "false", "OFF", "No", "  "] {
            assert_eq!(parse_profile_setting(Some(off)), ProfileSetting::Off, "{off:?}");
        }
        assert_eq!(parse_profile_setting(None), ProfileSetting::Off);
        for bad in ["2", "enable", "y", "tru"] {
            assert_eq!(parse_profile_setting(Some(bad)), ProfileSetting::Invalid, "{bad:?}");
        }
    }
}
