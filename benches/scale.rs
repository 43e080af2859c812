//! Costs that grow with the number of stages, measured once each (they happen once per
//! process): registering 10,000 distinct stages, then `snapshot()` and the report of all of
//! them. `cargo bench --bench scale`; targets: registration under 50 ms, snapshot plus report
//! under 100 ms.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

const STAGES: usize = 10_000;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: both just run.
    profiler_core::set_enabled(true);
    profiler_core::time_stage("warm-up", || {}); // registers this thread and calibrates
    std::thread::sleep(Duration::from_millis(20)); // past the clock's first calibration wait
    let names: Vec<String> = (0..STAGES).map(|i| format!("scale::module_{}::stage_{i}", i % 97)).collect();

    let start = Instant::now();
    for name in &names {
        drop(profiler_core::start_stage(name));
    }
    let register = start.elapsed();

    let start = Instant::now();
    let snapshot = profiler_core::snapshot();
    let snapshot_time = start.elapsed();
    assert_eq!(snapshot.stages.len(), STAGES + 1, "every stage recorded");

    // What `dump()` does after its snapshot, minus printing to stderr: analyse, render the
    // text report, write the JSON profile to disk.
    let path = std::env::temp_dir().join(format!("profiler-scale-bench-{}.json", std::process::id()));
    let start = Instant::now();
    let options = profiler_report::ReportOptions::default();
    let analysis = profiler_report::analyze(&snapshot, &options);
    let analysis_time = start.elapsed();
    let text = profiler_report::render_report(&snapshot, &analysis, &options, false);
    let text_done = start.elapsed();
    profiler_report::save_json(&snapshot, &analysis, &options, &path).expect("profile written");
    let report_time = start.elapsed();
    let text_time = text_done.saturating_sub(analysis_time);
    let json_time = report_time.saturating_sub(text_done);
    let json_bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let _ = std::fs::remove_file(&path);

    println!("{STAGES} stages, one call each:");
    row("register (first call of each)", register, Duration::from_millis(50));
    row("snapshot()", snapshot_time, Duration::from_millis(100));
    println!(
        "  (analysis {:.1} ms, text {:.1} ms, JSON file {:.1} ms)",
        analysis_time.as_secs_f64() * 1e3,
        text_time.as_secs_f64() * 1e3,
        json_time.as_secs_f64() * 1e3
    );
    row("analysis, text, JSON file", report_time, Duration::from_millis(100));
    row("snapshot + report (dump)", snapshot_time + report_time, Duration::from_millis(100));
    println!("text report {} KiB, JSON file {} KiB", text.len() / 1024, json_bytes / 1024);
}

fn row(what: &str, took: Duration, target: Duration) {
    let verdict = if took <= target { "ok" } else { "OVER TARGET" };
    println!("  {what:<32} {:>9.2} ms  (target {} ms: {verdict})", took.as_secs_f64() * 1e3, target.as_millis());
}
