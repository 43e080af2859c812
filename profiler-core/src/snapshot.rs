//! A point-in-time copy of everything the registry recorded, merged over all threads.
//!
//! All times are nanoseconds. See the crate documentation for the exact meaning of each field.

use std::time::SystemTime;

use crate::histogram::Histogram;

/// Everything recorded since start-up (or the last [`reset`](crate::reset)), merged over threads.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// When the snapshot was taken.
    pub created_at: SystemTime,
    /// Wall time from the profiler's first use (see [`init`](crate::init)) to this snapshot.
    pub wall_ns: u64,
    /// Number of threads that recorded at least one call.
    pub threads: u32,
    /// CPU time the whole process had used when the snapshot was taken (all threads, user and
    /// system, from the process's start), where the system tells. Time inside stages beyond it
    /// cannot have been spent computing: it was spent waiting (I/O, locks, sleeps).
    pub cpu_ns: Option<u64>,
    /// One entry per stage that was called, in order of first appearance in the call tree.
    pub stages: Vec<StageSnapshot>,
    /// The call tree merged over threads: one node per distinct path of stages from a root.
    /// A node's parent comes before it; roots have no parent.
    pub tree: Vec<TreeNode>,
    /// Counters from [`increment_counter`](crate::increment_counter), sorted by name.
    pub counters: Vec<CounterSnapshot>,
    /// Memory records from [`record_memory`](crate::record_memory), sorted by name.
    pub memory: Vec<MemorySnapshot>,
    /// The profiler's own cost per call, as calibrated so far.
    pub overhead: Overhead,
    /// The clock that timed the calls ([`clock_name`](crate::clock_name)): `tsc`, `tsc-fast`,
    /// `cntvct`, `cntvct-fast` or `instant`; `mixed` for a merge of profiles timed differently.
    pub clock: String,
    /// Every call as a timed event, per thread: only when tracing is on (`PROFILE_TRACE=1`,
    /// see [`set_tracing`](crate::set_tracing)); empty otherwise.
    pub events: Vec<ThreadEvents>,
    /// Events lost to the bounds: overwritten in full rings plus those of exited threads
    /// dropped to bound memory (the per-thread part is also in [`ThreadEvents::dropped`]).
    pub dropped_events: u64,
}

/// The events one thread kept, by start time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadEvents {
    /// The thread's number in this process (1 for the first thread that recorded).
    pub thread: u32,
    /// Oldest events of this thread overwritten because its ring was full.
    pub dropped: u64,
    /// The events kept, by start time.
    pub events: Vec<Event>,
}

/// One call (or, for an `async` stage, one poll) on one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Index into [`Snapshot::stages`].
    pub stage: usize,
    /// Start, in nanoseconds since the profiler's start (see [`Snapshot::wall_ns`]).
    pub start_ns: u64,
    /// Duration in nanoseconds.
    pub duration_ns: u64,
    /// Nesting depth on its thread: 1 for a call made outside any stage.
    pub depth: u32,
}

/// What one instrumented call costs: an empty stage called in a loop, on the first thread that
/// records, before its first call, and again at each of the first seven snapshots on a
/// short-lived thread; the lowest result so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overhead {
    /// What the calling code pays per instrumented call (entry, exit, both clock reads): the
    /// time each call to a child adds to its parent's total time (to its self time: this less
    /// `in_stage_ns`, which is in the child's own time). 0 when not calibrated.
    pub per_call_ns: f64,
    /// The part of `per_call_ns` that falls between the two clock reads, and so inside the
    /// stage's own measured duration: what an empty stage reports as its mean. Subtracting it
    /// from a stage's mean and self time compensates for the profiler's presence.
    pub in_stage_ns: f64,
}

/// A run of consecutive calls, for trends: see [`StageSnapshot::segments`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Calls in the segment.
    pub calls: u64,
    /// Sum of their durations.
    pub sum_ns: u64,
}

/// Statistics of one stage (all call sites sharing one name), merged over threads.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSnapshot {
    /// The stage name.
    pub name: String,
    /// Every invocation, recursive ones included. For `async` stages: every completed call.
    pub calls: u64,
    /// Inclusive time: entry to exit of the calls that were not made while the same stage was
    /// already active on the same thread (cProfile's cumulative time; recursion never inflates it).
    /// For `async` stages: wall time from first poll to completion.
    pub total_ns: u64,
    /// Exclusive time: time inside the stage minus time inside instrumented callees.
    /// For `async` stages this counts only time inside polls.
    pub self_ns: u64,
    /// `async` stages only (0 otherwise): time spent inside `poll`, callees included.
    pub busy_ns: u64,
    /// Whether the stage is an instrumented future (`async fn`).
    pub is_async: bool,
    /// Sum of the duration of every call, recursive ones included: `sum_ns / calls` is the mean.
    pub sum_ns: u64,
    /// Shortest call (exact).
    pub min_ns: u64,
    /// Longest call (exact).
    pub max_ns: u64,
    /// Number of threads that called the stage.
    pub threads: u32,
    /// Distribution of call durations (every call, recursive ones included).
    pub histogram: Histogram,
    /// The calls in the order they were made, in segments of doubling length: on each thread
    /// and path, segment `k` holds calls number `2^k` to `2^(k+1) - 1` (counting from 1), and
    /// segments of the same `k` are summed over threads and paths. The first segments are the
    /// earliest calls, the last one the latest; memory is bounded (at most 48 segments).
    /// For `async` stages the calls are the completions and the durations their wall times.
    pub segments: Vec<Segment>,
}

