//! What the registry records, through the public API a user calls: times, nesting, recursion,
//! threads, panics, counters and memory records.
//!
//! Every test uses its own stage names: tests run in parallel on the one global registry.

use std::thread;
use std::time::{Duration, Instant};

use profiler_core::{Snapshot, StageSnapshot, snapshot, start_stage, time_stage};

fn enabled() {
    profiler_core::set_enabled(true);
}

fn stage(snapshot: &Snapshot, name: &str) -> StageSnapshot {
    snapshot.stage(name).unwrap_or_else(|| panic!("stage {name} missing")).clone()
}

const MS: u64 = 1_000_000;

#[test]
fn sleeps_of_known_length_are_measured() {
    enabled();
    for _ in 0..3 {
        time_stage("recording::sleep_20ms", || thread::sleep(Duration::from_millis(20)));
    }
    let s = stage(&snapshot(), "recording::sleep_20ms");
    assert_eq!(s.calls, 3);
    // A sleep never returns early; generous upper bound for a loaded machine.
    assert!(s.min_ns >= 20 * MS, "min {}", s.min_ns);
    assert!(s.total_ns >= 60 * MS && s.total_ns < 600 * MS, "total {}", s.total_ns);
    assert_eq!(s.total_ns, s.sum_ns);
    assert!(s.percentile_ns(0.5) >= 20 * MS && s.percentile_ns(0.99) <= s.max_ns);
    assert_eq!(s.threads, 1);
}

#[test]
fn nested_stages_split_self_from_total() {
    enabled();
    let outer = start_stage("recording::outer");
    thread::sleep(Duration::from_millis(10));
    time_stage("recording::inner", || thread::sleep(Duration::from_millis(30)));
    drop(outer);
    let snap = snapshot();
    let (outer, inner) = (stage(&snap, "recording::outer"), stage(&snap, "recording::inner"));
    assert!(outer.total_ns >= inner.total_ns + 10 * MS);
    // Each figure is converted from clock ticks and rounded once: allow 1 ns per figure.
    assert!(outer.self_ns.abs_diff(outer.total_ns - inner.total_ns) <= 2, "self = total - instrumented callees");
    assert_eq!(inner.self_ns, inner.total_ns);
    let edges = snap.edges();
    let outer_index = snap.stages.iter().position(|s| s.name == "recording::outer").unwrap();
    let inner_index = snap.stages.iter().position(|s| s.name == "recording::inner").unwrap();
    let edge = edges.iter().find(|e| e.child == inner_index).expect("edge to inner");
    assert_eq!(edge.parent, Some(outer_index));
    assert_eq!((edge.calls, edge.total_ns), (1, inner.total_ns));
}

fn recurse(depth: u32) -> u64 {
    let _stage = start_stage("recording::recurse");
    if depth == 0 { 1 } else { recurse(depth - 1) + recurse(depth - 1) }
}

#[test]
fn recursion_counts_every_call_and_never_inflates_total() {
    enabled();
    let wall = Instant::now();
    assert_eq!(recurse(10), 1024);
    let wall = wall.elapsed().as_nanos() as u64;
    let s = stage(&snapshot(), "recording::recurse");
    assert_eq!(s.calls, 2047, "2^11 - 1 calls");
    assert!(s.total_ns <= wall, "total {} must not exceed wall {wall}", s.total_ns);
    assert!(s.self_ns <= s.total_ns);
    assert!(s.sum_ns > s.total_ns, "the sum of every call's duration does count nested calls");
}

