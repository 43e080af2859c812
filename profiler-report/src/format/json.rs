//! The JSON profile: a serde model of schema version [`SCHEMA_VERSION`].
//!
//! Every field is documented, with an example, in `docs/json-schema.md` at the workspace
//! root. The model both serializes and deserializes, and a profile carries everything the
//! analysis needs (histograms in their compact, exactly mergeable form, segments in time order,
//! the call tree, the calibrated overhead), so [`Profile::to_snapshot`] rebuilds the
//! [`Snapshot`] and a saved profile can be analysed, re-rendered and merged later.

use std::collections::HashMap;
use std::io;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use profiler_core::{CounterSnapshot, MemorySnapshot, Segment, Snapshot, StageSnapshot};

use crate::analysis::{Analysis, Part, StageAnalysis, analyze};
use crate::options::ReportOptions;
use crate::output;
use crate::overhead::OverheadReport;
use crate::recommend::Recommendation;
use crate::severity::Severity;
use crate::trend::Trend;
use crate::units::printable;

/// The version written in `schema_version`. A change that removes or redefines a field bumps it.
pub const SCHEMA_VERSION: u32 = 2;

/// The largest profiler cost per call a profile is read with (`overhead.per_call_ns`,
/// `overhead.in_stage_ns`).
const MAX_COST_NS: f64 = 1e9;

/// A whole profile: the top-level JSON object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Always [`SCHEMA_VERSION`] when written by this crate.
    pub schema_version: u32,
    /// When the snapshot was taken: RFC 3339 in UTC, whole seconds (`2026-11-21T17:19:00Z`).
    pub created_at: String,
    /// The program's name (the executable's file name unless set in the options); names joined
    /// with `+` in a merged profile.
    pub program: String,
    /// Wall time from the profiler's start to the snapshot.
    pub wall_ns: u64,
    /// Thread-time inside instrumented stages, summed over threads: the sum of every stage's
    /// `self_ns`, as measured.
    pub profiled_ns: u64,
    /// Number of threads that recorded at least one call.
    pub threads: u32,
    /// CPU time the whole process had used (all threads, user and system), where the system
    /// tells; null otherwise (and in profiles written before this field).
    #[serde(default)]
    pub cpu_ns: Option<u64>,
    /// The clock that timed the calls: `tsc`, `tsc-fast` or `instant` (`mixed` in a merged
    /// profile whose parts disagree).
    pub clock: String,
    /// How the analysis fields below were computed.
    pub analysis: AnalysisSettings,
    /// What the profiler itself cost.
    pub overhead: OverheadReport,
    /// Every stage, by `total_ns` descending, then by name.
    pub stages: Vec<Stage>,
    /// Caller → callee relations, sorted by caller (roots first) then callee, in the order of
    /// the stages' first appearance in the call tree.
    pub edges: Vec<Edge>,
    /// The merged call tree; a node's parent comes before it.
    pub tree: Vec<TreeNode>,
    /// Named counters, sorted by name.
    pub counters: Vec<Counter>,
    /// Named memory records, sorted by name.
    pub memory: Vec<Memory>,
    /// Stages of severity `medium` or worse, by impact descending, then by name.
    pub bottlenecks: Vec<Bottleneck>,
    /// Stages with enough calls in time order, degrading first.
    pub trends: Vec<Trend>,
    /// Recommendations at or above the minimum confidence, most important first.
    pub recommendations: Vec<Recommendation>,
    /// Every recorded call as a timed event, per thread: present only when the program ran
    /// with tracing on (`PROFILE_TRACE=1`) and events were recorded or dropped. Optional and
    /// additive: profiles without it are still schema version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Events>,
}

/// The timed events of a traced run: `{"dropped": N, "threads": [...]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    /// Events lost to the bounds over the whole run: overwritten in full rings plus those of
    /// exited threads dropped to bound memory (see [`Snapshot::dropped_events`]).
    pub dropped: u64,
    /// The threads that kept events, by thread number.
    pub threads: Vec<ThreadEvents>,
}

/// The events one thread kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadEvents {
    /// The thread's number in the process (1 for the first thread that recorded).
    pub id: u32,
    /// The thread's name in timelines: `thread <id>`.
    #[serde(default)]
    pub name: String,
    /// Oldest events of this thread overwritten because its ring was full.
    #[serde(default)]
    pub dropped: u64,
    /// The events by start time, each `[stage, start_ns, duration_ns, depth]`: `stage` is an
    /// index into the profile's `stages` array, `start_ns` nanoseconds since the profiler
    /// started, `depth` the nesting depth on the thread (1 outside any stage).
    pub events: Vec<(usize, u64, u64, u32)>,
}

/// The settings the analysis fields of a profile were computed with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSettings {
    /// The profiled time every `impact` is a share of: `profiled_ns`, or less when compensated.
    pub profiled_ns: u64,
    /// Whether times were compensated for the profiler's cost.
    pub compensated: bool,
    /// Cores assumed by the "spread over the cores" bounds.
    pub cores: usize,
    /// Recommendations below this confidence were left out.
    pub min_confidence: f64,
}