impl StageSnapshot {
    /// Mean duration of one call (exact).
    #[must_use]
    pub fn mean_ns(&self) -> f64 {
        if self.calls == 0 { 0.0 } else { self.sum_ns as f64 / self.calls as f64 }
    }

    /// Standard deviation of call durations, from the histogram.
    #[must_use]
    pub fn stdev_ns(&self) -> f64 {
        self.histogram.stdev()
    }

    /// Nearest-rank percentile `q` in `[0, 1]` of call durations, within 2 % of the exact value
    /// and clamped to the exact `[min_ns, max_ns]`.
    #[must_use]
    pub fn percentile_ns(&self, q: f64) -> u64 {
        if self.histogram.is_empty() {
            return 0;
        }
        self.histogram.quantile(q).clamp(self.min_ns, self.max_ns)
    }

    /// The time that measures this stage's weight in the program: inclusive time for ordinary
    /// stages, busy time for `async` ones (their wall time includes waiting).
    #[must_use]
    pub fn impact_ns(&self) -> u64 {
        if self.is_async { self.busy_ns } else { self.total_ns }
    }
}

/// One node of the merged call tree: a stage reached through one particular path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeNode {
    /// Index into [`Snapshot::stages`].
    pub stage: usize,
    /// Index into [`Snapshot::tree`] of the caller node; `None` for a root.
    pub parent: Option<usize>,
    /// Calls made through this path.
    pub calls: u64,
    /// Sum of the durations of those calls (wall time for `async` stages).
    pub total_ns: u64,
    /// Exclusive time of those calls.
    pub self_ns: u64,
    /// Time inside polls (`async` stages only).
    pub busy_ns: u64,
}

/// A caller → callee relation between stages, summed over all paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Index into [`Snapshot::stages`] of the caller; `None` when called from outside any stage.
    pub parent: Option<usize>,
    /// Index into [`Snapshot::stages`] of the callee.
    pub child: usize,
    /// Calls from the parent to the child.
    pub calls: u64,
    /// Inclusive time of those calls, counting only calls not made while the child stage was
    /// already active (so recursive edges have calls but no time, as in `total_ns`).
    pub total_ns: u64,
}

/// A named counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Counter name.
    pub name: String,
    /// Sum of all increments.
    pub value: u64,
}

/// A named memory record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemorySnapshot {
    /// Record name.
    pub name: String,
    /// Number of samples.
    pub samples: u64,
    /// Most recent value, in bytes.
    pub last_bytes: u64,
    /// Smallest value, in bytes.
    pub min_bytes: u64,
    /// Largest value, in bytes.
    pub peak_bytes: u64,
    /// Sum of all values (for the mean), in bytes.
    pub sum_bytes: u128,
}

impl Snapshot {
    /// A snapshot of nothing, taken now.
    pub(crate) fn empty() -> Self {
        Snapshot {
            created_at: SystemTime::now(),
            wall_ns: 0,
            threads: 0,
            cpu_ns: None,
            stages: Vec::new(),
            tree: Vec::new(),
            counters: Vec::new(),
            memory: Vec::new(),
            overhead: Overhead::default(),
            clock: crate::clock_name().to_owned(),
            events: Vec::new(),
            dropped_events: 0,
        }
    }

    /// Caller → callee edges derived from the call tree, sorted by (parent, child).
    #[must_use]
    pub fn edges(&self) -> Vec<Edge> {
        let mut edges: std::collections::BTreeMap<(Option<usize>, usize), Edge> = std::collections::BTreeMap::new();
        let recursive = self.recursive_nodes();
        for (index, node) in self.tree.iter().enumerate() {
            let parent = node.parent.map(|p| self.tree[p].stage);
            let edge =
                edges.entry((parent, node.stage)).or_insert(Edge { parent, child: node.stage, calls: 0, total_ns: 0 });
            // Saturating, as `profiled_ns`: a profile read back from a file can hold any u64.
            edge.calls = edge.calls.saturating_add(node.calls);
            if !recursive[index] {
                edge.total_ns = edge.total_ns.saturating_add(node.total_ns);
            }
        }
        edges.into_values().collect()
    }

