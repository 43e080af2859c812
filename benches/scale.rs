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

    let start = Instant::now();
    let text = profiler_report::render_text(&snapshot);
    let json = profiler_report::render_json(&snapshot);
    let report_time = start.elapsed();

    println!("{STAGES} stages, one call each:");
    row("register (first call of each)", register, Duration::from_millis(50));
    row("snapshot()", snapshot_time, Duration::from_millis(100));
    row("text + JSON report", report_time, Duration::from_millis(100));
    row("snapshot + report", snapshot_time + report_time, Duration::from_millis(100));
    println!("text report {} KiB, JSON {} KiB", text.len() / 1024, json.len() / 1024);
}

fn row(what: &str, took: Duration, target: Duration) {
    let verdict = if took <= target { "ok" } else { "OVER TARGET" };
    println!("  {what:<32} {:>9.2} ms  (target {} ms: {verdict})", took.as_secs_f64() * 1e3, target.as_millis());
}
