//! The `profiler-report` command line, run as a program on real files.
//!
//! Each test writes its profiles to a fresh temporary directory, runs the built binary and
//! checks its exit code, stdout and stderr; the expected outputs are computed in-process with
//! the library, so the command and the library must agree exactly.

// The workspace's test support: `Scratch` directories, and `command_for`, which runs the binary
// through an emulator when the tests are built for another CPU (`scripts/aarch64-test.sh`).
#[path = "../../tests/support/mod.rs"]
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use profiler_core::{Event, Histogram, Snapshot, ThreadEvents};
use profiler_report::compare::{CompareOptions, compare, render_comparison};
use profiler_report::folded::{parse_folded, render_folded, stacks};
use profiler_report::json::Profile;
use profiler_report::merge::merge_profiles;
use profiler_report::{ReportOptions, SortKey, analyze, read_profile, read_profile_text, render_report, speedscope};
use serde_json::Value;
use support::Scratch;

/// A complete profile written by this version (the JSON golden file).
fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/profile-v2.json")
}

/// A profile written by schema version 1, kept to check that it is refused clearly.
fn golden_v1() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/profile-v1.json")
}

/// A fresh, empty directory for one test, removed on drop.
fn scratch(case: &str) -> Scratch {
    Scratch::new("profiler-report-cli", case)
}

fn run(args: &[&str]) -> Output {
    support::command_for(env!("CARGO_BIN_EXE_profiler-report")).args(args).env_remove("NO_COLOR").output().unwrap()
}

fn run_paths(command: &str, paths: &[&Path], extra: &[&str]) -> Output {
    run(&args_of(command, paths, extra).iter().map(String::as_str).collect::<Vec<_>>())
}