    /// Time spent inside instrumented stages, summed over threads: the sum of every stage's
    /// self time (for `async` stages, their self time inside polls). Shares of "profiled time"
    /// in reports are fractions of this number.
    ///
    /// Saturates at `u64::MAX` (584 years), which only a damaged or hand-made profile reaches.
    #[must_use]
    pub fn profiled_ns(&self) -> u64 {
        self.stages.iter().map(|s| s.self_ns).fold(0, u64::saturating_add)
    }

    /// Looks a stage up by name.
    #[must_use]
    pub fn stage(&self, name: &str) -> Option<&StageSnapshot> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// For each node of [`Snapshot::tree`], whether it is a recursive call: see
    /// [`recursive_nodes`].
    #[must_use]
    pub fn recursive_nodes(&self) -> Vec<bool> {
        recursive_nodes(&self.tree)
    }
}

/// For each node of a call tree, whether a strict ancestor belongs to the same stage: a
/// recursive call, whose time its outermost call already counts. One depth-first walk counting
/// the stages on the current path, so it is linear in the size of the tree however deep it is.
/// A node whose parent does not come before it is treated as a root.
#[must_use]
pub fn recursive_nodes(tree: &[TreeNode]) -> Vec<bool> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); tree.len()];
    let mut roots = Vec::new();
    for (index, node) in tree.iter().enumerate() {
        match node.parent {
            Some(parent) if parent < index => children[parent].push(index),
            _ => roots.push(index),
        }
    }
    let stages = tree.iter().map(|n| n.stage + 1).max().unwrap_or(0);
    let mut recursive = vec![false; tree.len()];
    let mut active = vec![0u32; stages];
    // (node, entering): a node is pushed twice, to enter it and to leave it.
    let mut stack: Vec<(usize, bool)> = roots.into_iter().rev().map(|r| (r, true)).collect();
    while let Some((index, entering)) = stack.pop() {
        let count = &mut active[tree[index].stage];
        if entering {
            recursive[index] = *count > 0;
            *count += 1;
            stack.push((index, false));
            stack.extend(children[index].iter().rev().map(|&c| (c, true)));
        } else {
            *count -= 1;
        }
    }
    recursive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str) -> StageSnapshot {
        StageSnapshot {
            name: name.to_owned(),
            calls: 0,
            total_ns: 0,
            self_ns: 0,
            busy_ns: 0,
            is_async: false,
            sum_ns: 0,
            min_ns: 0,
            max_ns: 0,
            threads: 1,
            histogram: Histogram::default(),
            segments: Vec::new(),
        }
    }

    fn snapshot(stages: usize, tree: Vec<TreeNode>) -> Snapshot {
        Snapshot {
            created_at: SystemTime::UNIX_EPOCH,
            wall_ns: 0,
            threads: 1,
            cpu_ns: None,
            stages: (0..stages).map(|i| stage(&format!("s{i}"))).collect(),
            tree,
            counters: Vec::new(),
            memory: Vec::new(),
            overhead: Overhead::default(),
            clock: "tsc".to_owned(),
            events: Vec::new(),
            dropped_events: 0,
        }
    }

    fn node(stage: usize, parent: Option<usize>) -> TreeNode {
        TreeNode { stage, parent, calls: 1, total_ns: 10, self_ns: 0, busy_ns: 0 }
    }

    #[test]
    fn sums_of_times_near_u64_max_saturate() {
        let huge = TreeNode { calls: u64::MAX, total_ns: u64::MAX, ..node(1, Some(0)) };
        let mut s = snapshot(2, vec![node(0, None), huge.clone(), huge]);
        s.stages[0].self_ns = u64::MAX;
        s.stages[1].self_ns = 1;
        assert_eq!(s.profiled_ns(), u64::MAX);
        let edge = &s.edges()[1];
        assert_eq!((edge.parent, edge.child, edge.calls, edge.total_ns), (Some(0), 1, u64::MAX, u64::MAX));
    }

    #[test]
    fn recursion_is_found_on_the_path_only() {
        // 0:a ─ 1:b ─ 2:a (recursive) ; 0:a ─ 3:c ; 4:b (a root: not recursive)
        let s = snapshot(3, vec![node(0, None), node(1, Some(0)), node(0, Some(1)), node(2, Some(0)), node(1, None)]);
        assert_eq!(s.recursive_nodes(), [false, false, true, false, false]);
        let edges = s.edges();
        let a_from_b = edges.iter().find(|e| e.parent == Some(1) && e.child == 0).unwrap();
        assert_eq!((a_from_b.calls, a_from_b.total_ns), (1, 0), "a recursive edge has calls but no time");
    }

    #[test]
    fn a_very_deep_chain_is_walked_in_linear_time() {
        let depth = 200_000;
        let tree: Vec<TreeNode> = (0..depth).map(|i| node(i % 2, i.checked_sub(1))).collect();
        let s = snapshot(2, tree);
        let recursive = s.recursive_nodes();
        assert!(!recursive[0] && !recursive[1] && recursive[2..].iter().all(|&r| r));
        assert_eq!(s.edges().len(), 3); // root → s0, s0 → s1, s1 → s0
    }
}