/// One stage (all call sites sharing one name), merged over threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The stage name.
    pub name: String,
    /// Every invocation, recursive ones included (`async`: every completion).
    pub calls: u64,
    /// Inclusive time; recursion never counts twice. `async`: wall time from first poll to end.
    pub total_ns: u64,
    /// Exclusive time: inclusive time minus time inside instrumented callees.
    pub self_ns: u64,
    /// `async` stages: time inside `poll`, callees included. Always present; 0 for other stages.
    pub busy_ns: u64,
    /// Whether the stage is an instrumented future (`async fn`).
    pub is_async: bool,
    /// Sum of every call's duration, recursive ones included: `sum_ns / calls` is the exact mean.
    pub sum_ns: u64,
    /// Shortest call (exact).
    pub min_ns: u64,
    /// Longest call (exact).
    pub max_ns: u64,
    /// Mean call duration (exact, `sum_ns / calls`).
    pub mean_ns: f64,
    /// Population standard deviation of call durations (from the histogram).
    pub stdev_ns: f64,
    /// Median call duration (from the histogram, within 2 %, clamped to `[min_ns, max_ns]`).
    pub p50_ns: u64,
    /// 90th percentile of call durations.
    pub p90_ns: u64,
    /// 95th percentile of call durations.
    pub p95_ns: u64,
    /// 99th percentile of call durations.
    pub p99_ns: u64,
    /// Number of threads that called the stage.
    pub threads: u32,
    /// Share of the analysis's profiled time: `total_ns` (`busy_ns` for `async` stages) /
    /// `analysis.profiled_ns` (compensated times when `analysis.compensated`).
    pub impact: f64,
    /// The stronger of the impact and statistical views (see [`crate::severity`]).
    pub severity: Severity,
    /// The rule that gave the severity: `impact`, `mean_above_p95`, `mean_above_average`,
    /// `high_variation` or `typical`.
    pub severity_rule: String,
    /// The same in words, with its numbers.
    pub severity_reason: String,
    /// Whether the mean is too close to the profiler's own cost to be trusted.
    pub unreliable: bool,
    /// Distribution of call durations.
    pub histogram: Histogram,
    /// Calls in time order: `[calls, sum_ns]` per segment of doubling length (see
    /// [`StageSnapshot::segments`]). Empty for `async` stages.
    pub segments: Vec<(u64, u64)>,
}

/// A histogram in compact form: `{"buckets": [[index, count], ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    /// The non-zero buckets as `(index, count)`, by increasing index. Bucket `i` holds the
    /// durations from [`bucket_lower`](profiler_core::bucket_lower)`(i)` ns, inclusive, to
    /// `bucket_lower(i) + `[`bucket_width`](profiler_core::bucket_width)`(i)` ns, exclusive.
    pub buckets: Vec<(u16, u64)>,
}

impl Histogram {
    /// Rebuilds the profiler's histogram, e.g. to merge profiles exactly.
    ///
    /// # Errors
    /// The buckets are not strictly increasing, out of range or have a zero count.
    pub fn to_histogram(&self) -> Result<profiler_core::Histogram, String> {
        profiler_core::Histogram::from_buckets(self.buckets.clone())
    }
}

/// A caller → callee relation between stages, summed over all paths of the call tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The calling stage; `null` when called from outside any stage (a root).
    pub parent: Option<String>,
    /// The called stage.
    pub child: String,
    /// Calls from the parent to the child.
    pub calls: u64,
    /// Inclusive time of those calls (recursive edges: calls but no time).
    pub total_ns: u64,
}

/// One node of the merged call tree: a stage reached through one particular path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    /// The stage name.
    pub stage: String,
    /// Index into `tree` of the caller's node; `null` for a root.
    pub parent: Option<usize>,
    /// Calls made through this path.
    pub calls: u64,
    /// Sum of the durations of those calls (wall time for `async` stages).
    pub total_ns: u64,
    /// Exclusive time of those calls.
    pub self_ns: u64,
    /// Time inside `poll` (`async` stages; 0 for others).
    pub busy_ns: u64,
}

/// A named counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Counter name.
    pub name: String,
    /// Sum of all increments.
    pub value: u64,
}

/// A named memory record (sizes in bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Record name.
    pub name: String,
    /// Number of samples.
    pub samples: u64,
    /// Most recent value.
    pub last_bytes: u64,
    /// Smallest value.
    pub min_bytes: u64,
    /// Largest value.
    pub peak_bytes: u64,
    /// Sum of all values (may exceed 2^64).
    pub sum_bytes: u128,
    /// `sum_bytes / samples` (0 without samples).
    pub mean_bytes: f64,
}

/// A stage of severity `medium` or worse, with where its time goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// The stage name.
    pub name: String,
    /// Its severity.
    pub severity: Severity,
    /// The rule that gave it (as [`Stage::severity_rule`]).
    pub severity_rule: String,
    /// The same in words.
    pub severity_reason: String,
    /// Its share of profiled time (as in [`Stage::impact`]).
    pub impact: f64,
    /// Its inclusive time.
    pub total_ns: u64,
    /// Its exclusive time: the part spent in its own body.
    pub self_ns: u64,
    /// `self_ns` as a share of its impact time (inclusive, or busy for `async` stages).
    pub self_share: f64,
    /// Its direct callees with the time of the calls it makes to them, largest first.
    pub children: Vec<Part>,
}

