//! `profiler_report::dump()` as a program sees it.
//!
//! `PROFILE` is read once per process, so every case runs this test binary again as a child
//! process (`<this binary> --exact <test> --nocapture -q`), with its own environment and a fresh
//! temporary directory as its current directory. In the child, the environment variable
//! [`CHILD`] is set and the test body runs [`program`] instead: real instrumented work, its own
//! output, `dump()`, more output, then exit. The parent checks the child's exit status, output
//! and files.

mod support;

use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use support::{Run, Scratch, checksum};

/// Set in a child process to the name of the test it was started for.
const CHILD: &str = "PROFILER_DUMP_TEST_CHILD";

/// What `program` prints to stdout, whatever the profiler does.
fn expected_stdout() -> String {
    format!("result {}\nprogram: after dump\n", work())
}

/// What `program` prints to stderr itself, around the report.
const STDERR_BEFORE: &str = "program: before dump\n";
const STDERR_AFTER: &str = "program: after dump\n";

/// The program under test: one `pipeline` stage calling `parse` 10 times and `render` 3 times.
fn program() -> ! {
    // No `profiler_core::init()`: the first call itself must read `PROFILE` and be recorded.
    let total = profiler_core::time_stage("pipeline", work);
    println!("result {total}");
    // Not `eprint!`, which panics when stderr cannot be written (one case tests that).
    let _ = std::io::stderr().write_all(STDERR_BEFORE.as_bytes());
    profiler_report::dump();
    println!("program: after dump");
    let _ = std::io::stderr().write_all(STDERR_AFTER.as_bytes());
    let _ = std::io::stdout().flush();
    // Leave before the test harness prints its verdict, so stdout holds only the program's lines.
    std::process::exit(0);
}

fn work() -> u64 {
    let mut sum = 0u64;
    for i in 0..10 {
        sum = sum.wrapping_add(profiler_core::time_stage("parse", || checksum(i)));
    }
    for i in 0..3 {
        sum = sum.wrapping_add(profiler_core::time_stage("render", || checksum(100 + i)));
    }
    sum
}

/// In a child started for `test`, runs the program (and never returns).
fn run_program_if_child(test: &str) {
    support::run_program_if_child(CHILD, test, program);
}

/// Runs the program in a child started for `test`, in `cwd`, with `PROFILE` and
/// `PROFILE_OUTPUT` removed and then `env` set.
fn run_child(test: &str, cwd: &Path, env: &[(&str, &OsStr)]) -> Run {
    support::run_child(CHILD, test, cwd, &["PROFILE", "PROFILE_OUTPUT"], env)
}

fn scratch(case: &str) -> Scratch {
    Scratch::new("profiler-dump-test", case)
}

/// Checks a written profile: schema version and the exact call counts of `program`.
fn check_profile(path: &Path) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["schema_version"], 2);
    let stages = json["stages"].as_array().unwrap();
    let calls = |name: &str| {
        let stage = stages.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no stage `{name}`"));
        stage["calls"].as_u64().unwrap()
    };
    assert_eq!((calls("pipeline"), calls("parse"), calls("render")), (1, 10, 3));
    assert_eq!(stages.len(), 3);
    let edge = |parent: &str, child: &str| {
        json["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["parent"] == parent && e["child"] == child)
            .map(|e| e["calls"].clone())
    };
    assert_eq!(edge("pipeline", "parse"), Some(10.into()));
    assert_eq!(edge("pipeline", "render"), Some(3.into()));
    assert!(json["profiled_ns"].as_u64().unwrap() > 0);
    assert_eq!(stages[0]["name"], "pipeline", "stages are sorted by total time");
}

