//! A hand-built snapshot shared by the unit tests: consistent numbers, one stage per severity.

use std::time::{Duration, SystemTime};

use profiler_core::{CounterSnapshot, Histogram, MemorySnapshot, Overhead, Snapshot, StageSnapshot, TreeNode};

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
        segments: Vec::new(),
    }
}

/// Created 2026-11-21T17:19:00Z, wall 0.9 s, 2 threads, profiled time 820 ms:
///
/// ```text
/// main                              820 ms   self 400 ms   critical (100 %)
/// ├─ app::pipeline::parse_document  300 ms   self 150 ms   high (36.6 %)
/// │  └─ render                      150 ms   self 150 ms   medium (18.3 %)
/// └─ app::net::fetch (async)        200 ms wall, busy 120 ms   medium (14.6 %)
///    └─ tiny                        900 ns                 low
/// ```
pub(crate) fn synthetic_snapshot() -> Snapshot {
    let specs = [
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
        },
    ];
    let node = |stage: usize, parent: Option<usize>, s: &StageSnapshot| TreeNode {
        stage,
        parent,
        calls: s.calls,
        total_ns: s.total_ns,
        self_ns: s.self_ns,
        busy_ns: s.busy_ns,
    };
    let stages: Vec<StageSnapshot> = specs.iter().map(stage).collect();
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
        events: Vec::new(),
        dropped_events: 0,
    }
}