impl Profile {
    /// The profile of a snapshot with the default options (see [`ReportOptions::default`]),
    /// naming this process's executable.
    #[must_use]
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        let options = ReportOptions::default();
        Self::new(snapshot, &analyze(snapshot, &options), &options.program())
    }

    /// The profile of a snapshot and its analysis, for the named program. The clock is the
    /// snapshot's.
    #[must_use]
    pub fn new(snapshot: &Snapshot, analysis: &Analysis, program: &str) -> Self {
        let name = |stage: usize| snapshot.stages.get(stage).map_or_else(String::new, |s| s.name.clone());
        Self {
            schema_version: SCHEMA_VERSION,
            created_at: output::rfc3339(snapshot.created_at),
            program: program.to_owned(),
            wall_ns: snapshot.wall_ns,
            profiled_ns: snapshot.profiled_ns(),
            threads: snapshot.threads,
            cpu_ns: snapshot.cpu_ns,
            clock: snapshot.clock.clone(),
            analysis: AnalysisSettings {
                profiled_ns: analysis.profiled_ns,
                compensated: analysis.compensated,
                cores: analysis.cores,
                min_confidence: analysis.min_confidence,
            },
            overhead: analysis.overhead.clone(),
            stages: analysis.stages.iter().filter_map(|s| Some(stage(snapshot.stages.get(s.index)?, s))).collect(),
            edges: snapshot
                .edges()
                .into_iter()
                .map(|e| Edge {
                    parent: e.parent.map(name),
                    child: name(e.child),
                    calls: e.calls,
                    total_ns: e.total_ns,
                })
                .collect(),
            tree: snapshot
                .tree
                .iter()
                .map(|n| TreeNode {
                    stage: name(n.stage),
                    parent: n.parent,
                    calls: n.calls,
                    total_ns: n.total_ns,
                    self_ns: n.self_ns,
                    busy_ns: n.busy_ns,
                })
                .collect(),
            counters: snapshot.counters.iter().map(|c| Counter { name: c.name.clone(), value: c.value }).collect(),
            memory: snapshot
                .memory
                .iter()
                .map(|m| Memory {
                    name: m.name.clone(),
                    samples: m.samples,
                    last_bytes: m.last_bytes,
                    min_bytes: m.min_bytes,
                    peak_bytes: m.peak_bytes,
                    sum_bytes: m.sum_bytes,
                    mean_bytes: if m.samples == 0 { 0.0 } else { m.sum_bytes as f64 / m.samples as f64 },
                })
                .collect(),
            bottlenecks: analysis
                .bottlenecks
                .iter()
                .map(|b| Bottleneck {
                    name: b.stage.clone(),
                    severity: b.severity,
                    severity_rule: b.reason.rule().to_owned(),
                    severity_reason: b.reason.to_string(),
                    impact: b.impact,
                    total_ns: b.total_ns,
                    self_ns: b.self_ns,
                    self_share: b.self_share,
                    children: b.children.clone(),
                })
                .collect(),
            trends: analysis.trends.clone(),
            recommendations: analysis.recommendations.clone(),
            events: events(snapshot, analysis),
        }
    }

    /// The profile as pretty JSON with a final newline: what [`dump`](crate::dump) writes.
    #[must_use]
    pub fn to_json(&self) -> String {
        to_pretty(self)
    }

    /// Rebuilds the snapshot the profile was made from: every measured field (the analysis
    /// fields are recomputed by [`analyze`], not read), and the timed events of a traced run
    /// (their stage indices mapped back to the snapshot's order of stages).
    ///
    /// # Errors
    /// The profile is inconsistent: a date that is not RFC 3339 UTC, two stages with one name,
    /// a histogram that is malformed or does not count the stage's calls, a tree node naming an
    /// unknown stage or with a parent that does not come before it, a negative, non-finite or
    /// absurd (above a second per call) overhead, an event naming a stage index out of range,
    /// a `min_confidence` outside `[0, 1]`, numbers no run produces (time without calls, more
    /// self time than total in a tree node or in a synchronous stage that never recurses). The
    /// message names the offending field.
    pub fn to_snapshot(&self) -> Result<Snapshot, String> {
        let created_at = output::parse_rfc3339(&self.created_at).ok_or_else(|| {
            format!("`created_at` {:?} is not a UTC time such as 2026-11-21T17:19:00Z", self.created_at)
        })?;
        let confidence = self.analysis.min_confidence;
        if !(0.0..=1.0).contains(&confidence) {
            return Err(format!("`analysis.min_confidence` {confidence} is not a number from 0 to 1"));
        }
        let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(self.stages.len());
        for (index, stage) in self.stages.iter().enumerate() {
            if by_name.insert(stage.name.as_str(), index).is_some() {
                return Err(format!("two stages are named `{}`", printable(&stage.name)));
            }
        }
        // Stages in order of first appearance in the tree, as the profiler lists them.
        let mut new_index: Vec<Option<usize>> = vec![None; self.stages.len()];
        let mut order: Vec<usize> = Vec::with_capacity(self.stages.len());
        let mut tree = Vec::with_capacity(self.tree.len());
        for (i, node) in self.tree.iter().enumerate() {
            let &index = by_name
                .get(node.stage.as_str())
                .ok_or_else(|| format!("tree node {i} names unknown stage `{}`", printable(&node.stage)))?;
            let context = |what: String| format!("tree node {i} (`{}`) {what}", printable(&node.stage));
            if node.parent.is_some_and(|p| p >= i) {
                return Err(context("has a parent that does not come before it".to_owned()));
            }
            // A node's self time is its time minus its callees'; a future's is busy time instead.
            if node.busy_ns == 0 && node.self_ns > node.total_ns {
                return Err(context(format!("has `self_ns` {} above its `total_ns` {}", node.self_ns, node.total_ns)));
            }
            let stage = *new_index[index].get_or_insert_with(|| {
                order.push(index);
                order.len() - 1
            });
            tree.push(profiler_core::TreeNode {
                stage,
                parent: node.parent,
                calls: node.calls,
                total_ns: node.total_ns,
                self_ns: node.self_ns,
                busy_ns: node.busy_ns,
            });
        }
        order.extend((0..self.stages.len()).filter(|&index| new_index[index].is_none()));
        let stages =
            order.iter().map(|&index| self.stages[index].to_stage_snapshot()).collect::<Result<Vec<_>, _>>()?;
        check_self_within_total(&stages, &tree)?;
        let (events, dropped_events) = match &self.events {
            None => (Vec::new(), 0),
            Some(events) => {
                // Profile index → snapshot index, the inverse of `order`.
                let mut snapshot_index = vec![0; order.len()];
                for (new, &index) in order.iter().enumerate() {
                    snapshot_index[index] = new;
                }
                (events.to_thread_events(&snapshot_index)?, events.dropped)
            }
        };
        let (per_call_ns, in_stage_ns) = (self.overhead.per_call_ns, self.overhead.in_stage_ns);
        if !(per_call_ns.is_finite() && in_stage_ns.is_finite() && per_call_ns >= 0.0 && in_stage_ns >= 0.0) {
            return Err("`overhead.per_call_ns` and `overhead.in_stage_ns` must be non-negative numbers".to_owned());
        }
        // Far above any real cost (tens of ns), and low enough that the estimates made from it
        // stay finite: an infinite one would be written as `null`, which does not read back.
        if per_call_ns > MAX_COST_NS || in_stage_ns > MAX_COST_NS {
            return Err(format!(
                "`overhead.per_call_ns` and `overhead.in_stage_ns` must be at most {MAX_COST_NS:e} ns, one second per call"
            ));
        }
        Ok(Snapshot {
            created_at,
            wall_ns: self.wall_ns,
            threads: self.threads,
            cpu_ns: self.cpu_ns,
            stages,
            tree,
            counters: self.counters.iter().map(|c| CounterSnapshot { name: c.name.clone(), value: c.value }).collect(),
            memory: self
                .memory
                .iter()
                .map(|m| MemorySnapshot {
                    name: m.name.clone(),
                    samples: m.samples,
                    last_bytes: m.last_bytes,
                    min_bytes: m.min_bytes,
                    peak_bytes: m.peak_bytes,
                    sum_bytes: m.sum_bytes,
                })
                .collect(),
            overhead: profiler_core::Overhead { per_call_ns, in_stage_ns },
            clock: self.clock.clone(),
            events,
            dropped_events,
        })
    }

    /// When the profile was created, or `None` when `created_at` is malformed.
    #[must_use]
    pub fn created(&self) -> Option<SystemTime> {
        output::parse_rfc3339(&self.created_at)
    }
}