/// Checks stderr of an enabled run: own lines, the table, one last line from the profiler.
fn check_report(run: &Run, last_line: &str) {
    let report = run
        .stderr
        .strip_prefix(STDERR_BEFORE)
        .and_then(|rest| rest.strip_suffix(STDERR_AFTER))
        .unwrap_or_else(|| panic!("stderr: {}", run.stderr));
    assert!(report.starts_with("profile: wall "), "{report}");
    let lines: Vec<&str> = report.lines().collect();
    for stage in ["pipeline", "parse", "render"] {
        assert!(lines.iter().any(|l| l.split_whitespace().next() == Some(stage)), "no row for `{stage}`:\n{report}");
    }
    let table = &lines[..lines.len() - 1]; // the last line holds a path of any length
    assert!(table.iter().all(|l| l.chars().count() <= 100), "{report}");
    assert_eq!(lines.last(), Some(&last_line), "{report}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("profiler:")).count(), 1, "{report}");
}

#[test]
fn profile_unset_prints_and_writes_nothing() {
    const TEST: &str = "profile_unset_prints_and_writes_nothing";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    // The other variables are read only when profiling is on, so even bad values say nothing.
    let env = [
        ("PROFILE_CLOCK", "bogus".as_ref()),
        ("PROFILE_TRACE", "1".as_ref()),
        ("PROFILE_TRACE_EVENTS", "abc".as_ref()),
        ("PROFILE_SORT", "zz".as_ref()),
    ];
    let run = run_child(TEST, &scratch.0, &env);
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stderr);
    assert_eq!(run.stdout, expected_stdout());
    assert_eq!(run.stderr, format!("{STDERR_BEFORE}{STDERR_AFTER}"));
    assert_eq!(scratch.entries(""), Vec::<String>::new(), "nothing may be created");
}

/// `init()` with profiling off reads `PROFILE` and does nothing else: no clock started, so no
/// warning about `PROFILE_CLOCK` either.
#[test]
fn init_with_profile_unset_prints_nothing() {
    const TEST: &str = "init_with_profile_unset_prints_nothing";
    support::run_program_if_child(CHILD, TEST, || {
        profiler_core::init();
        program()
    });
    let scratch = scratch(TEST);
    let run = run_child(TEST, &scratch.0, &[("PROFILE_CLOCK", "bogus".as_ref())]);
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stderr);
    assert_eq!(run.stdout, expected_stdout());
    assert_eq!(run.stderr, format!("{STDERR_BEFORE}{STDERR_AFTER}"));
}

/// Dumps from several threads at once each write a profile of their own.
#[test]
fn concurrent_dumps_write_a_file_each() {
    const TEST: &str = "concurrent_dumps_write_a_file_each";
    support::run_program_if_child(CHILD, TEST, || {
        profiler_core::time_stage("pipeline", work);
        let dumps: Vec<_> = (0..4).map(|_| std::thread::spawn(profiler_report::dump)).collect();
        for dump in dumps {
            dump.join().unwrap();
        }
        std::process::exit(0);
    });
    let scratch = scratch(TEST);
    let run = run_child(TEST, &scratch.0, &[("PROFILE", "1".as_ref()), ("PROFILE_FORMAT", "json".as_ref())]);
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stderr);
    let files = scratch.entries("profiles");
    assert_eq!(files.len(), 4, "{files:?}\n{}", run.stderr);
    for file in files {
        check_profile(&scratch.0.join("profiles").join(file));
    }
}

/// Warnings and the report go to stderr; when it cannot be written (here: a full disk), the
/// program must still run to its end, with its own output and exit status.
#[cfg(target_os = "linux")]
#[test]
fn a_failing_stderr_changes_nothing() {
    const TEST: &str = "a_failing_stderr_changes_nothing";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let path = scratch.0.join("p.json");
    let full = || fs::OpenOptions::new().write(true).open("/dev/full").unwrap().into();
    let run_with = |env: &[(&str, &OsStr)]| {
        let mut env = env.to_vec();
        env.push(("PROFILE_OUTPUT", path.as_os_str()));
        support::run_child_with_stderr(CHILD, TEST, &scratch.0, &["PROFILE", "PROFILE_OUTPUT"], &env, full())
    };

    // A value of `PROFILE` not understood: its warning cannot be written.
    let run = run_with(&[("PROFILE", "garbage".as_ref())]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(run.stdout, expected_stdout());
    assert_eq!(scratch.entries(""), Vec::<String>::new());

    // Profiling on, a warning from each part of the profiler, and the report itself.
    let run = run_with(&[
        ("PROFILE", "1".as_ref()),
        ("PROFILE_CLOCK", "bogus".as_ref()),
        ("PROFILE_TRACE", "maybe".as_ref()),
        ("PROFILE_SORT", "zz".as_ref()),
    ]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(run.stdout, expected_stdout());
    check_profile(&path);
}

#[test]
fn profile_output_names_the_file_written() {
    const TEST: &str = "profile_output_names_the_file_written";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let cwd = scratch.0.join("cwd");
    fs::create_dir(&cwd).unwrap();
    let path = scratch.0.join("out/nested/p.json");
    let run = run_child(TEST, &cwd, &[("PROFILE", "1".as_ref()), ("PROFILE_OUTPUT", path.as_os_str())]);
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stderr);
    assert_eq!(run.stdout, expected_stdout(), "the report goes to stderr only");
    check_report(&run, &format!("profiler: wrote profile to {}", path.display()));
    check_profile(&path);
    assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "no temporary file is left");
    assert_eq!(fs::read_dir(&cwd).unwrap().count(), 0, "no `profiles/` directory with PROFILE_OUTPUT");
}

