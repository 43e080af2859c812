//! `PROFILE_FORMAT`: every output format written by `profiler_report::dump()` at the end of a
//! traced run, as a program sees it.
//!
//! `PROFILE` and `PROFILE_TRACE` are read once per process, so, as in `tests/dump.rs`, every
//! case runs this test binary again as a child process (`<this binary> --exact <test>
//! --nocapture -q`) with its own environment. In the child, the environment variable [`CHILD`]
//! is set and the test body runs [`program`] instead: nested instrumented calls on two threads,
//! then `dump()`, then exit. The parent checks the files and the lines on stderr.

mod support;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use profiler_core::time_stage;
use profiler_report::folded::parse_folded;
use serde_json::Value;
use support::{Run, Scratch, checksum};

/// Set in a child process to the name of the test it was started for.
const CHILD: &str = "PROFILER_FORMATS_TEST_CHILD";

/// The stages `program` records.
const STAGES: [&str; 4] = ["formats::pipeline", "formats::parse", "formats::render", "formats::worker"];

/// The program under test: `pipeline` { 5 × `parse`, 2 × `render` { `parse` } } on this thread,
/// and `worker` { 3 × `parse` } on a second one.
fn program() -> ! {
    let worker = std::thread::spawn(|| {
        time_stage("formats::worker", || (0..3).fold(0, |sum, i| sum ^ time_stage("formats::parse", || checksum(i))))
    });
    let total = time_stage("formats::pipeline", || {
        let parsed = (0..5).fold(0, |sum, i| sum ^ time_stage("formats::parse", || checksum(i)));
        (0..2).fold(parsed, |sum, i| {
            sum ^ time_stage("formats::render", || time_stage("formats::parse", || checksum(100 + i)))
        })
    });
    println!("result {}", total ^ worker.join().unwrap());
    profiler_report::dump();
    // Leave before the test harness prints its verdict.
    std::process::exit(0);
}

/// In a child started for `test`, runs the program (and never returns).
fn run_program_if_child(test: &str) {
    support::run_program_if_child(CHILD, test, program);
}

/// Runs the program in a child started for `test`, in `cwd`, with every `PROFILE*` variable
/// this test uses removed and then `env` set; the child must succeed.
fn run_child(test: &str, cwd: &Path, env: &[(&str, &OsStr)]) -> Run {
    let removed =
        ["PROFILE", "PROFILE_OUTPUT", "PROFILE_OUTPUT_DIR", "PROFILE_FORMAT", "PROFILE_TRACE", "PROFILE_TRACE_EVENTS"];
    let run = support::run_child(CHILD, test, cwd, &removed, env);
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stderr);
    run
}

