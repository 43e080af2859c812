//! The JSON profile: a serde model of schema version [`SCHEMA_VERSION`].
//!
//! Every field is documented, with an example, in `docs/json-schema.md` at the workspace
//! root. The model both serializes and deserializes, so tools can read profiles back; the
//! histograms are kept in their compact, exactly mergeable form.

use std::io;

use serde::{Deserialize, Serialize};

use profiler_core::Snapshot;

use crate::output;
use crate::severity::Severity;
use crate::stats::{self, StageStats};

/// The version written in `schema_version`. A change that removes or redefines a field bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole profile: the top-level JSON object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Always [`SCHEMA_VERSION`] when written by this crate.
    pub schema_version: u32,
    /// When the snapshot was taken: RFC 3339 in UTC, whole seconds (`2026-11-21T17:19:00Z`).
    pub created_at: String,
    /// Wall time from the profiler's start to the snapshot.
    pub wall_ns: u64,
    /// Thread-time inside instrumented stages, summed over threads: the sum of every stage's
    /// `self_ns`. The denominator of every `impact`.
    pub profiled_ns: u64,
    /// Number of threads that recorded at least one call.
    pub threads: u32,
    /// The clock that timed the calls: `tsc` or `instant`.
    pub clock: String,
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
    /// Stages of severity `medium` or worse, by impact descending.
    pub bottlenecks: Vec<Bottleneck>,
    /// Reserved for the recommendation engine: always empty in this version. Readers must
    /// accept and may ignore entries.
    pub recommendations: Vec<serde_json::Value>,
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
    /// Share of `profiled_ns`: `total_ns` (`busy_ns` for `async` stages) / `profiled_ns`.
    pub impact: f64,
    /// The step of `impact` (see [`crate::severity`]).
    pub severity: Severity,
    /// Distribution of call durations.
    pub histogram: Histogram,
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

/// A stage of severity `medium` or worse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// The stage name.
    pub name: String,
    /// Its severity.
    pub severity: Severity,
    /// Its share of profiled time (as in [`Stage::impact`]).
    pub impact: f64,
    /// Its inclusive time.
    pub total_ns: u64,
    /// Its exclusive time.
    pub self_ns: u64,
}

impl Profile {
    /// The profile of a snapshot, naming the clock this process uses.
    #[must_use]
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        Self::with_clock(snapshot, profiler_core::clock_name())
    }

    /// The profile of a snapshot taken with the named clock (`tsc` or `instant`).
    #[must_use]
    pub fn with_clock(snapshot: &Snapshot, clock: &str) -> Self {
        let stats = stats::stage_stats(snapshot);
        let name = |stage: usize| snapshot.stages[stage].name.clone();
        Self {
            schema_version: SCHEMA_VERSION,
            created_at: output::rfc3339(snapshot.created_at),
            wall_ns: snapshot.wall_ns,
            profiled_ns: snapshot.profiled_ns(),
            threads: snapshot.threads,
            clock: clock.to_owned(),
            stages: stats.iter().map(stage).collect(),
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
            bottlenecks: stats::bottlenecks(&stats)
                .into_iter()
                .map(|s| Bottleneck {
                    name: s.stage.name.clone(),
                    severity: s.severity,
                    impact: s.impact,
                    total_ns: s.stage.total_ns,
                    self_ns: s.stage.self_ns,
                })
                .collect(),
            recommendations: Vec::new(),
        }
    }
}

fn stage(s: &StageStats<'_>) -> Stage {
    let stage = s.stage;
    Stage {
        name: stage.name.clone(),
        calls: stage.calls,
        total_ns: stage.total_ns,
        self_ns: stage.self_ns,
        busy_ns: stage.busy_ns,
        is_async: stage.is_async,
        sum_ns: stage.sum_ns,
        min_ns: stage.min_ns,
        max_ns: stage.max_ns,
        mean_ns: s.mean_ns,
        stdev_ns: s.stdev_ns,
        p50_ns: s.p50_ns,
        p90_ns: s.p90_ns,
        p95_ns: s.p95_ns,
        p99_ns: s.p99_ns,
        threads: stage.threads,
        impact: s.impact,
        severity: s.severity,
        histogram: Histogram { buckets: stage.histogram.buckets().to_vec() },
    }
}