fn args_of(command: &str, paths: &[&Path], extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![command.to_owned()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// Runs the binary with its standard output going to `stdout`.
fn run_with_stdout(args: &[String], stdout: Stdio) -> Output {
    support::command_for(env!("CARGO_BIN_EXE_profiler-report")).args(args).stdout(stdout).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The golden profile's snapshot with the calls of `render` `factor` times as long.
fn slower(factor: u64) -> Snapshot {
    let (_, mut snapshot) = read_profile(&golden()).unwrap();
    let render = snapshot.stages.iter_mut().find(|s| s.name == "render").unwrap();
    render.total_ns *= factor;
    render.self_ns *= factor;
    render.sum_ns *= factor;
    render.min_ns *= factor;
    render.max_ns *= factor;
    let mut histogram = Histogram::default();
    histogram.record_n(3_000_000 * factor, render.calls);
    render.histogram = histogram;
    snapshot
}

fn options() -> ReportOptions {
    ReportOptions { cores: Some(4), program: Some("pipeline-demo".to_owned()), ..ReportOptions::default() }
}

fn write_snapshot(scratch: &Scratch, name: &str, snapshot: &Snapshot) -> PathBuf {
    let profile = Profile::new(snapshot, &analyze(snapshot, &options()), "pipeline-demo");
    scratch.write(name, &profile.to_json())
}

/// Checks a bad-input failure: exit code 2, nothing on stdout, one line on stderr that starts
/// with `profiler-report: <path>: ` and says `what`.
fn assert_bad_input(output: &Output, path: &Path, what: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    assert!(output.stdout.is_empty(), "{}", stdout(output));
    let err = stderr(output);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let prefix = format!("profiler-report: {}: ", path.display());
    assert!(err.starts_with(&prefix), "{err}");
    assert!(err.contains(what), "{what:?} not in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help_prints_the_usage() {
    for flag in ["--help", "-h", "help"] {
        let output = run(&[flag]);
        assert_eq!(output.status.code(), Some(0));
        let text = stdout(&output);
        assert!(text.contains("profiler-report show FILE.json"), "{text}");
        assert!(text.contains("profiler-report compare BASE.json NEW.json"), "{text}");
        assert!(text.contains("-o OUT.json"), "{text}");
        assert!(text.contains("profiler-report convert FILE.json --format FORMAT [-o OUT]"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 100));
    }
}

#[test]
fn bad_usage_exits_with_2_and_one_line() {
    let golden = golden();
    let golden = golden.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&[], "no command given"),
        (&["frobnicate"], "unknown command `frobnicate`"),
        (&["show"], "`show` needs one profile"),
        (&["show", golden, "--sort", "fastest"], "--sort \"fastest\": expected total, self"),
        (&["show", golden, "--bogus"], "unknown option `--bogus` for `show`"),
        (&["compare", golden], "`compare` needs two profiles"),
        (&["merge", golden], "`merge` needs -o OUT.json"),
    ];
    for (args, expected) in cases {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("profiler-report: ") && err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn show_prints_the_report_the_library_renders() {
    let output = run_paths("show", &[&golden()], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (profile, snapshot) = read_profile(&golden()).unwrap();
    assert_eq!(profile.analysis.cores, 4);
    let expected = render_report(&snapshot, &analyze(&snapshot, &options()), &options(), false);
    assert_eq!(stdout(&output), expected);
    assert!(expected.starts_with("profile: wall 900ms of `pipeline-demo`"));
    assert!(!expected.contains('\x1b'), "no colour when stdout is not a terminal");
}

#[test]
fn show_takes_sort_limit_threshold_and_colour() {
    let output = run_paths(
        "show",
        &[&golden()],
        &["--sort", "calls", "--limit=2", "--threshold", "1us", "--min-confidence", "0.85", "--colour", "always"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, snapshot) = read_profile(&golden()).unwrap();
    let options =
        ReportOptions { sort: SortKey::Calls, limit: Some(2), threshold_ns: 1000, min_confidence: 0.85, ..options() };
    assert_eq!(stdout(&output), render_report(&snapshot, &analyze(&snapshot, &options), &options, true));
    assert!(stdout(&output).contains("stages by calls"));
    assert!(stdout(&output).contains("\x1b["));
}

#[test]
fn show_limit_0_shows_every_stage_as_profile_limit_does() {
    let all = run_paths("show", &[&golden()], &["--colour", "never"]);
    let zero = run_paths("show", &[&golden()], &["--limit", "0", "--colour", "never"]);
    assert_eq!(zero.status.code(), Some(0), "{}", stderr(&zero));
    assert_eq!(stdout(&zero), stdout(&all));
}

#[test]
fn a_profile_with_a_byte_order_mark_reads() {
    let scratch = scratch("bom");
    let text = fs::read_to_string(golden()).unwrap();
    let path = scratch.path("bom.json");
    fs::write(&path, format!("\u{feff}{text}")).unwrap();
    let with_mark = run_paths("show", &[&path], &["--colour", "never"]);
    assert_eq!(with_mark.status.code(), Some(0), "{}", stderr(&with_mark));
    assert_eq!(stdout(&with_mark), stdout(&run_paths("show", &[&golden()], &["--colour", "never"])));
    let json = run_paths("convert", &[&path], &["--format", "json"]);
    assert_eq!(stdout(&json), text, "the profile without the mark");
}

#[test]
fn compare_lists_changes_and_passes_without_a_gate() {
    let scratch = scratch("compare");
    let new = write_snapshot(&scratch, "new.json", &slower(2));
    let output = run_paths("compare", &[&golden(), &new], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, base) = read_profile(&golden()).unwrap();
    let (_, new_snapshot) = read_profile(&new).unwrap();
    let comparison = compare(&base, &new_snapshot, &CompareOptions::default());
    let expected = render_comparison(&comparison, &golden().display().to_string(), &new.display().to_string());
    assert_eq!(stdout(&output), expected);
    assert!(expected.contains("\nrender ") && expected.contains("+100.0%"), "{expected}");
}

#[test]
fn compare_fails_above_the_limit_with_exit_code_1() {
    let scratch = scratch("gate");
    let new = write_snapshot(&scratch, "new.json", &slower(2));
    let tripped = run_paths("compare", &[&golden(), &new], &["--fail-above", "50"]);
    assert_eq!(tripped.status.code(), Some(1), "{}", stderr(&tripped));
    assert!(stdout(&tripped).contains("gate FAILED: 1 stage regressed by more than 50.0% (mean): render (+100.0%)"));
    let passed = run_paths("compare", &[&golden(), &new], &["--fail-above", "150%"]);
    assert_eq!(passed.status.code(), Some(0));
    assert!(stdout(&passed).contains("gate passed"));
    // render has 50 calls: requiring 51 leaves it out of the gate.
    let minor = run_paths("compare", &[&golden(), &new], &["--fail-above", "50", "--min-calls", "51"]);
    assert_eq!(minor.status.code(), Some(0));
    let minor = run_paths("compare", &[&golden(), &new], &["--fail-above", "50", "--min-share", "40"]);
    assert_eq!(minor.status.code(), Some(0), "render is 31 % of profiled time at most");
    // By p95 as well; by total it is a regression too.
    let p95 = run_paths("compare", &[&golden(), &new], &["--fail-above", "50", "--metric", "p95"]);
    assert_eq!(p95.status.code(), Some(1));
}

#[test]
fn merge_to_standard_output_prints_the_profile_alone() {
    let scratch = scratch("merge-stdout");
    let b = write_snapshot(&scratch, "b.json", &slower(3));
    let output = run_paths("merge", &[&golden(), &b], &["-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let inputs = vec![read_profile(&golden()).unwrap(), read_profile(&b).unwrap()];
    let expected = merge_profiles(&inputs, &ReportOptions { cores: Some(4), ..ReportOptions::default() }).unwrap();
    assert_eq!(stdout(&output), expected.to_json());
    assert_eq!(scratch.entries(""), ["b.json"], "no file named `-`");
}

#[test]
fn merge_adds_counts_and_merges_histograms_exactly() {
    let scratch = scratch("merge");
    let a = golden();
    let b = write_snapshot(&scratch, "b.json", &slower(3));
    let out = scratch.path("out/merged.json");
    let output = run_paths("merge", &[&a, &b], &["-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("merged 2 profiles (5 stages, 402142 calls) into {}\n", out.display()));
    // The file equals an in-process merge of the same files, byte for byte.
    let inputs = vec![read_profile(&a).unwrap(), read_profile(&b).unwrap()];
    let expected = merge_profiles(&inputs, &ReportOptions { cores: Some(4), ..ReportOptions::default() }).unwrap();
    assert_eq!(fs::read_to_string(&out).unwrap(), expected.to_json());
    // And its numbers are the sums: calls, and percentiles of all the calls together.
    let (merged, merged_snapshot) = read_profile(&out).unwrap();
    let render = merged_snapshot.stage("render").unwrap();
    assert_eq!(render.calls, 100);
    assert_eq!(render.min_ns, 2_900_000);
    assert_eq!(render.max_ns, 9_300_000);
    let p50 = render.percentile_ns(0.5) as f64;
    let p95 = render.percentile_ns(0.95) as f64;
    assert!((p50 - 3_000_000.0).abs() / 3e6 < 0.02, "half the calls at 3 ms: {p50}");
    assert!((p95 - 9_000_000.0).abs() / 9e6 < 0.02, "the other half at 9 ms: {p95}");
    assert_eq!(merged.stages.iter().map(|s| s.calls).sum::<u64>(), 402_142);
    assert_eq!(merged.program, "pipeline-demo");
}

#[test]
fn a_merge_that_would_overflow_the_calls_writes_nothing() {
    let scratch = scratch("merge-overflow");
    // Valid files whose `render` calls fill a histogram bucket up to u64::MAX: the same bucket
    // (whose count would saturate) or different ones.
    let saturated = |factor: u64| {
        let mut snapshot = slower(factor);
        let render = snapshot.stages.iter_mut().find(|s| s.name == "render").unwrap();
        render.calls = u64::MAX;
        render.histogram = Histogram::default();
        render.histogram.record_n(3_000_000 * factor, u64::MAX);
        snapshot
    };
    let a = write_snapshot(&scratch, "a.json", &saturated(1));
    let b = write_snapshot(&scratch, "b.json", &saturated(3));
    let out = scratch.path("merged.json");
    for inputs in [[a.as_path(), b.as_path()], [a.as_path(), a.as_path()]] {
        let output = run_paths("merge", &inputs, &["-o", out.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(output.stdout.is_empty(), "{}", stdout(&output));
        assert_eq!(
            stderr(&output),
            "profiler-report: cannot merge: stage `render`: the calls add up to more than 18446744073709551615\n"
        );
        assert!(!out.exists(), "no file with wrong counts is left behind");
    }
}

#[test]
fn bad_files_are_named_with_what_is_wrong() {
    let scratch = scratch("bad");
    let text = fs::read_to_string(golden()).unwrap();
    let missing = scratch.path("missing.json");
    let not_json = scratch.write("notes.json", "these are not the numbers you are looking for\n");
    let truncated = scratch.write("truncated.json", &text[..text.len() / 2]);
    let empty = scratch.write("empty.json", "");
    let invalid = scratch.write("invalid.json", &text.replacen("\"calls\": 1000,", "\"calls\": 7,", 1));
    let old = golden_v1();
    let cases: [(&Path, &str); 6] = [
        (&missing, "cannot read it: No such file or directory"),
        (&not_json, "not JSON: expected ident at line 1 column 2"),
        (&truncated, "truncated: the JSON ends early"),
        (&empty, "empty file, not a profile"),
        (
            &invalid,
            "invalid profile: stage `app::pipeline::parse_document`: histogram counts add up to 1000, not its 7 calls",
        ),
        (&old, "unsupported schema version 1, expected 2"),
    ];
    let good = golden();
    let out = scratch.path("out.json");
    let out = out.to_str().unwrap();
    for (path, what) in cases {
        assert_bad_input(&run_paths("show", &[path], &[]), path, what);
        assert_bad_input(&run_paths("compare", &[&good, path], &[]), path, what);
        assert_bad_input(&run_paths("compare", &[path, &good], &["--fail-above", "10"]), path, what);
        assert_bad_input(&run_paths("merge", &[&good, path], &["-o", out]), path, what);
        assert_bad_input(&run_paths("convert", &[path], &["--format", "html", "-o", out]), path, what);
        assert_bad_input(&run_paths("convert", &[path], &["--format", "folded"]), path, what);
        assert!(!Path::new(out).exists(), "no output after a bad input");
    }
}

#[test]
fn an_unwritable_merge_output_is_one_line_too() {
    let scratch = scratch("unwritable");
    let blocker = scratch.write("a-file", "not a directory");
    let out = blocker.join("merged.json");
    let output = run_paths("merge", &[&golden()], &["-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("profiler-report: {}: cannot write the merged profile: ", out.display())),
        "{err}"
    );
}

/// The golden profile's snapshot with a timeline on two threads, as a run with
/// `PROFILE_TRACE=1` records it; thread 2 dropped 3 older events.
fn traced() -> Snapshot {
    let (_, mut snapshot) = read_profile(&golden()).unwrap();
    let index = |name: &str| snapshot.stages.iter().position(|s| s.name == name).unwrap();
    let (main, parse, render) = (index("main"), index("app::pipeline::parse_document"), index("render"));
    let event = |stage, start_ns, duration_ns, depth| Event { stage, start_ns, duration_ns, depth };
    snapshot.events = vec![
        ThreadEvents {
            thread: 1,
            dropped: 0,
            events: vec![
                event(main, 1_000, 900_000, 1),
                event(parse, 2_500, 300_000, 2),
                event(render, 3_000, 150_000, 3),
            ],
        },
        ThreadEvents { thread: 2, dropped: 3, events: vec![event(parse, 5_000, 1_234, 1)] },
    ];
    snapshot.dropped_events = 3;
    snapshot
}

/// Runs `convert FILE --format FORMAT` and returns its stdout, checking that it succeeded.
fn convert_to_stdout(path: &Path, format: &str) -> String {
    let output = run_paths("convert", &[path], &["--format", format]);
    assert_eq!(output.status.code(), Some(0), "{format}: {}", stderr(&output));
    stdout(&output)
}

#[test]
fn convert_renders_every_format_of_a_traced_profile() {
    let scratch = scratch("convert");
    let path = write_snapshot(&scratch, "traced.json", &traced());
    let (text, _, snapshot) = read_profile_text(&path).unwrap();
    assert_eq!(snapshot.events, traced().events, "the saved profile keeps the events");

    assert_eq!(convert_to_stdout(&path, "json"), text, "json: the file as it is");
    assert_eq!(convert_to_stdout(&path, "text"), stdout(&run_paths("show", &[&path], &[])), "text: as `show`");

    let folded = parse_folded(&convert_to_stdout(&path, "folded")).unwrap();
    assert_eq!(folded, parse_folded(&render_folded(&stacks(&snapshot))).unwrap());
    assert_eq!(folded.iter().map(|s| s.self_ns).sum::<u64>(), snapshot.profiled_ns());

    let svg = convert_to_stdout(&path, "svg");
    assert!(svg.contains("<svg") && svg.contains("render"), "{}", &svg[..svg.len().min(300)]);
    assert_eq!(convert_to_stdout(&path, "SVG"), svg, "names in any case");

    let trace: Value = serde_json::from_str(&convert_to_stdout(&path, "chrome")).unwrap();
    assert_eq!(trace["otherData"]["dropped_events"], 3);
    let complete: Vec<(&str, u64, f64, f64)> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["tid"].as_u64().unwrap(),
                e["ts"].as_f64().unwrap(),
                e["dur"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        complete,
        [
            ("main", 1, 1.0, 900.0),
            ("app::pipeline::parse_document", 1, 2.5, 300.0),
            ("render", 1, 3.0, 150.0),
            ("app::pipeline::parse_document", 2, 5.0, 1.234)
        ]
    );

    let file: Value = serde_json::from_str(&convert_to_stdout(&path, "speedscope")).unwrap();
    assert_eq!(file["$schema"], speedscope::SCHEMA);
    let profiles: Vec<(&str, &str)> = file["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["type"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        profiles,
        [
            ("sampled", "call tree (self time)"),
            ("evented", "thread 1"),
            ("evented", "thread 2 (3 oldest events dropped)")
        ]
    );
    assert_eq!(file["profiles"][1]["events"].as_array().unwrap().len(), 6, "three calls open and close");
    assert_eq!(file["name"], "stage profile of pipeline-demo");

    let page = convert_to_stdout(&path, "html");
    assert!(page.starts_with("<!DOCTYPE html>"));
    for stage in &snapshot.stages {
        assert!(page.contains(&format!("\"name\": \"{}\"", stage.name)), "{} not in the page", stage.name);
    }
    assert!(page.contains(text.trim()), "the file's JSON is embedded as it is");
    assert!(page.contains("\"events\": {"), "with the timeline");
}

#[test]
fn convert_writes_to_o_and_names_the_file() {
    let scratch = scratch("convert-o");
    let out = scratch.path("out/nested/run.trace.json");
    let output = run_paths("convert", &[&golden()], &["--format", "chrome", "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("wrote chrome trace to {} (no events: run with PROFILE_TRACE=1)\n", out.display())
    );
    assert_eq!(stderr(&output), "");
    let trace: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert!(trace["otherData"]["note"].as_str().unwrap().contains("PROFILE_TRACE=1"));
    assert_eq!(fs::read_dir(out.parent().unwrap()).unwrap().count(), 1, "no temporary file left");

    // `-o -` and no `-o` both print to stdout; a remark then goes to stderr.
    let (_, snapshot) = read_profile(&golden()).unwrap();
    let dash = run_paths("convert", &[&golden()], &["--format=folded", "-o", "-"]);
    assert_eq!((dash.status.code(), stdout(&dash)), (Some(0), render_folded(&stacks(&snapshot))));
    let chrome = run_paths("convert", &[&golden()], &["--format", "chrome"]);
    assert_eq!(stderr(&chrome), "profiler-report: chrome trace: no events: run with PROFILE_TRACE=1\n");
    assert!(stdout(&chrome).starts_with("{\"displayTimeUnit\""));
}

#[test]
fn convert_refuses_unknown_formats_and_empty_flame_graphs() {
    let usage =
        "usage: profiler-report convert FILE.json --format text|json|folded|svg|chrome|speedscope|html [-o OUT]";
    let golden = golden();
    let cases: [(&[&str], String); 4] = [
        (&["--format", "pdf"], format!("profiler-report: unknown format `pdf`; {usage}\n")),
        (&["--format=", "-o", "x"], format!("profiler-report: unknown format ``; {usage}\n")),
        (&[], format!("profiler-report: `convert` needs --format; {usage}\n")),
        (&["--format"], "profiler-report: --format needs a value\n".to_owned()),
    ];
    for (extra, expected) in cases {
        let output = run_paths("convert", &[&golden], extra);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        assert_eq!((stdout(&output), stderr(&output)), (String::new(), expected), "{extra:?}");
    }
    let output = run(&["convert", "--format", "svg"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`convert` needs one profile"), "{}", stderr(&output));

    // A profile without self time has no flame graph: one line, nothing written.
    let scratch = scratch("convert-empty");
    let (_, mut snapshot) = read_profile(&golden).unwrap();
    for node in &mut snapshot.tree {
        node.self_ns = 0;
    }
    let path = write_snapshot(&scratch, "flat.json", &snapshot);
    let out = scratch.path("flat.svg");
    let output = run_paths("convert", &[&path], &["--format", "svg", "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "profiler-report: {}: no flame graph to write: nothing to draw, no stage has any self time\n",
            path.display()
        )
    );
    assert!(!out.exists());
}

/// `/dev/full`: every write to it fails with "No space left on device".
#[cfg(target_os = "linux")]
fn dev_full() -> Stdio {
    Stdio::from(fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
}

#[cfg(target_os = "linux")]
#[test]
fn a_standard_output_that_cannot_be_written_is_one_line_and_exit_code_2() {
    let golden = golden();
    let cases: [(Vec<String>, &str); 4] = [
        (args_of("--help", &[], &[]), "the usage"),
        (args_of("show", &[&golden], &[]), "the report"),
        (args_of("compare", &[&golden, &golden], &[]), "the comparison"),
        (args_of("convert", &[&golden], &["--format", "folded"]), "the folded stacks"),
    ];
    for (args, what) in cases {
        let output = run_with_stdout(&args, dev_full());
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert_eq!(
            stderr(&output),
            format!("profiler-report: cannot write {what} to standard output: No space left on device (os error 28)\n"),
            "{args:?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_written_with_o_is_a_success_even_when_its_line_cannot_be_printed() {
    let scratch = scratch("o-full");
    let merged = scratch.path("merged.json");
    let output = run_with_stdout(&args_of("merge", &[&golden()], &["-o", merged.to_str().unwrap()]), dev_full());
    assert_eq!((output.status.code(), stderr(&output)), (Some(0), String::new()));
    let (_, snapshot) = read_profile(&merged).unwrap();
    assert_eq!(snapshot.stages.len(), 5);
    let folded = scratch.path("run.folded");
    let output = run_with_stdout(
        &args_of("convert", &[&golden()], &["--format", "folded", "-o", folded.to_str().unwrap()]),
        dev_full(),
    );
    assert_eq!((output.status.code(), stderr(&output)), (Some(0), String::new()));
    assert_eq!(parse_folded(&fs::read_to_string(&folded).unwrap()).unwrap().len(), 5);
}

#[test]
fn a_reader_that_goes_away_stops_the_output_without_a_word() {
    // 3,000 stages: the report and the file are far larger than a pipe's buffer, so a write
    // fails once the reader is gone, however early the child starts writing.
    let scratch = scratch("closed-pipe");
    let (_, mut snapshot) = read_profile(&golden()).unwrap();
    let render = snapshot.stage("render").unwrap().clone();
    snapshot
        .stages
        .extend((0..3000).map(|i| profiler_core::StageSnapshot { name: format!("render{i}"), ..render.clone() }));
    let wide = write_snapshot(&scratch, "wide.json", &snapshot);
    for args in [args_of("show", &[&wide], &[]), args_of("convert", &[&wide], &["--format", "json"])] {
        let mut child = support::command_for(env!("CARGO_BIN_EXE_profiler-report"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!((output.status.code(), stderr(&output)), (Some(141), String::new()), "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let scratch = scratch("output-is-input");
    let original = fs::read_to_string(golden()).unwrap();
    let a = scratch.write("a.json", &original);
    let b = scratch.write("b.json", &original);
    // Other names for a.json: a path with `.` in it, a symbolic link.
    let dotted = scratch.0.join(".").join("a.json");
    let link = scratch.path("link.json");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    let cases: [(Vec<String>, &Path); 4] = [
        (args_of("convert", &[&a], &["--format", "html", "-o", a.to_str().unwrap()]), &a),
        (args_of("merge", &[&b, &a], &["-o", a.to_str().unwrap()]), &a),
        (args_of("merge", &[&b, &a], &["--output", dotted.to_str().unwrap()]), &dotted),
        (args_of("convert", &[&a], &["--format", "svg", "-o", link.to_str().unwrap()]), &link),
    ];
    for (args, output_path) in cases {
        let output = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{args:?}: {}", stdout(&output));
        assert_eq!(
            stderr(&output),
            format!(
                "profiler-report: {}: the output would overwrite the input {}; choose another -o\n",
                output_path.display(),
                a.display()
            ),
            "{args:?}"
        );
        assert_eq!(fs::read_to_string(&a).unwrap(), original, "{args:?}: the input is intact");
    }
    assert_eq!(scratch.entries("."), ["a.json", "b.json", "link.json"], "nothing else written");
}
