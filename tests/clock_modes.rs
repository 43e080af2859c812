//! `PROFILE_CLOCK` and `set_clock_mode`: every clock mode records the same calls and times
//! real waits right, the profile and the report name the clock, and bad requests are refused
//! with one clear line and no lost data.
//!
//! The clock is chosen once per process, so every case runs this test binary again as a child
//! process (see `support`).

mod support;

use std::ffi::OsStr;
use std::time::Duration;

use profiler_core::ClockMode;
use support::{Run, Scratch};

/// Set in a child process to the name of the test it was started for.
const CHILD: &str = "PROFILER_CLOCK_TEST_CHILD";

#[profiler_macros::instrument_stage(name = "outer")]
fn outer() {
    std::thread::sleep(Duration::from_millis(20));
    for _ in 0..5 {
        inner();
    }
}

#[profiler_macros::instrument_stage(name = "inner")]
fn inner() {
    std::thread::sleep(Duration::from_millis(2));
}

/// The program under test: one `outer` call with five `inner` calls, then `dump()`.
fn program() -> ! {
    outer();
    profiler_report::dump();
    std::process::exit(0);
}

/// Switches the clock from code while recording, then prints what happened.
fn switching_program() -> ! {
    profiler_core::set_enabled(true);
    inner();
    let to_fast = profiler_core::set_clock_mode(ClockMode::Fast);
    inner();
    let to_instant = profiler_core::set_clock_mode(ClockMode::Instant);
    inner();
    let snapshot = profiler_core::snapshot();
    let stage = snapshot.stage("inner").expect("recorded");
    println!("to fast: {to_fast:?}");
    println!("to instant: {to_instant:?}");
    println!("clock {} calls {} min_ns {}", snapshot.clock, stage.calls, stage.min_ns);
    std::process::exit(0);
}

/// Whether this machine times with the CPU's counter by default (else every mode falls back to
/// `Instant`).
fn has_counter() -> bool {
    // Chooses the parent's own clock, which records nothing.
    profiler_core::set_clock_mode(ClockMode::Exact).is_ok()
}

fn run(test: &str, scratch: &Scratch, clock: &str) -> (Run, serde_json::Value) {
    let output = scratch.0.join("profile.json");
    let env: [(&str, &OsStr); 3] =
        [("PROFILE", "1".as_ref()), ("PROFILE_CLOCK", clock.as_ref()), ("PROFILE_OUTPUT", output.as_os_str())];
    let run = support::run_child(CHILD, test, &scratch.0, &["PROFILE_FORMAT", "PROFILE_TRACE", "NO_COLOR"], &env);
    assert!(run.status.success(), "child failed: {}", run.stderr);
    let profile = std::fs::read_to_string(&output).unwrap_or_else(|e| panic!("no profile ({e}): {}", run.stderr));
    (run, serde_json::from_str(&profile).unwrap())
}

fn stage<'a>(profile: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let stages = profile["stages"].as_array().unwrap();
    stages.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no stage {name}: {profile}"))
}

fn ms(value: &serde_json::Value) -> f64 {
    value.as_u64().unwrap() as f64 / 1e6
}

/// Every mode: exact counts, sleeps timed within generous bounds, self time consistent, and
/// the clock named in the profile; only the fast clock adds a warning to the report.
#[test]
fn every_clock_mode_records_the_same_calls_and_times_real_waits() {
    const TEST: &str = "every_clock_mode_records_the_same_calls_and_times_real_waits";
    support::run_program_if_child(CHILD, TEST, program);
    let counter = has_counter();
    for mode in [ClockMode::Exact, ClockMode::Fast, ClockMode::Instant] {
        let (expected, mode) = (if counter { mode.name() } else { "instant" }, mode.setting());
        let scratch = Scratch::new("profiler-clock", mode);
        let (run, profile) = run(TEST, &scratch, mode);
        assert_eq!(profile["clock"], expected, "{mode}");
        let (outer, inner) = (stage(&profile, "outer"), stage(&profile, "inner"));
        assert_eq!((outer["calls"].as_u64(), inner["calls"].as_u64()), (Some(1), Some(5)), "{mode}");
        let (outer_total, inner_total) = (ms(&outer["total_ns"]), ms(&inner["total_ns"]));
        assert!((30.0..2_000.0).contains(&outer_total), "{mode}: outer took {outer_total} ms");
        assert!((10.0..1_000.0).contains(&inner_total), "{mode}: inner took {inner_total} ms");
        assert!(ms(&inner["min_ns"]) >= 2.0, "{mode}: an inner call shorter than its sleep");
        let outer_self = ms(&outer["self_ns"]);
        assert!((outer_self - (outer_total - inner_total)).abs() < 0.01, "{mode}: self {outer_self} ms");
        let warned = run.stderr.contains("clock: fast (PROFILE_CLOCK=fast)");
        assert_eq!(warned, expected == ClockMode::Fast.name(), "{mode}: {}", run.stderr);
        // A valid request is followed silently, unless there is no counter to follow it with.
        let complaints = run.stderr.lines().filter(|l| l.starts_with("profiler: PROFILE_CLOCK")).count();
        assert_eq!(complaints, usize::from(!counter && mode != "instant"), "{mode}: {}", run.stderr);
    }
}

/// A value that is not a mode: one warning line, the default clock, nothing lost.
#[test]
fn an_unknown_clock_is_named_in_one_line_and_the_default_is_used() {
    const TEST: &str = "an_unknown_clock_is_named_in_one_line_and_the_default_is_used";
    support::run_program_if_child(CHILD, TEST, program);
    let default = if has_counter() { ClockMode::Exact } else { ClockMode::Instant };
    let (default, clock) = (default.setting(), default.name());
    let scratch = Scratch::new("profiler-clock", "unknown");
    let (run, profile) = run(TEST, &scratch, "quick");
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.contains("PROFILE_CLOCK")).collect();
    let expected =
        format!("profiler: PROFILE_CLOCK=\"quick\" is not understood (use exact, fast or instant); using {default}");
    assert_eq!(warnings, [expected.as_str()], "{}", run.stderr);
    assert_eq!(profile["clock"], clock);
    assert_eq!(stage(&profile, "inner")["calls"], 5);
}

/// From code: exact to fast while recording works (same ticks); a switch to `Instant` after the
/// clock started is refused, and the calls made meanwhile are all kept.
#[test]
fn the_clock_switches_between_counter_modes_but_never_changes_its_source() {
    const TEST: &str = "the_clock_switches_between_counter_modes_but_never_changes_its_source";
    support::run_program_if_child(CHILD, TEST, switching_program);
    let scratch = Scratch::new("profiler-clock", "switch");
    let run = support::run_child(CHILD, TEST, &scratch.0, &["PROFILE", "PROFILE_CLOCK"], &[]);
    assert!(run.status.success(), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    if has_counter() {
        let fast = ClockMode::Fast.name();
        assert_eq!(lines[0], "to fast: Ok(())");
        assert_eq!(
            lines[1],
            format!("to instant: Err(\"the clock has started as {fast}; it cannot switch to instant now\")")
        );
        let rest = lines[2].strip_prefix(&format!("clock {fast} calls 3 min_ns ")).expect(lines[2]);
        assert!(rest.parse::<u64>().unwrap() >= 2_000_000, "{}", lines[2]);
    } else {
        assert!(lines[0].starts_with("to fast: Err(\"the fast clock needs "), "{}", lines[0]);
        assert_eq!(lines[1], "to instant: Ok(())");
        assert!(lines[2].starts_with("clock instant calls 3 "), "{}", lines[2]);
    }
}