fn scratch(case: &str) -> Scratch {
    Scratch::new("profiler-formats-test", case)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_format_is_written_next_to_the_json_and_named_on_stderr() {
    const TEST: &str = "every_format_is_written_next_to_the_json_and_named_on_stderr";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let out = scratch.0.join("out");
    let json_path = out.join("p.json");
    let output = run_child(
        TEST,
        &scratch.0,
        &[
            ("PROFILE", "1".as_ref()),
            ("PROFILE_TRACE", "1".as_ref()),
            ("PROFILE_FORMAT", "text,json,folded,svg,chrome,speedscope,html".as_ref()),
            ("PROFILE_OUTPUT", json_path.as_os_str()),
        ],
    );
    let stderr = output.stderr;
    let file = |name: &str| out.join(name);

    // stderr: the text report, then one line per file, in this order.
    assert!(stderr.starts_with("profile: wall "), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("profiler:")).collect();
    let expected: Vec<String> = [
        ("profile", "p.json"),
        ("folded stacks", "p.folded"),
        ("flame graph", "p.svg"),
        ("chrome trace", "p.trace.json"),
        ("speedscope profile", "p.speedscope.json"),
        ("HTML report", "p.html"),
    ]
    .iter()
    .map(|&(what, name)| format!("profiler: wrote {what} to {}", file(name).display()))
    .collect();
    assert_eq!(lines, expected, "{stderr}");
    assert_eq!(
        scratch.entries(Path::new("out")),
        ["p.folded", "p.html", "p.json", "p.speedscope.json", "p.svg", "p.trace.json"],
        "every file and no temporary one"
    );

    // The JSON profile, with the events of both threads.
    let profile = json(&json_path);
    assert_eq!(profile["schema_version"], 2);
    let names: Vec<&str> = profile["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().copied().collect::<BTreeSet<_>>(), STAGES.into_iter().collect());
    let threads = profile["events"]["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 2, "{}", profile["events"]);
    assert_eq!(profile["events"]["dropped"], 0);
    let event_count: usize = threads.iter().map(|t| t["events"].as_array().unwrap().len()).sum();
    assert_eq!(event_count, 1 + 5 + 2 + 2 + 1 + 3, "every call is an event");

    // Folded stacks parse back and add up to the profiled time.
    let folded = parse_folded(&read(&file("p.folded"))).unwrap();
    let (folded_ns, profiled_ns) =
        (folded.iter().map(|s| s.self_ns).sum::<u64>(), profile["profiled_ns"].as_u64().unwrap());
    // Tree nodes and stages convert their ticks to nanoseconds separately: 1 ns of rounding each.
    let nodes = profile["tree"].as_array().unwrap().len() as u64;
    assert!(folded_ns.abs_diff(profiled_ns) <= nodes, "{folded_ns} vs {profiled_ns}");
    let paths: BTreeSet<String> = folded.iter().map(|s| s.frames.join(";")).collect();
    assert!(paths.contains("formats::pipeline;formats::render;formats::parse"), "{paths:?}");
    assert!(paths.contains("formats::worker;formats::parse"), "{paths:?}");

    // The flame graph.
    let svg = read(&file("p.svg"));
    assert!(svg.contains("<svg") && svg.contains("formats::pipeline"), "{}", &svg[..svg.len().min(300)]);

    // Chrome trace: a complete event per call, on one track per thread.
    let trace = json(&file("p.trace.json"));
    let complete: Vec<&Value> = trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(complete.len(), event_count);
    let tids = |name: &str| -> BTreeSet<u64> {
        complete.iter().filter(|e| e["name"] == name).map(|e| e["tid"].as_u64().unwrap()).collect()
    };
    for stage in STAGES {
        assert!(!tids(stage).is_empty(), "no event of {stage}");
    }
    let (main, worker) = (tids("formats::pipeline"), tids("formats::worker"));
    assert_eq!((main.len(), worker.len()), (1, 1));
    assert_ne!(main, worker, "one track per thread");
    assert_eq!(tids("formats::parse"), main.union(&worker).copied().collect(), "parse runs on both");
    for event in &complete {
        assert!(event["ts"].as_f64().unwrap() >= 0.0 && event["dur"].as_f64().unwrap() >= 0.0, "{event}");
    }

    // speedscope: the call tree and a timeline per thread.
    let speedscope = json(&file("p.speedscope.json"));
    assert_eq!(speedscope["$schema"], "https://www.speedscope.app/file-format-schema.json");
    let kinds: Vec<&str> =
        speedscope["profiles"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sampled", "evented", "evented"]);
    assert_eq!(speedscope["profiles"][1]["events"].as_array().unwrap().len() % 2, 0, "open and close");

    // The HTML report embeds the profile, events included.
    let html = read(&file("p.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    for stage in STAGES {
        assert!(html.contains(stage), "{stage} not in the page");
    }
    assert!(html.contains("\"events\": {"));
}

/// How deep `deep_program` recurses: far past the folded formats' depth limit, and deep enough
/// that writing every path whole would take tens of megabytes.
const RECURSION_DEPTH: u64 = 3_000;

/// `deep::descend` calling itself `RECURSION_DEPTH` times, with `deep::leaf` at the bottom, on a
/// thread with a large stack; then `dump()`.
fn deep_program() -> ! {
    fn descend(level: u64) -> u64 {
        time_stage("deep::descend", || {
            if level == 0 { time_stage("deep::leaf", || checksum(7)) } else { descend(level - 1) ^ level }
        })
    }
    let worker = std::thread::Builder::new().stack_size(256 << 20).spawn(|| descend(RECURSION_DEPTH)).unwrap();
    println!("result {}", worker.join().unwrap());
    profiler_report::dump();
    std::process::exit(0);
}

#[test]
fn deep_recursion_keeps_the_visual_formats_small() {
    const TEST: &str = "deep_recursion_keeps_the_visual_formats_small";
    support::run_program_if_child(CHILD, TEST, deep_program);
    let scratch = scratch(TEST);
    let json_path = scratch.0.join("deep.json");
    let formats = "json,folded,svg,speedscope,html";
    run_child(
        TEST,
        &scratch.0,
        &[("PROFILE", "1".as_ref()), ("PROFILE_FORMAT", formats.as_ref()), ("PROFILE_OUTPUT", json_path.as_os_str())],
    );

    // The JSON profile keeps every level.
    let profile = json(&json_path);
    assert_eq!(profile["tree"].as_array().unwrap().len() as u64, RECURSION_DEPTH + 2);
    // The folded stacks stop at the depth limit and keep every nanosecond and the leaf's name.
    let text = read(&scratch.0.join("deep.folded"));
    // Whole paths would be about 3,000² / 2 frames of 14 bytes: 63 MB.
    assert!(text.len() < 4 << 20, "{} bytes of folded stacks", text.len());
    let folded = parse_folded(&text).unwrap();
    let limit = profiler_report::folded::MAX_DEPTH;
    assert!(folded.iter().all(|s| s.frames.len() <= limit + 2));
    let leaf = folded.iter().find(|s| s.frames.last().unwrap() == "deep::leaf").unwrap();
    let below = RECURSION_DEPTH as usize + 2 - limit;
    assert_eq!(leaf.frames[limit], format!("[{below} deeper levels, flattened]"));
    let folded_ns: u64 = folded.iter().map(|s| s.self_ns).sum();
    let profiled_ns = profile["profiled_ns"].as_u64().unwrap();
    assert!(folded_ns.abs_diff(profiled_ns) <= RECURSION_DEPTH + 2, "{folded_ns} vs {profiled_ns}");
    // The other stack formats are built from the same lines.
    for name in ["deep.svg", "deep.speedscope.json", "deep.html"] {
        let size = fs::metadata(scratch.0.join(name)).unwrap().len();
        assert!(size < 16 << 20, "{name}: {size} bytes");
    }
    assert!(read(&scratch.0.join("deep.svg")).contains("deeper levels, flattened"));
}

#[test]
fn an_unknown_format_is_named_and_the_others_are_written() {
    const TEST: &str = "an_unknown_format_is_named_and_the_others_are_written";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let json_path = scratch.0.join("p.json");
    let output = run_child(
        TEST,
        &scratch.0,
        &[
            ("PROFILE", "1".as_ref()),
            ("PROFILE_FORMAT", "bogus,json".as_ref()),
            ("PROFILE_OUTPUT", json_path.as_os_str()),
        ],
    );
    let stderr = output.stderr;
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "no text report without `text`: {stderr}");
    assert!(
        lines[0].starts_with("profiler: PROFILE_FORMAT=\"bogus,json\"") && lines[0].contains("\"bogus\""),
        "{stderr}"
    );
    assert_eq!(lines[1], format!("profiler: wrote profile to {}", json_path.display()));
    assert_eq!(json(&json_path)["schema_version"], 2);
    assert!(json(&json_path).get("events").is_none(), "no events without PROFILE_TRACE");
    assert_eq!(scratch.entries(Path::new("")), ["p.json"]);
}

#[test]
fn profile_unset_writes_nothing_whatever_the_formats() {
    const TEST: &str = "profile_unset_writes_nothing_whatever_the_formats";
    run_program_if_child(TEST);
    let scratch = scratch(TEST);
    let output = run_child(
        TEST,
        &scratch.0,
        &[
            ("PROFILE_TRACE", "1".as_ref()),
            ("PROFILE_FORMAT", "text,json,folded,svg,chrome,speedscope,html".as_ref()),
            ("PROFILE_OUTPUT", scratch.0.join("p.json").as_os_str()),
        ],
    );
    assert_eq!(output.stderr, "");
    assert!(output.stdout.contains("result "));
    assert_eq!(scratch.entries(Path::new("")), Vec::<String>::new(), "nothing may be created");
}