/// Renders the JSON profile of a snapshot, pretty-printed, with a final newline: what
/// [`dump`](crate::dump) writes.
#[must_use]
pub fn render_json(snapshot: &Snapshot) -> String {
    to_pretty(&Profile::from_snapshot(snapshot))
}

/// The profile as pretty JSON with a final newline. Arrays inside arrays (the histograms'
/// `[index, count]` pairs) stay on one line each.
pub(crate) fn to_pretty(profile: &Profile) -> String {
    let mut out = Vec::with_capacity(16 * 1024);
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
    use crate::test_data::synthetic_snapshot;

    fn golden_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/profile-v1.json")
    }

    /// Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it.
    #[test]
    fn json_of_a_synthetic_snapshot_matches_the_golden_file() {
        let json = to_pretty(&Profile::with_clock(&synthetic_snapshot(), "tsc"));
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
        let snapshot = synthetic_snapshot();
        let v: Value = serde_json::from_str(&to_pretty(&Profile::with_clock(&snapshot, "tsc"))).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["created_at"], "2026-11-21T17:19:00Z");
        assert_eq!(v["wall_ns"], 900_000_000);
        assert_eq!(v["profiled_ns"], 820_000_000);
        assert_eq!(v["threads"], 2);
        assert_eq!(v["clock"], "tsc");
        // Top-level fields, in the documented order.
        let text = to_pretty(&Profile::with_clock(&snapshot, "tsc"));
        let fields = [
            "schema_version",
            "created_at",
            "wall_ns",
            "profiled_ns",
            "threads",
            "clock",
            "stages",
            "edges",
            "tree",
            "counters",
            "memory",
            "bottlenecks",
            "recommendations",
        ];
        let positions: Vec<usize> = fields.iter().map(|f| text.find(&format!("\n  \"{f}\": ")).unwrap()).collect();
        assert!(positions.is_sorted(), "{positions:?}");
        assert_eq!(v.as_object().unwrap().len(), fields.len());

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
        assert!((parse["impact"].as_f64().unwrap() - 300.0 / 820.0).abs() < 1e-12);
        let p50 = parse["p50_ns"].as_u64().unwrap() as f64;
        assert!((p50 - 200_000.0).abs() / 200_000.0 < 0.02, "{p50}");
        let p99 = parse["p99_ns"].as_u64().unwrap() as f64;
        assert!((p99 - 1_000_000.0).abs() / 1_000_000.0 < 0.02, "{p99}");
        assert_eq!(parse["histogram"]["buckets"].as_array().unwrap().len(), 3);
        assert_eq!(parse["histogram"]["buckets"][0][1], 900);

        let fetch = &v["stages"][2];
        assert_eq!((fetch["is_async"].as_bool(), fetch["busy_ns"].as_u64()), (Some(true), Some(120_000_000)));
        assert_eq!(fetch["severity"], "medium");

        assert_eq!(
            v["edges"][0],
            serde_json::json!({"parent": null, "child": "main", "calls": 1, "total_ns": 820_000_000})
        );
        assert_eq!(
            v["edges"][1],
            serde_json::json!({"parent": "main", "child": "app::pipeline::parse_document", "calls": 1000, "total_ns": 300_000_000})
        );
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
                ("app::net::fetch", "medium")
            ]
        );
        assert_eq!(v["recommendations"], serde_json::json!([]));
    }

    #[test]
    fn profiles_read_back_and_histograms_rebuild_exactly() {
        let snapshot = synthetic_snapshot();
        let profile = Profile::with_clock(&snapshot, "instant");
        let back: Profile = serde_json::from_str(&to_pretty(&profile)).unwrap();
        assert_eq!(back, profile);
        for stage in &back.stages {
            let original = &snapshot.stage(&stage.name).unwrap().histogram;
            assert_eq!(&stage.histogram.to_histogram().unwrap(), original, "{}", stage.name);
        }
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
        let mut snapshot = synthetic_snapshot();
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
    }
}