#[test]
fn default_output_goes_to_profiles_with_time_and_pid() {
    const TEST: &str = "default_output_goes_to_profiles_with_time_and_pid";
    run_program_if_child(TEST);
    // Unset, empty and blank `PROFILE_OUTPUT` all mean the default place; a directory there
    // means the default name in it.
    for (case, env) in [
        ("unset", &[("PROFILE", "on".as_ref())][..]),
        ("empty", &[("PROFILE", "1".as_ref()), ("PROFILE_OUTPUT", "".as_ref())][..]),
        ("blank", &[("PROFILE", "1".as_ref()), ("PROFILE_OUTPUT", "  ".as_ref())][..]),
        ("directory", &[("PROFILE", "1".as_ref()), ("PROFILE_OUTPUT", "profiles/".as_ref())][..]),
    ] {
        let scratch = scratch(&format!("{TEST}-{case}"));
        let run = run_child(TEST, &scratch.0, env);
        assert!(run.status.success(), "{case}: {:?}\n{}", run.status, run.stderr);
        assert_eq!(run.stdout, expected_stdout(), "{case}");
        assert_eq!(scratch.entries(""), ["profiles"], "{case}");
        let files = fs::read_dir(scratch.0.join("profiles"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect::<Vec<_>>();
        assert_eq!(files.len(), 1, "{case}: {files:?}");
        let name = &files[0];
        // profile-<YYYYMMDDTHHMMSSZ>-<pid>.json
        let stamp = name
            .strip_prefix("profile-")
            .and_then(|rest| rest.strip_suffix(&format!("-{}.json", run.pid)))
            .unwrap_or_else(|| panic!("{case}: unexpected file name {name:?} (child pid {})", run.pid));
        let shape: String = stamp.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
        assert_eq!(shape, "99999999T999999Z", "{case}: {name}");
        let relative = Path::new("profiles").join(name);
        check_report(&run, &format!("profiler: wrote profile to {}", relative.display()));
        check_profile(&scratch.0.join(&relative));
    }
}

#[test]
fn unwritable_output_is_reported_and_the_program_goes_on() {
    const TEST: &str = "unwritable_output_is_reported_and_the_program_goes_on";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let blocker = scratch.0.join("a-regular-file");
    fs::write(&blocker, "not a directory").unwrap();
    let path = blocker.join("p.json");
    let run = run_child(TEST, &scratch.0, &[("PROFILE", "1".as_ref()), ("PROFILE_OUTPUT", path.as_os_str())]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, expected_stdout(), "the program's output after dump is still printed");
    let prefix = format!("profiler: cannot write profile to {}: ", path.display());
    let last = run.stderr.lines().rev().nth(1).unwrap_or_default();
    assert!(last.starts_with(&prefix) && last.len() > prefix.len(), "no reason given: {}", run.stderr);
    check_report(&run, last);
    assert_eq!(scratch.entries(""), ["a-regular-file"]);
}

#[test]
fn invalid_profile_value_warns_once_and_writes_nothing() {
    const TEST: &str = "invalid_profile_value_warns_once_and_writes_nothing";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let path = scratch.0.join("out/p.json");
    let run = run_child(TEST, &scratch.0, &[("PROFILE", "garbage".as_ref()), ("PROFILE_OUTPUT", path.as_os_str())]);
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stderr);
    assert_eq!(run.stdout, expected_stdout());
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert!(lines[0].contains("PROFILE") && lines[0].contains("garbage"), "{}", lines[0]);
    assert_eq!(lines[1..].join("\n") + "\n", format!("{STDERR_BEFORE}{STDERR_AFTER}"));
    assert_eq!(scratch.entries(""), Vec::<String>::new(), "nothing may be created");
}