#[test]
fn threads_are_counted_exactly_including_hundreds_of_short_lived_ones() {
    enabled();
    let handles: Vec<_> = (0..300)
        .map(|i| {
            thread::spawn(move || {
                for _ in 0..=(i % 3) {
                    time_stage("recording::short_lived", || std::hint::black_box(i));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let s = stage(&snapshot(), "recording::short_lived");
    // Thread i makes (i % 3) + 1 calls: 100 threads each make 1, 2 and 3 calls.
    assert_eq!(s.calls, 600);
    assert_eq!(s.threads, 300);
}

#[test]
fn live_threads_are_merged_while_they_keep_running() {
    enabled();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        for _ in 0..50 {
            time_stage("recording::live_worker", || ());
        }
        ready_tx.send(()).unwrap();
        stop_rx.recv().unwrap();
    });
    ready_rx.recv().unwrap();
    assert_eq!(stage(&snapshot(), "recording::live_worker").calls, 50);
    stop_tx.send(()).unwrap();
    worker.join().unwrap();
    assert_eq!(stage(&snapshot(), "recording::live_worker").calls, 50, "retiring loses nothing");
}

#[test]
fn a_panicking_call_is_recorded_and_nesting_survives_unwinding() {
    enabled();
    let outer = start_stage("recording::panic_outer");
    let result = std::panic::catch_unwind(|| {
        time_stage("recording::panics", || panic!("boom"));
    });
    assert!(result.is_err());
    time_stage("recording::after_panic", || ());
    drop(outer);
    let snap = snapshot();
    assert_eq!(stage(&snap, "recording::panics").calls, 1);
    let outer_index = snap.stages.iter().position(|s| s.name == "recording::panic_outer").unwrap();
    for name in ["recording::panics", "recording::after_panic"] {
        let index = snap.stages.iter().position(|s| s.name == name).unwrap();
        let edge = snap.edges().into_iter().find(|e| e.child == index).unwrap();
        assert_eq!(edge.parent, Some(outer_index), "{name} is a child of the outer stage");
    }
}

#[test]
fn guards_dropped_out_of_order_keep_the_stack_consistent() {
    enabled();
    let a = start_stage("recording::order_a");
    let b = start_stage("recording::order_b");
    drop(a); // closes a, discarding b's frame
    drop(b); // b's frame is gone: not recorded, no corruption
    time_stage("recording::order_after", || ());
    let snap = snapshot();
    assert_eq!(stage(&snap, "recording::order_a").calls, 1);
    let after = snap.stages.iter().position(|s| s.name == "recording::order_after").unwrap();
    let edge = snap.edges().into_iter().find(|e| e.child == after).unwrap();
    assert_eq!(edge.parent, None, "the stack is empty again after both guards");
}

#[test]
fn end_returns_the_measured_duration() {
    enabled();
    let guard = start_stage("recording::end");
    assert!(guard.is_recording());
    thread::sleep(Duration::from_millis(5));
    let took = guard.end();
    assert!(took >= Duration::from_millis(5) && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(stage(&snapshot(), "recording::end").calls, 1);
}

#[test]
fn counters_and_memory_records_accumulate() {
    enabled();
    profiler_core::increment_counter("recording::items", 3);
    profiler_core::increment_counter("recording::items", 4);
    for bytes in [100, 300, 200] {
        profiler_core::record_memory("recording::buffer", bytes);
    }
    let snap = snapshot();
    let items = snap.counters.iter().find(|c| c.name == "recording::items").unwrap();
    assert_eq!(items.value, 7);
    let buffer = snap.memory.iter().find(|m| m.name == "recording::buffer").unwrap();
    assert_eq!(
        (buffer.samples, buffer.last_bytes, buffer.min_bytes, buffer.peak_bytes, buffer.sum_bytes),
        (3, 200, 100, 300, 600)
    );
}

#[test]
fn self_time_of_one_thread_never_exceeds_its_wall_time() {
    enabled();
    let wall = Instant::now();
    thread::spawn(|| {
        let _a = start_stage("recording::wall_a");
        for _ in 0..100 {
            let _b = start_stage("recording::wall_b");
            time_stage("recording::wall_c", || std::hint::black_box(0));
        }
    })
    .join()
    .unwrap();
    let wall = wall.elapsed().as_nanos() as u64;
    let snap = snapshot();
    let self_sum: u64 =
        ["recording::wall_a", "recording::wall_b", "recording::wall_c"].iter().map(|n| stage(&snap, n).self_ns).sum();
    assert!(self_sum <= wall, "{self_sum} > {wall}");
    let root_total = stage(&snap, "recording::wall_a").total_ns;
    assert!(self_sum.abs_diff(root_total) <= 3, "self times partition the root's time: {self_sum} vs {root_total}");
}

#[test]
fn a_stage_with_many_callees_records_each_of_them() {
    enabled();
    // More callees than the hot path scans before it consults the thread's index of paths.
    let names: Vec<String> = (0..50).map(|i| format!("recording::fan_out::callee_{i}")).collect();
    for round in 0..3 {
        let _parent = start_stage("recording::fan_out");
        for name in names.iter().cycle().skip(round * 7).take(names.len()) {
            time_stage(name, || {});
        }
    }
    let snapshot = snapshot();
    let parent = snapshot.stages.iter().position(|s| s.name == "recording::fan_out").unwrap();
    for name in &names {
        assert_eq!(stage(&snapshot, name).calls, 3, "{name}");
        let child = snapshot.stages.iter().position(|s| &s.name == name).unwrap();
        let paths = snapshot.tree.iter().filter(|n| n.stage == child).count();
        assert_eq!(paths, 1, "{name} has one path, under its caller");
        let edge = snapshot.edges().into_iter().find(|e| e.child == child).unwrap();
        assert_eq!((edge.parent, edge.calls), (Some(parent), 3), "{name}");
    }
}

/// Snapshots taken while two threads record read each counter at a slightly different moment;
/// they must still be consistent profiles: calls matching the histogram, no self time above a
/// total, and a JSON profile the report's loader accepts.
#[test]
fn snapshots_taken_while_threads_record_are_consistent_profiles() {
    enabled();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    time_stage("recording::hammered", || time_stage("recording::hammered_leaf", || ()));
                }
            })
        })
        .collect();
    while snapshot().stage("recording::hammered_leaf").is_none_or(|s| s.calls < 10_000) {
        thread::yield_now();
    }
    for _ in 0..30 {
        let snap = snapshot();
        for stage in &snap.stages {
            assert_eq!(stage.calls, stage.histogram.count(), "{}", stage.name);
        }
        for node in snap.tree.iter().filter(|n| !snap.stages[n.stage].is_async) {
            assert!(node.self_ns <= node.total_ns, "{node:?}");
        }
        let json = profiler_report::render_json(&snap);
        if let Err(error) = profiler_report::parse_profile(&json) {
            panic!("a live snapshot's profile does not load: {error}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
}

/// Snapshots carry the process's CPU time, which grows with work done (other tests of this
/// binary only add to it).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple"))]
#[test]
fn snapshots_carry_the_processs_cpu_time() {
    enabled();
    let before = snapshot().cpu_ns.expect("known on this system");
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(30) {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    let after = snapshot().cpu_ns.expect("known on this system");
    assert!(after >= before + 20_000_000, "30ms of computing: {before} then {after}");
}