impl Stage {
    /// The stage as the snapshot holds it, once checked: a histogram counting its calls, a
    /// minimum not above its maximum, and no time without calls (time is added with a call;
    /// only futures dropped or still pending leave self time, from their busy time, without
    /// one).
    fn to_stage_snapshot(&self) -> Result<StageSnapshot, String> {
        let context = |what: String| format!("stage `{}`: {what}", printable(&self.name));
        let histogram = self.histogram.to_histogram().map_err(context)?;
        if histogram.count() != self.calls {
            return Err(context(format!(
                "histogram counts add up to {}, not its {} calls",
                histogram.count(),
                self.calls
            )));
        }
        if self.calls > 0 && self.min_ns > self.max_ns {
            return Err(context(format!("`min_ns` {} is above `max_ns` {}", self.min_ns, self.max_ns)));
        }
        if self.calls == 0 {
            let time = [("total_ns", self.total_ns), ("sum_ns", self.sum_ns)]
                .into_iter()
                .chain((!self.is_async).then_some(("self_ns", self.self_ns)))
                .find(|&(_, ns)| ns > 0);
            if let Some((field, ns)) = time {
                return Err(context(format!("`{field}` {ns} without any call")));
            }
        }
        Ok(StageSnapshot {
            name: self.name.clone(),
            calls: self.calls,
            total_ns: self.total_ns,
            self_ns: self.self_ns,
            busy_ns: self.busy_ns,
            is_async: self.is_async,
            sum_ns: self.sum_ns,
            min_ns: self.min_ns,
            max_ns: self.max_ns,
            threads: self.threads,
            histogram,
            segments: self.segments.iter().map(|&(calls, sum_ns)| Segment { calls, sum_ns }).collect(),
        })
    }
}

/// Checks that each synchronous stage met in the call tree and never recursively has a self time
/// within its total: both are sums over its nodes, and each node's self time is within its total.
///
/// Other stages may well have more self time than total: a recursive call counts in self time
/// but not in total (its outermost call counts it), so a recursion still running when the
/// snapshot is taken leaves self above total; an `async` stage's self time is busy time, which
/// futures dropped or still pending add to without adding to the total.
fn check_self_within_total(stages: &[StageSnapshot], tree: &[profiler_core::TreeNode]) -> Result<(), String> {
    let mut in_tree = vec![false; stages.len()];
    let mut recursive = vec![false; stages.len()];
    for (node, is_recursive) in tree.iter().zip(profiler_core::recursive_nodes(tree)) {
        in_tree[node.stage] = true;
        recursive[node.stage] |= is_recursive;
    }
    for (index, stage) in stages.iter().enumerate() {
        if in_tree[index] && !recursive[index] && !stage.is_async && stage.self_ns > stage.total_ns {
            return Err(format!(
                "stage `{}`: `self_ns` {} is above `total_ns` {}",
                printable(&stage.name),
                stage.self_ns,
                stage.total_ns
            ));
        }
    }
    Ok(())
}

/// The snapshot's events, their stages renumbered as in the profile's `stages` (the analysis's
/// order, see [`Profile::new`]); `None` when nothing was recorded or dropped.
fn events(snapshot: &Snapshot, analysis: &Analysis) -> Option<Events> {
    if snapshot.events.is_empty() && snapshot.dropped_events == 0 {
        return None;
    }
    // Snapshot index → position in `stages`, with the filter `Profile::new` applies.
    let count = snapshot.stages.len();
    let mut json_index: Vec<Option<usize>> = vec![None; count];
    for (position, index) in analysis.stages.iter().map(|s| s.index).filter(|&i| i < count).enumerate() {
        json_index[index] = Some(position);
    }
    let threads = snapshot
        .events
        .iter()
        .map(|thread| ThreadEvents {
            id: thread.thread,
            name: format!("thread {}", thread.thread),
            dropped: thread.dropped,
            events: thread
                .events
                .iter()
                .filter_map(|e| Some((json_index.get(e.stage).copied().flatten()?, e.start_ns, e.duration_ns, e.depth)))
                .collect(),
        })
        .collect();
    Some(Events { dropped: snapshot.dropped_events, threads })
}

