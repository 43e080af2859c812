//! A hand-built snapshot shared by the unit tests: consistent numbers, one stage per severity.

use std::time::{Duration, SystemTime};

use profiler_core::{
    CounterSnapshot, Event, Histogram, MemorySnapshot, Overhead, Segment, Snapshot, StageSnapshot, ThreadEvents,
    TreeNode,
};

use crate::ReportOptions;

fn histogram(values: &[(u64, u64)]) -> Histogram {
    let mut h = Histogram::default();
    for &(value, count) in values {
        h.record_n(value, count);
    }
    h
}

struct Spec {
    name: &'static str,
    calls: u64,
    total_ns: u64,
    self_ns: u64,
    busy_ns: u64,
    min_ns: u64,
    max_ns: u64,
    threads: u32,
    durations: &'static [(u64, u64)],
    /// Calls and summed durations of each segment, in time order.
    segments: &'static [(u64, u64)],
}

fn stage(spec: &Spec) -> StageSnapshot {
    let histogram = histogram(spec.durations);
    StageSnapshot {
        name: spec.name.to_owned(),
        calls: spec.calls,
        total_ns: spec.total_ns,
        self_ns: spec.self_ns,
        busy_ns: spec.busy_ns,
        is_async: spec.busy_ns > 0,
        sum_ns: spec.durations.iter().map(|&(v, c)| v * c).sum(),
        min_ns: spec.min_ns,
        max_ns: spec.max_ns,
        threads: spec.threads,
        histogram,
        segments: spec.segments.iter().map(|&(calls, sum_ns)| Segment { calls, sum_ns }).collect(),
    }
}

/// Options with everything that depends on the machine fixed: 4 cores, program `pipeline-demo`.
pub(crate) fn test_options() -> ReportOptions {
    ReportOptions { cores: Some(4), program: Some("pipeline-demo".to_owned()), ..ReportOptions::default() }
}

/// The segments of `calls` calls of `each_ns` on one thread.
fn even_segments(calls: u64, each_ns: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut k = 0;
    while (1u64 << k) <= calls {
        let n = (1u64 << (k + 1)).min(calls + 1) - (1 << k);
        out.push((n, n * each_ns));
        k += 1;
    }
    out
}

const SPECS: [Spec; 5] = [
    Spec {
        name: "main",
        calls: 1,
        total_ns: 820_000_000,
        self_ns: 400_000_000,
        busy_ns: 0,
        min_ns: 820_000_000,
        max_ns: 820_000_000,
        threads: 1,
        durations: &[(820_000_000, 1)],
        segments: &[(1, 820_000_000)],
    },
    Spec {
        name: "app::pipeline::parse_document",
        calls: 1000,
        total_ns: 300_000_000,
        self_ns: 150_000_000,
        busy_ns: 0,
        min_ns: 180_000,
        max_ns: 3_000_000,
        threads: 2,
        durations: &[(200_000, 900), (1_000_000, 90), (3_000_000, 10)],
        // Two threads of 500 calls: 200 µs early, about 353 µs late.
        segments: &[
            (2, 6_000_000),
            (4, 800_000),
            (8, 1_600_000),
            (16, 3_200_000),
            (32, 6_400_000),
            (64, 12_800_000),
            (128, 32_000_000),
            (256, 64_000_000),
            (490, 173_200_000),
        ],
    },
    Spec {
        name: "render",
        calls: 50,
        total_ns: 150_000_000,
        self_ns: 150_000_000,
        busy_ns: 0,
        min_ns: 2_900_000,
        max_ns: 3_100_000,
        threads: 2,
        durations: &[(3_000_000, 50)],
        // Two threads of 25 calls, all alike.
        segments: &[(2, 6_000_000), (4, 12_000_000), (8, 24_000_000), (16, 48_000_000), (20, 60_000_000)],
    },
    Spec {
        name: "app::net::fetch",
        calls: 20,
        total_ns: 200_000_000,
        self_ns: 119_999_100,
        busy_ns: 120_000_000,
        min_ns: 8_000_000,
        max_ns: 12_000_000,
        threads: 1,
        durations: &[(8_000_000, 10), (12_000_000, 10)],
        segments: &[],
    },
    Spec {
        name: "tiny",
        calls: 3,
        total_ns: 900,
        self_ns: 900,
        busy_ns: 0,
        min_ns: 200,
        max_ns: 400,
        threads: 1,
        durations: &[(200, 1), (300, 1), (400, 1)],
        segments: &[(1, 200), (2, 700)],
    },
];

