//! The event recorder (`PROFILE_TRACE`): every call as a timed event per thread, bounded by a
//! ring per thread. Its own test binary: tracing is chosen before the first recorded call.

use std::sync::Once;

use profiler_core::{Snapshot, time_stage};

static SETUP: Once = Once::new();

fn setup() {
    SETUP.call_once(|| {
        profiler_core::set_tracing(Some(64));
        profiler_core::set_enabled(true);
    });
}

fn stage_index(snapshot: &Snapshot, name: &str) -> usize {
    snapshot.stages.iter().position(|s| s.name == name).unwrap_or_else(|| panic!("{name} missing"))
}

#[test]
fn nested_calls_become_nested_events_and_a_full_ring_counts_its_drops() {
    setup();
    std::thread::spawn(|| {
        time_stage("tracing::outer", || {
            for _ in 0..3 {
                time_stage("tracing::inner", || std::hint::black_box(1 + 1));
            }
        });
        // Overflow the 64-event ring: 100 more calls.
        for _ in 0..100 {
            time_stage("tracing::filler", || {});
        }
    })
    .join()
    .unwrap();
    let snapshot = profiler_core::snapshot();
    let filler = stage_index(&snapshot, "tracing::filler");
    let thread = snapshot
        .events
        .iter()
        .find(|t| t.events.iter().any(|e| e.stage == filler))
        .expect("the exited thread's events are kept");
    assert_eq!(thread.events.len(), 64, "the ring keeps its capacity");
    assert_eq!(thread.dropped, 4 + 100 - 64, "outer, 3 inner and 100 fillers, 64 kept");
    assert!(snapshot.dropped_events >= thread.dropped);
    assert!(thread.events.iter().all(|e| e.stage == filler && e.depth == 1));
    assert!(thread.events.windows(2).all(|w| w[0].start_ns <= w[1].start_ns), "sorted by start");
}

#[test]
fn events_nest_in_time_and_carry_their_depth() {
    setup();
    std::thread::spawn(|| {
        time_stage("tracing::parent", || {
            time_stage("tracing::child", || std::thread::sleep(std::time::Duration::from_millis(2)));
        });
    })
    .join()
    .unwrap();
    let snapshot = profiler_core::snapshot();
    let (parent, child) = (stage_index(&snapshot, "tracing::parent"), stage_index(&snapshot, "tracing::child"));
    let thread = snapshot.events.iter().find(|t| t.events.iter().any(|e| e.stage == parent)).unwrap();
    assert_eq!(thread.dropped, 0);
    let [p, c] = thread.events[..] else { panic!("two events: {:?}", thread.events) };
    assert_eq!((p.stage, p.depth, c.stage, c.depth), (parent, 1, child, 2));
    assert!(c.duration_ns >= 2_000_000, "{c:?}");
    assert!(p.start_ns <= c.start_ns && c.start_ns + c.duration_ns <= p.start_ns + p.duration_ns, "{p:?} {c:?}");
    assert!(p.start_ns + p.duration_ns <= snapshot.wall_ns);
}

#[test]
fn the_calibration_a_snapshot_runs_leaves_no_thread_in_the_trace() {
    setup();
    time_stage("tracing::before_snapshots", || {});
    // Each of these measures the profiler's cost again on a short-lived thread whose 5,000
    // calls overflow its 64-event ring: neither the thread nor its drops may show.
    let _ = profiler_core::snapshot();
    let snapshot = profiler_core::snapshot();
    for thread in &snapshot.events {
        assert!(!thread.events.is_empty(), "a thread with no event in the trace: {thread:?}");
        assert!(thread.dropped < 5_000 - 64, "the calibration's drops: {thread:?}");
    }
}