impl Events {
    /// The events with their stages as indices into a snapshot's stages: `snapshot_index[i]`
    /// is the snapshot index of the profile's stage `i`.
    fn to_thread_events(&self, snapshot_index: &[usize]) -> Result<Vec<profiler_core::ThreadEvents>, String> {
        let mut threads = Vec::with_capacity(self.threads.len());
        for (t, thread) in self.threads.iter().enumerate() {
            let mut events = Vec::with_capacity(thread.events.len());
            for (e, &(stage, start_ns, duration_ns, depth)) in thread.events.iter().enumerate() {
                let &stage = snapshot_index.get(stage).ok_or_else(|| {
                    format!(
                        "`events.threads[{t}].events[{e}]` names stage {stage}, but there are {} stages",
                        snapshot_index.len()
                    )
                })?;
                events.push(profiler_core::Event { stage, start_ns, duration_ns, depth });
            }
            threads.push(profiler_core::ThreadEvents { thread: thread.id, dropped: thread.dropped, events });
        }
        Ok(threads)
    }
}

fn stage(raw: &StageSnapshot, s: &StageAnalysis) -> Stage {
    Stage {
        name: raw.name.clone(),
        calls: raw.calls,
        total_ns: raw.total_ns,
        self_ns: raw.self_ns,
        busy_ns: raw.busy_ns,
        is_async: raw.is_async,
        sum_ns: raw.sum_ns,
        min_ns: raw.min_ns,
        max_ns: raw.max_ns,
        mean_ns: raw.mean_ns(),
        stdev_ns: s.stdev_ns,
        p50_ns: s.p50_ns,
        p90_ns: s.p90_ns,
        p95_ns: s.p95_ns,
        p99_ns: s.p99_ns,
        threads: raw.threads,
        impact: s.impact,
        severity: s.severity,
        severity_rule: s.severity_reason.rule().to_owned(),
        severity_reason: s.severity_reason.to_string(),
        unreliable: s.unreliable,
        histogram: Histogram { buckets: raw.histogram.buckets().to_vec() },
        segments: raw.segments.iter().map(|seg| (seg.calls, seg.sum_ns)).collect(),
    }
}

/// Renders the JSON profile of a snapshot with the default options, pretty-printed, with a
/// final newline.
#[must_use]
pub fn render_json(snapshot: &Snapshot) -> String {
    Profile::from_snapshot(snapshot).to_json()
}