/// Created 2026-11-21T17:19:00Z, wall 0.9 s, 2 threads, profiled time 820 ms, the profiler
/// calibrated at 25 ns per call (9 ns of it inside the stage):
///
/// ```text
/// main                              820 ms   self 400 ms   critical (100 %)
/// ├─ app::pipeline::parse_document  300 ms   self 150 ms   high (36.6 %), slower late calls
/// │  └─ render                      150 ms   self 150 ms   medium (18.3 %)
/// └─ app::net::fetch (async)        200 ms wall, busy 120 ms   medium (14.6 %), 10 ms a call
///    └─ tiny                        900 ns                 low
/// ```
///
/// The other formats' golden files are built from it: change its numbers only with theirs.
pub(crate) fn synthetic_snapshot() -> Snapshot {
    let node = |stage: usize, parent: Option<usize>, s: &StageSnapshot| TreeNode {
        stage,
        parent,
        calls: s.calls,
        total_ns: s.total_ns,
        self_ns: s.self_ns,
        busy_ns: s.busy_ns,
    };
    let stages: Vec<StageSnapshot> = SPECS.iter().map(stage).collect();
    let tree = vec![
        node(0, None, &stages[0]),
        node(1, Some(0), &stages[1]),
        node(2, Some(1), &stages[2]),
        node(3, Some(0), &stages[3]),
        node(4, Some(3), &stages[4]),
    ];
    Snapshot {
        created_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_281_540),
        wall_ns: 900_000_000,
        // Above the 820ms inside stages: no waiting can be deduced.
        cpu_ns: Some(850_000_000),
        threads: 2,
        stages,
        tree,
        counters: vec![
            CounterSnapshot { name: "bytes_read".to_owned(), value: 1_048_576 },
            CounterSnapshot { name: "documents".to_owned(), value: 1000 },
        ],
        memory: vec![MemorySnapshot {
            name: "cache".to_owned(),
            samples: 4,
            last_bytes: 2 << 20,
            min_bytes: 1 << 20,
            peak_bytes: 3 << 20,
            sum_bytes: 8 << 20,
        }],
        overhead: Overhead { per_call_ns: 25.0, in_stage_ns: 9.0 },
        clock: "tsc".to_owned(),
        events: Vec::new(),
        dropped_events: 0,
    }
}

/// [`synthetic_snapshot`] with `tiny` called 200,000 times at 45 ns (9 ms in all, taken from
/// `app::net::fetch`'s self time), so that every analysis rule fires: the dominant stages
/// (`main`, `app::pipeline::parse_document`), a degrading trend and high variance
/// (`app::pipeline::parse_document`), a stage critical by statistics (`app::net::fetch`,
/// whose 10 ms mean is above the 95th percentile of stage means) and a cheap, hot and
/// unreliable stage (`tiny`).
pub(crate) fn full_snapshot() -> Snapshot {
    let mut snapshot = synthetic_snapshot();
    let tiny = stage(&Spec {
        name: "tiny",
        calls: 200_000,
        total_ns: 9_000_000,
        self_ns: 9_000_000,
        busy_ns: 0,
        min_ns: 40,
        max_ns: 50,
        threads: 1,
        durations: &[(40, 50_000), (45, 100_000), (50, 50_000)],
        segments: &[],
    });
    snapshot.stages[4] = StageSnapshot {
        segments: even_segments(200_000, 45).into_iter().map(|(calls, sum_ns)| Segment { calls, sum_ns }).collect(),
        ..tiny
    };
    snapshot.stages[3].self_ns = 111_000_000;
    snapshot.tree[3].self_ns = 111_000_000;
    snapshot.tree[4] = TreeNode { calls: 200_000, total_ns: 9_000_000, self_ns: 9_000_000, ..snapshot.tree[4].clone() };
    snapshot
}

/// [`synthetic_snapshot`] with a short timeline on two threads, as a traced run
/// (`PROFILE_TRACE=1`) records it: thread 1 calls `main` { `app::pipeline::parse_document` {
/// `render` } }, thread 2 one `app::pipeline::parse_document` and dropped 7 older events.
/// Stage indices are the snapshot's: 0 main, 1 parse_document, 2 render.
pub(crate) fn traced_snapshot() -> Snapshot {
    let mut snapshot = synthetic_snapshot();
    let event = |stage, start_ns, duration_ns, depth| Event { stage, start_ns, duration_ns, depth };
    snapshot.events = vec![
        ThreadEvents {
            thread: 1,
            dropped: 0,
            events: vec![event(0, 1_000, 900_000, 1), event(1, 2_500, 300_250, 2), event(2, 3_000, 150_000, 3)],
        },
        ThreadEvents { thread: 2, dropped: 7, events: vec![event(1, 5_000, 1_234, 1)] },
    ];
    snapshot.dropped_events = 7;
    snapshot
}