/// The profile as pretty JSON with a final newline. Arrays inside arrays (the histograms'
/// `[index, count]` pairs) stay on one line each.
pub(crate) fn to_pretty(profile: &Profile) -> String {
    // About 1 KiB per stage and 200 bytes per tree node: one allocation instead of a dozen
    // doublings (and copies) for large profiles.
    let mut out = Vec::with_capacity(16 * 1024 + profile.stages.len() * 1024 + profile.tree.len() * 200);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, ProfileFormatter::default());
    // Serializing this model cannot fail: all map keys are strings and the writer is a Vec.
    if let Err(error) = profile.serialize(&mut serializer) {
        debug_assert!(false, "serializing a profile failed: {error}");
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// serde_json's pretty layout (two-space indent), except that an array inside an array is
/// written on one line: `[801, 900]`.
#[derive(Default)]
struct ProfileFormatter {
    indent: usize,
    has_value: bool,
    /// Open containers, innermost last: `true` for arrays.
    open: Vec<bool>,
    /// Number of open containers written on one line.
    compact: usize,
}

impl ProfileFormatter {
    fn newline<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.indent {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    fn begin<W: ?Sized + io::Write>(&mut self, writer: &mut W, is_array: bool) -> io::Result<()> {
        if self.compact > 0 || (is_array && self.open.last() == Some(&true)) {
            self.compact += 1;
        } else {
            self.indent += 1;
            self.has_value = false;
        }
        self.open.push(is_array);
        writer.write_all(if is_array { b"[" } else { b"{" })
    }

    fn end<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let is_array = self.open.pop().unwrap_or(true);
        if self.compact > 0 {
            self.compact -= 1;
        } else {
            self.indent -= 1;
            if self.has_value {
                self.newline(writer)?;
            }
        }
        writer.write_all(if is_array { b"]" } else { b"}" })
    }

    fn begin_item<W: ?Sized + io::Write>(&self, writer: &mut W, first: bool) -> io::Result<()> {
        if self.compact > 0 {
            return if first { Ok(()) } else { writer.write_all(b", ") };
        }
        if !first {
            writer.write_all(b",")?;
        }
        self.newline(writer)
    }

    fn end_item(&mut self) {
        if self.compact == 0 {
            self.has_value = true;
        }
    }
}

impl serde_json::ser::Formatter for ProfileFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.begin(writer, true)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.end(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.begin_item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.end_item();
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.begin(writer, false)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.end(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.begin_item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.end_item();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::Value;

    use super::*;
    use crate::test_data::{full_snapshot, test_options, traced_snapshot};

    fn golden_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/profile-v2.json")
    }

    fn profile_of(snapshot: &Snapshot) -> Profile {
        let options = test_options();
        Profile::new(snapshot, &analyze(snapshot, &options), "pipeline-demo")
    }

    /// Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it.
    #[test]
    fn json_of_a_full_snapshot_matches_the_golden_file() {
        let json = profile_of(&full_snapshot()).to_json();
        let path = golden_path();
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &json).unwrap();
        }
        let golden = std::fs::read_to_string(&path).expect("golden file (regenerate with UPDATE_GOLDEN=1)");
        assert_eq!(json, golden, "JSON differs from {}; review, then UPDATE_GOLDEN=1", path.display());
    }

    #[test]
    fn json_fields_carry_the_snapshot_values() {
        let snapshot = full_snapshot();
        let text = profile_of(&snapshot).to_json();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["created_at"], "2026-11-21T17:19:00Z");
        assert_eq!(v["program"], "pipeline-demo");
        assert_eq!(v["wall_ns"], 900_000_000);
        assert_eq!(v["profiled_ns"], 820_000_000);
        assert_eq!(v["threads"], 2);
        assert_eq!(v["clock"], "tsc");
        assert_eq!(
            v["analysis"],
            serde_json::json!({"profiled_ns": 820_000_000, "compensated": false, "cores": 4, "min_confidence": 0.6})
        );
        // Top-level fields, in the documented order.
        let fields = [
            "schema_version",
            "created_at",
            "program",
            "wall_ns",
            "profiled_ns",
            "threads",
            "cpu_ns",
            "clock",
            "analysis",
            "overhead",
            "stages",
            "edges",
            "tree",
            "counters",
            "memory",
            "bottlenecks",
            "trends",
            "recommendations",
        ];
        let positions: Vec<usize> = fields.iter().map(|f| text.find(&format!("\n  \"{f}\": ")).unwrap()).collect();
        assert!(positions.is_sorted(), "{positions:?}");
        assert_eq!(v.as_object().unwrap().len(), fields.len());
    }

    #[test]
    fn json_stages_carry_the_snapshot_values() {
        let snapshot = full_snapshot();
        let v: Value = serde_json::from_str(&profile_of(&snapshot).to_json()).unwrap();
        let overhead = &v["overhead"];
        assert_eq!(overhead["calibrated"], true);
        assert_eq!(overhead["per_call_ns"], 25.0);
        assert_eq!(overhead["in_stage_ns"], 9.0);
        assert_eq!(overhead["calls"], 201_071);
        assert_eq!(overhead["estimated_ns"], 25 * 201_071);
        assert_eq!(overhead["unreliable"], serde_json::json!(["tiny"]));

        let names: Vec<&str> = v["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["main", "app::pipeline::parse_document", "app::net::fetch", "render", "tiny"]);
        let parse = &v["stages"][1];
        assert_eq!(parse["calls"], 1000);
        assert_eq!(parse["total_ns"], 300_000_000);
        assert_eq!(parse["self_ns"], 150_000_000);
        assert_eq!(parse["busy_ns"], 0);
        assert_eq!(parse["is_async"], false);
        assert_eq!(parse["sum_ns"], 300_000_000);
        assert_eq!(parse["min_ns"], 180_000);
        assert_eq!(parse["max_ns"], 3_000_000);
        assert_eq!(parse["mean_ns"], 300_000.0);
        assert_eq!(parse["threads"], 2);
        assert_eq!(parse["severity"], "high");
        assert_eq!(parse["severity_rule"], "impact");
        assert_eq!(parse["severity_reason"], "36.6% of profiled time");
        assert_eq!(parse["unreliable"], false);
        assert!((parse["impact"].as_f64().unwrap() - 300.0 / 820.0).abs() < 1e-12);
        let p50 = parse["p50_ns"].as_u64().unwrap() as f64;
        assert!((p50 - 200_000.0).abs() / 200_000.0 < 0.02, "{p50}");
        let p99 = parse["p99_ns"].as_u64().unwrap() as f64;
        assert!((p99 - 1_000_000.0).abs() / 1_000_000.0 < 0.02, "{p99}");
        assert_eq!(parse["histogram"]["buckets"].as_array().unwrap().len(), 3);
        assert_eq!(parse["histogram"]["buckets"][0][1], 900);
        assert_eq!(parse["segments"][0], serde_json::json!([2, 6_000_000]));
        assert_eq!(parse["segments"].as_array().unwrap().len(), 9);

        let fetch = &v["stages"][2];
        assert_eq!((fetch["is_async"].as_bool(), fetch["busy_ns"].as_u64()), (Some(true), Some(120_000_000)));
        assert_eq!(fetch["severity"], "high");
        assert_eq!(fetch["severity_rule"], "mean_above_p95");
        assert_eq!(fetch["segments"], serde_json::json!([]));

        assert_eq!(
            v["edges"][0],
            serde_json::json!({"parent": null, "child": "main", "calls": 1, "total_ns": 820_000_000})
        );
        assert_eq!(
            v["edges"][1],
            serde_json::json!({"parent": "main", "child": "app::pipeline::parse_document", "calls": 1000, "total_ns": 300_000_000})
        );
    }

    #[test]
    fn json_relations_and_analysis_carry_the_snapshot_values() {
        let v: Value = serde_json::from_str(&profile_of(&full_snapshot()).to_json()).unwrap();
        assert_eq!(v["tree"][2]["stage"], "render");
        assert_eq!(v["tree"][2]["parent"], 1);
        assert_eq!(v["tree"][0]["parent"], Value::Null);
        assert_eq!(v["counters"][0], serde_json::json!({"name": "bytes_read", "value": 1_048_576}));
        assert_eq!(v["memory"][0]["peak_bytes"], 3 << 20);
        assert_eq!(v["memory"][0]["mean_bytes"], f64::from(2 << 20));

        let bottlenecks: Vec<(&str, &str)> = v["bottlenecks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["name"].as_str().unwrap(), b["severity"].as_str().unwrap()))
            .collect();
        assert_eq!(
            bottlenecks,
            [
                ("main", "critical"),
                ("app::pipeline::parse_document", "high"),
                ("render", "medium"),
                ("app::net::fetch", "high")
            ]
        );
        assert_eq!(
            v["bottlenecks"][1]["children"],
            serde_json::json!([{"stage": "render", "time_ns": 150_000_000, "share": 0.5}])
        );
        assert_eq!(v["trends"][0]["stage"], "app::pipeline::parse_document");
        assert_eq!(v["trends"][0]["direction"], "degrading");
        assert_eq!(v["trends"][0]["early_calls"], 124);
        assert_eq!(v["trends"][0]["late_calls"], 490);
        let rules: Vec<&str> =
            v["recommendations"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
        assert_eq!(rules, ["dominant_stage", "high_variance", "dominant_stage", "degrading_trend", "cheap_hot_stage"]);
        let first = &v["recommendations"][0];
        assert_eq!(first["stage"], "main");
        assert_eq!(first["priority"], "critical");
        assert_eq!(first["confidence"], 0.9);
        assert_eq!(first["time_saved_ns"], 300_000_000);
        assert_eq!(first["amdahl"]["cores"], 4);
        assert_eq!(v["recommendations"][4]["amdahl"], Value::Null);
    }

    #[test]
    fn profiles_read_back_and_rebuild_the_snapshot() {
        let snapshot = full_snapshot();
        let profile = profile_of(&snapshot);
        let back: Profile = serde_json::from_str(&profile.to_json()).unwrap();
        // Integers read back exactly; floats within serde_json's parsing precision.
        assert_eq!((back.stages.len(), back.tree.len()), (profile.stages.len(), profile.tree.len()));
        let rebuilt = back.to_snapshot().unwrap();
        assert_eq!(rebuilt.created_at, snapshot.created_at);
        assert_eq!(rebuilt.wall_ns, snapshot.wall_ns);
        assert_eq!(rebuilt.threads, snapshot.threads);
        assert_eq!(rebuilt.stages, snapshot.stages, "stages in their original order, every field");
        assert_eq!(rebuilt.tree, snapshot.tree);
        assert_eq!(rebuilt.counters, snapshot.counters);
        assert_eq!(rebuilt.memory, snapshot.memory);
        assert_eq!(rebuilt.overhead, snapshot.overhead);
        // The same analysis, hence the same profile, from the exact integers.
        assert_eq!(profile_of(&rebuilt), profile);
        assert_eq!(profile_of(&rebuilt).to_json(), profile.to_json());
    }

    #[test]
    fn events_are_written_with_json_stage_indices_and_read_back() {
        let snapshot = traced_snapshot();
        let profile = profile_of(&snapshot);
        let json = profile.to_json();
        let v: Value = serde_json::from_str(&json).unwrap();
        // The JSON sorts stages by total time: `render` (snapshot index 2) moves behind `fetch`.
        let names: Vec<&str> = v["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["main", "app::pipeline::parse_document", "app::net::fetch", "render", "tiny"]);
        assert_eq!(
            v["events"],
            serde_json::json!({"dropped": 7, "threads": [
                {"id": 1, "name": "thread 1", "dropped": 0, "events": [
                    [0, 1_000, 900_000, 1], [1, 2_500, 300_250, 2], [3, 3_000, 150_000, 3]
                ]},
                {"id": 2, "name": "thread 2", "dropped": 7, "events": [[1, 5_000, 1_234, 1]]}
            ]})
        );
        for (thread, json_thread) in snapshot.events.iter().zip(v["events"]["threads"].as_array().unwrap()) {
            for (event, json_event) in thread.events.iter().zip(json_thread["events"].as_array().unwrap()) {
                let index = json_event[0].as_u64().unwrap() as usize;
                assert_eq!(names[index], snapshot.stages[event.stage].name);
            }
        }
        let layout = "        \"events\": [\n          [0, 1000, 900000, 1],\n          [1, 2500, 300250, 2],\n";
        assert!(json.contains(layout), "one event per line:\n{json}");
        // JSON → snapshot → JSON: the same events, indices mapped back to the snapshot's stages.
        let back: Profile = serde_json::from_str(&json).unwrap();
        let rebuilt = back.to_snapshot().unwrap();
        assert_eq!(rebuilt.stages, snapshot.stages);
        assert_eq!(rebuilt.events, snapshot.events);
        assert_eq!(rebuilt.dropped_events, 7);
        assert_eq!(profile_of(&rebuilt).to_json(), json);
    }

    #[test]
    fn events_are_left_out_unless_recorded_or_dropped() {
        let mut snapshot = full_snapshot();
        assert!(!profile_of(&snapshot).to_json().contains("\"events\""));
        assert_eq!(profile_of(&snapshot).events, None);
        // Tracing on, every event dropped: the count is kept.
        snapshot.dropped_events = 12;
        let json = profile_of(&snapshot).to_json();
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["events"], serde_json::json!({"dropped": 12, "threads": []}));
        let rebuilt = serde_json::from_str::<Profile>(&json).unwrap().to_snapshot().unwrap();
        assert_eq!((rebuilt.events.len(), rebuilt.dropped_events), (0, 12));
    }

    #[test]
    fn inconsistent_profiles_are_refused_with_the_field_named() {
        let good = profile_of(&full_snapshot());
        let refused = |change: &dyn Fn(&mut Profile)| {
            let mut profile = good.clone();
            change(&mut profile);
            profile.to_snapshot().unwrap_err()
        };
        assert_eq!(
            refused(&|p| p.created_at = "yesterday".to_owned()),
            "`created_at` \"yesterday\" is not a UTC time such as 2026-11-21T17:19:00Z"
        );
        assert_eq!(refused(&|p| p.stages[1].name = "main".to_owned()), "two stages are named `main`");
        assert_eq!(
            refused(&|p| p.stages[4].calls += 1),
            "stage `tiny`: histogram counts add up to 200000, not its 200001 calls"
        );
        assert_eq!(
            refused(&|p| p.stages[4].histogram.buckets.reverse()),
            "stage `tiny`: histogram buckets not strictly increasing at index 45"
        );
        assert_eq!(
            refused(&|p| p.stages[4].histogram.buckets = vec![(45, u64::MAX), (46, 1)]),
            "stage `tiny`: histogram counts add up to more than 18446744073709551615"
        );
        assert_eq!(refused(&|p| p.stages[4].min_ns = 51), "stage `tiny`: `min_ns` 51 is above `max_ns` 50");
        assert_eq!(refused(&|p| p.tree[2].stage = "nope".to_owned()), "tree node 2 names unknown stage `nope`");
        assert_eq!(
            refused(&|p| p.tree[1].parent = Some(3)),
            "tree node 1 (`app::pipeline::parse_document`) has a parent that does not come before it"
        );
        assert_eq!(
            refused(&|p| p.analysis.min_confidence = -5.0),
            "`analysis.min_confidence` -5 is not a number from 0 to 1"
        );
        assert_eq!(
            refused(&|p| p.stages[0].self_ns = 820_000_001),
            "stage `main`: `self_ns` 820000001 is above `total_ns` 820000000"
        );
        assert_eq!(
            refused(&|p| p.tree[2].self_ns = p.tree[2].total_ns + 1),
            "tree node 2 (`render`) has `self_ns` 150000001 above its `total_ns` 150000000"
        );
        let no_calls = |p: &mut Profile| {
            let tiny = &mut p.stages[4];
            (tiny.calls, tiny.histogram.buckets) = (0, Vec::new());
        };
        assert_eq!(refused(&no_calls), "stage `tiny`: `total_ns` 9000000 without any call");
        assert_eq!(
            refused(&|p| {
                no_calls(p);
                let tiny = &mut p.stages[4];
                (tiny.total_ns, tiny.sum_ns) = (0, 0);
            }),
            "stage `tiny`: `self_ns` 9000000 without any call"
        );
        assert_eq!(
            refused(&|p| p.overhead.per_call_ns = -1.0),
            "`overhead.per_call_ns` and `overhead.in_stage_ns` must be non-negative numbers"
        );
        assert_eq!(
            refused(&|p| p.overhead.in_stage_ns = 1e308),
            "`overhead.per_call_ns` and `overhead.in_stage_ns` must be at most 1e9 ns, one second per call"
        );
        assert_eq!(
            refused(&|p| {
                let thread = ThreadEvents {
                    id: 1,
                    name: "thread 1".to_owned(),
                    dropped: 0,
                    events: vec![(0, 0, 5, 1), (5, 1, 2, 2)],
                };
                p.events = Some(Events { dropped: 0, threads: vec![thread] });
            }),
            "`events.threads[0].events[1]` names stage 5, but there are 5 stages"
        );
    }

    #[test]
    fn numbers_a_run_can_produce_are_accepted() {
        let good = profile_of(&full_snapshot());
        let accepted = |change: &dyn Fn(&mut Profile)| {
            let mut profile = good.clone();
            change(&mut profile);
            profile.to_snapshot().map(|_| ())
        };
        // `main` is called inside a `main` still running when the snapshot is taken: the inner
        // call's self time counts, its total goes to the outer call, which has not ended.
        assert_eq!(
            accepted(&|p| {
                let main = &mut p.stages[0];
                (main.total_ns, main.self_ns) = (0, 400_000_000);
                let mut inner = p.tree[0].clone();
                inner.parent = Some(0);
                p.tree[0].calls = 0;
                (p.tree[0].total_ns, p.tree[0].self_ns) = (0, 0);
                p.tree.push(inner);
            }),
            Ok(())
        );
        // Futures of `app::net::fetch` dropped before completing: busy and self time, no call.
        assert_eq!(
            accepted(&|p| {
                let fetch = p.stages.iter_mut().find(|s| s.name == "app::net::fetch").unwrap();
                (fetch.calls, fetch.histogram.buckets, fetch.total_ns, fetch.sum_ns) = (0, Vec::new(), 0, 0);
                let node = p.tree.iter_mut().find(|n| n.stage == "app::net::fetch").unwrap();
                (node.calls, node.total_ns) = (0, 0);
            }),
            Ok(())
        );
    }

    #[test]
    fn the_layout_is_pretty_with_pairs_on_one_line() {
        let value = serde_json::json!({"a": [], "b": {}, "c": [[1, 2], [3, [4]]], "d": [{"e": 5}]});
        let mut out = Vec::new();
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, ProfileFormatter::default())).unwrap();
        let expected = "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    [1, 2],\n    [3, [4]]\n  ],\n  \"d\": [\n    {\n      \"e\": 5\n    }\n  ]\n}";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert_eq!(serde_json::from_str::<Value>(expected).unwrap(), value);
    }

    #[test]
    fn an_empty_snapshot_has_no_nan() {
        let mut snapshot = full_snapshot();
        for stage in &mut snapshot.stages {
            stage.self_ns = 0;
            stage.calls = 0;
        }
        snapshot.memory[0].samples = 0;
        let v: Value = serde_json::from_str(&render_json(&snapshot)).unwrap();
        assert_eq!(v["profiled_ns"], 0);
        assert_eq!(v["stages"][0]["impact"], 0.0);
        assert_eq!(v["stages"][0]["mean_ns"], 0.0);
        assert_eq!(v["memory"][0]["mean_bytes"], 0.0);
        assert_eq!(v["bottlenecks"], serde_json::json!([]));
        // serde_json writes NaN and infinities as `null`, which would not read back.
        assert!(serde_json::from_str::<Profile>(&render_json(&snapshot)).is_ok());
    }
}
