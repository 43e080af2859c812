//! The whole analysis of a snapshot: per-stage statistics with severities, bottlenecks with
//! where their time goes, trends, recommendations and the profiler's overhead.
//!
//! [`analyze`] is a pure function of a [`Snapshot`] and [`ReportOptions`], so every rule can be
//! tested on synthetic data, and a saved profile (rebuilt with
//! [`Profile::to_snapshot`](crate::json::Profile::to_snapshot)) gives the same analysis as the
//! run that wrote it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use profiler_core::{Snapshot, StageSnapshot, TreeNode};

use crate::options::ReportOptions;
use crate::overhead::{self, OverheadReport};
use crate::recommend::{self, Recommendation};
use crate::severity::{self, Severity, SeverityReason, StageSample};
use crate::stats::share;
use crate::trend::{self, Trend};

/// One stage with everything the reports show for it.
///
/// Times are compensated for the profiler's cost when [`Analysis::compensated`] is set (see
/// [`crate::overhead`]); minimum, maximum, percentiles and standard deviation are always as
/// measured.
#[derive(Clone, Debug, PartialEq)]
pub struct StageAnalysis {
    /// Index of the stage in [`Snapshot::stages`].
    pub index: usize,
    /// The stage name.
    pub name: String,
    /// Whether the stage is an instrumented future.
    pub is_async: bool,
    /// Every call, recursive ones included.
    pub calls: u64,
    /// Inclusive time.
    pub total_ns: u64,
    /// Exclusive time.
    pub self_ns: u64,
    /// `async` stages: time inside polls (0 for others).
    pub busy_ns: u64,
    /// Shortest call.
    pub min_ns: u64,
    /// Longest call.
    pub max_ns: u64,
    /// Mean call duration.
    pub mean_ns: f64,
    /// Standard deviation of call durations (from the histogram).
    pub stdev_ns: f64,
    /// Coefficient of variation: `stdev_ns / mean_ns` as measured (0 without calls).
    pub cv: f64,
    /// Median call duration.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Threads that called the stage.
    pub threads: u32,
    /// The time that measures the stage's weight: `total_ns`, or `busy_ns` for `async` stages.
    pub impact_ns: u64,
    /// `impact_ns` as a share of [`Analysis::profiled_ns`].
    pub impact: f64,
    /// The stronger of the impact and statistical severities (see [`crate::severity`]).
    pub severity: Severity,
    /// The rule that gave [`severity`](Self::severity).
    pub severity_reason: SeverityReason,
    /// Whether the mean is too close to the profiler's own cost to be trusted
    /// ([`overhead::is_unreliable`]).
    pub unreliable: bool,
    /// Whether its calls nest in each other somewhere in the call tree (recursion): its mean,
    /// spread and trend then mix calls of different depths.
    pub recursive: bool,
}

/// A part of a stage's time: its own body or a callee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The callee's name.
    pub stage: String,
    /// Time of the calls to it made directly from the stage (busy time for `async` callees).
    pub time_ns: u64,
    /// `time_ns` as a share of the stage's impact time.
    pub share: f64,
}

/// A stage of severity medium or worse, with where its time goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Bottleneck {
    /// The stage name.
    pub stage: String,
    /// Its severity.
    pub severity: Severity,
    /// The rule that gave it.
    pub reason: SeverityReason,
    /// Its share of profiled time.
    pub impact: f64,
    /// Its impact time (inclusive, or busy for `async` stages).
    pub impact_ns: u64,
    /// Its inclusive time.
    pub total_ns: u64,
    /// Its exclusive time: the part spent in its own body.
    pub self_ns: u64,
    /// `self_ns` as a share of `impact_ns`.
    pub self_share: f64,
    /// Its direct callees, largest first. With mutual recursion the parts may overlap.
    pub children: Vec<Part>,
}

/// Everything [`analyze`] finds.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// Wall time of the run.
    pub wall_ns: u64,
    /// Profiled time: the sum of every stage's self time (compensated when
    /// [`compensated`](Self::compensated)).
    pub profiled_ns: u64,
    /// Every stage, by total time descending, then by name.
    pub stages: Vec<StageAnalysis>,
    /// The call tree whose times the analysis used (compensated when
    /// [`compensated`](Self::compensated)); stage indices as in the snapshot.
    pub tree: Vec<TreeNode>,
    /// Stages of severity medium or worse, by impact descending, then by name.
    pub bottlenecks: Vec<Bottleneck>,
    /// Stages with enough calls in time order, degrading first (see [`crate::trend`]).
    pub trends: Vec<Trend>,
    /// Recommendations with a confidence of at least [`min_confidence`](Self::min_confidence),
    /// most important first (see [`crate::recommend`]).
    pub recommendations: Vec<Recommendation>,
    /// How many recommendations fell below [`min_confidence`](Self::min_confidence).
    pub hidden_recommendations: usize,
    /// What the profiler itself cost.
    pub overhead: OverheadReport,
    /// Cores assumed for the "spread over the cores" bounds.
    pub cores: usize,
    /// The confidence filter applied to recommendations.
    pub min_confidence: f64,
    /// Whether times were compensated for the profiler's cost.
    pub compensated: bool,
    /// Time inside stages that cannot have been spent computing, as measured: the profiled time
    /// beyond all the CPU time the process used ([`Snapshot::cpu_ns`]). A lower bound on the
    /// waiting (I/O, locks, sleeps, channels) inside stages; `None` when the CPU time is unknown.
    pub waiting_ns: Option<u64>,
    /// Position in `stages` of each stage index of the snapshot.
    by_index: Vec<Option<usize>>,
    /// Position in `stages` of each stage name.
    by_name: HashMap<String, usize>,
}

impl Analysis {
    /// The analysis of the stage with this index in [`Snapshot::stages`].
    #[must_use]
    pub fn stage_at(&self, index: usize) -> Option<&StageAnalysis> {
        self.stages.get((*self.by_index.get(index)?)?)
    }

    /// The analysis of the stage with this name.
    #[must_use]
    pub fn stage(&self, name: &str) -> Option<&StageAnalysis> {
        self.stages.get(*self.by_name.get(name)?)
    }
}

/// Analyses a snapshot: see [`Analysis`] and the modules it points to.
///
/// ```
/// # let snapshot = profiler_core::snapshot();
/// let options = profiler_report::ReportOptions { cores: Some(4), ..Default::default() };
/// let analysis = profiler_report::analyze(&snapshot, &options);
/// for bottleneck in &analysis.bottlenecks {
///     println!("{} is {}: {}", bottleneck.stage, bottleneck.severity, bottleneck.reason);
/// }
/// ```
#[must_use]
pub fn analyze(snapshot: &Snapshot, options: &ReportOptions) -> Analysis {
    let overhead = overhead::report(snapshot, options.compensate);
    let compensated_copy = overhead.compensated.then(|| overhead::compensate(snapshot));
    let data = compensated_copy.as_ref().unwrap_or(snapshot);
    let stages = stage_analyses(snapshot, data);
    let bottlenecks = bottlenecks(data, &stages);
    let mut by_index = vec![None; snapshot.stages.len()];
    let mut by_name = HashMap::with_capacity(stages.len());
    for (position, stage) in stages.iter().enumerate() {
        by_index[stage.index] = Some(position);
        by_name.insert(stage.name.clone(), position);
    }
    // A recursive stage's calls fill its segments depth by depth, not in time order.
    let trends = trend::trends(&snapshot.stages)
        .into_iter()
        .filter(|t| by_name.get(&t.stage).is_none_or(|&i: &usize| !stages[i].recursive))
        .collect();
    let mut analysis = Analysis {
        wall_ns: snapshot.wall_ns,
        profiled_ns: data.profiled_ns(),
        stages,
        tree: data.tree.clone(),
        bottlenecks,
        trends,
        recommendations: Vec::new(),
        hidden_recommendations: 0,
        overhead,
        cores: options.cores(),
        min_confidence: options.min_confidence,
        compensated: compensated_copy.is_some(),
        waiting_ns: snapshot.cpu_ns.map(|cpu| snapshot.profiled_ns().saturating_sub(cpu)),
        by_index,
        by_name,
    };
    let all = recommend::recommendations(snapshot, &analysis);
    let total = all.len();
    analysis.recommendations = all.into_iter().filter(|r| r.confidence >= options.min_confidence).collect();
    analysis.hidden_recommendations = total - analysis.recommendations.len();
    analysis
}

/// Per-stage statistics of `data` (compensated or not); percentiles and spread from `measured`.
fn stage_analyses(measured: &Snapshot, data: &Snapshot) -> Vec<StageAnalysis> {
    let profiled_ns = data.profiled_ns();
    let mut recursive = vec![false; data.stages.len()];
    for (node, is_recursive) in data.tree.iter().zip(profiler_core::recursive_nodes(&data.tree)) {
        if let Some(stage) = recursive.get_mut(node.stage) {
            *stage |= is_recursive;
        }
    }
    let samples: Vec<StageSample> = data
        .stages
        .iter()
        .zip(&measured.stages)
        .zip(&recursive)
        .map(|((stage, raw), &recursive)| StageSample {
            calls: stage.calls,
            mean_ns: stage.mean_ns(),
            cv: cv(raw),
            comparable: !recursive && !overhead::is_unreliable(raw.mean_ns(), &measured.overhead),
        })
        .collect();
    let statistical = severity::statistical(&samples);
    let mut stages: Vec<StageAnalysis> = data
        .stages
        .iter()
        .zip(&measured.stages)
        .zip(statistical)
        .enumerate()
        .map(|(index, ((stage, raw), statistical))| {
            let impact_ns = stage.impact_ns();
            let impact = share(impact_ns, profiled_ns);
            let by_impact = (Severity::of_impact(impact_ns, profiled_ns), SeverityReason::Impact { share: impact });
            let (severity, severity_reason) = severity::stronger(by_impact, statistical);
            StageAnalysis {
                index,
                name: stage.name.clone(),
                is_async: stage.is_async,
                calls: stage.calls,
                total_ns: stage.total_ns,
                self_ns: stage.self_ns,
                busy_ns: stage.busy_ns,
                min_ns: raw.min_ns,
                max_ns: raw.max_ns,
                mean_ns: stage.mean_ns(),
                stdev_ns: raw.stdev_ns(),
                cv: cv(raw),
                p50_ns: raw.percentile_ns(0.50),
                p90_ns: raw.percentile_ns(0.90),
                p95_ns: raw.percentile_ns(0.95),
                p99_ns: raw.percentile_ns(0.99),
                threads: stage.threads,
                impact_ns,
                impact,
                severity,
                severity_reason,
                unreliable: raw.calls > 0 && overhead::is_unreliable(raw.mean_ns(), &measured.overhead),
                recursive: recursive[index],
            }
        })
        .collect();
    stages.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| a.name.cmp(&b.name)));
    stages
}

/// Standard deviation over mean, as measured; 0 without calls.
fn cv(stage: &StageSnapshot) -> f64 {
    let mean = stage.mean_ns();
    if mean > 0.0 { stage.stdev_ns() / mean } else { 0.0 }
}

/// The stages of severity medium or worse, by impact descending, then by name.
fn bottlenecks(data: &Snapshot, stages: &[StageAnalysis]) -> Vec<Bottleneck> {
    let mut found: Vec<&StageAnalysis> = stages.iter().filter(|s| s.severity >= Severity::Medium).collect();
    found.sort_by_key(|s| (Reverse(s.impact_ns), s.name.as_str()));
    let callees = callee_times(&data.tree, &data.stages);
    found
        .into_iter()
        .map(|s| Bottleneck {
            stage: s.name.clone(),
            severity: s.severity,
            reason: s.severity_reason,
            impact: s.impact,
            impact_ns: s.impact_ns,
            total_ns: s.total_ns,
            self_ns: s.self_ns,
            self_share: share(s.self_ns, s.impact_ns),
            children: parts(callees.get(&s.index), &data.stages, s.impact_ns),
        })
        .collect()
}

/// Where the time of stage `stage` goes besides its body: the time of the calls it makes
/// directly to each other stage (outermost calls of that stage only, as in its total), as a
/// share of `whole`, largest first, then by name.
pub(crate) fn children(tree: &[TreeNode], stages: &[StageSnapshot], stage: usize, whole: u64) -> Vec<Part> {
    parts(callee_times(tree, stages).get(&stage), stages, whole)
}

/// For every calling stage, the time of its direct calls to each other stage (busy time for
/// `async` callees; only calls not made inside another call of the same callee), in one pass.
fn callee_times(tree: &[TreeNode], stages: &[StageSnapshot]) -> HashMap<usize, BTreeMap<usize, u64>> {
    let mut times: HashMap<usize, BTreeMap<usize, u64>> = HashMap::new();
    let outermost = outermost(tree);
    for (i, node) in tree.iter().enumerate() {
        let Some(parent) = node.parent.filter(|&p| p < i).map(|p| &tree[p]) else { continue };
        if parent.stage == node.stage || !outermost[i] {
            continue;
        }
        let is_async = stages.get(node.stage).is_some_and(|s| s.is_async);
        let time = if is_async { node.busy_ns } else { node.total_ns };
        let into = times.entry(parent.stage).or_default().entry(node.stage).or_default();
        *into = into.saturating_add(time);
    }
    times
}

/// Callee times as [`Part`]s of `whole`, largest first, then by name.
fn parts(times: Option<&BTreeMap<usize, u64>>, stages: &[StageSnapshot], whole: u64) -> Vec<Part> {
    let mut parts: Vec<Part> = times
        .into_iter()
        .flatten()
        .filter_map(|(&child, &time_ns)| {
            let name = stages.get(child)?.name.clone();
            Some(Part { stage: name, time_ns, share: share(time_ns, whole) })
        })
        .collect();
    parts.sort_by(|a, b| b.time_ns.cmp(&a.time_ns).then_with(|| a.stage.cmp(&b.stage)));
    parts
}

/// For every node of the tree, whether it is an *outermost* call of its stage: no strict
/// ancestor belongs to the same stage (the complement of [`profiler_core::recursive_nodes`]).
pub(crate) fn outermost(tree: &[TreeNode]) -> Vec<bool> {
    profiler_core::recursive_nodes(tree).into_iter().map(|recursive| !recursive).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::{full_snapshot, test_options};

    #[test]
    fn stages_sort_by_total_time_and_carry_the_stronger_severity() {
        let snapshot = full_snapshot();
        let analysis = analyze(&snapshot, &test_options());
        let rows: Vec<(&str, Severity, &str)> =
            analysis.stages.iter().map(|s| (s.name.as_str(), s.severity, s.severity_reason.rule())).collect();
        assert_eq!(
            rows,
            [
                ("main", Severity::Critical, "impact"),
                ("app::pipeline::parse_document", Severity::High, "impact"),
                // 14.6 % of profiled time is medium, but its 10 ms mean stands out above the
                // 95th percentile of the stage means (9.30 ms; `tiny`, measured mostly as the
                // profiler's cost, does not count): one step up by statistics, to high.
                ("app::net::fetch", Severity::High, "mean_above_p95"),
                ("render", Severity::Medium, "impact"),
                ("tiny", Severity::Low, "impact"),
            ]
        );
        for s in &analysis.stages {
            assert_eq!(snapshot.stages[s.index].name, s.name);
            assert!((0.0..=1.0).contains(&s.impact), "{}: {}", s.name, s.impact);
        }
        let fetch = analysis.stage("app::net::fetch").unwrap();
        let SeverityReason::MeanAboveP95 { mean_ns, p95_of_means_ns } = fetch.severity_reason else {
            panic!("{:?}", fetch.severity_reason)
        };
        assert!((mean_ns - 10e6).abs() < 1e-6 && (p95_of_means_ns - 9.3e6).abs() < 1e-3, "{p95_of_means_ns}");
        assert!(analysis.stage("tiny").unwrap().unreliable);
        assert!(!analysis.stage("render").unwrap().unreliable);
    }

    #[test]
    fn bottlenecks_are_medium_or_worse_by_impact_with_where_the_time_goes() {
        let analysis = analyze(&full_snapshot(), &test_options());
        let names: Vec<&str> = analysis.bottlenecks.iter().map(|b| b.stage.as_str()).collect();
        // `app::net::fetch` is async: its impact is its busy time, below `render`'s total.
        assert_eq!(names, ["main", "app::pipeline::parse_document", "render", "app::net::fetch"]);
        let main = &analysis.bottlenecks[0];
        assert!((main.self_share - 400.0 / 820.0).abs() < 1e-12);
        let parts: Vec<(&str, u64)> = main.children.iter().map(|p| (p.stage.as_str(), p.time_ns)).collect();
        // The async callee counts with its busy time, not its wall time.
        assert_eq!(parts, [("app::pipeline::parse_document", 300_000_000), ("app::net::fetch", 120_000_000)]);
        assert!((main.self_share + main.children.iter().map(|p| p.share).sum::<f64>() - 1.0).abs() < 1e-12);
        let render = analysis.bottlenecks.iter().find(|b| b.stage == "render").unwrap();
        assert!(render.children.is_empty());
        assert!((render.self_share - 1.0).abs() < 1e-12);
    }

    #[test]
    fn recursive_calls_are_not_counted_as_callees() {
        // a → a → b: `a`'s callees are `b` only; the inner `a` is part of `a`'s own time.
        let mut snapshot = full_snapshot();
        snapshot.tree = vec![
            TreeNode { stage: 0, parent: None, calls: 1, total_ns: 100, self_ns: 40, busy_ns: 0 },
            TreeNode { stage: 0, parent: Some(0), calls: 1, total_ns: 60, self_ns: 30, busy_ns: 0 },
            TreeNode { stage: 2, parent: Some(1), calls: 1, total_ns: 30, self_ns: 30, busy_ns: 0 },
        ];
        let parts = children(&snapshot.tree, &snapshot.stages, 0, 100);
        assert_eq!(parts, [Part { stage: "render".to_owned(), time_ns: 30, share: 0.3 }]);
        assert_eq!(outermost(&snapshot.tree), [true, false, true]);
    }

    #[test]
    fn outermost_calls_follow_the_path_not_the_order() {
        let node = |stage, parent| TreeNode { stage, parent, calls: 1, total_ns: 1, self_ns: 1, busy_ns: 0 };
        // a → b → a, and a second root b whose child a comes after the recursive a.
        let tree = vec![node(0, None), node(1, Some(0)), node(1, None), node(0, Some(1)), node(0, Some(2))];
        assert_eq!(outermost(&tree), [true, true, true, false, true]);
        // A malformed parent link (not before the node) makes a root, and the walk ends.
        assert_eq!(outermost(&[node(0, Some(0)), node(0, Some(7))]), [true, true]);
        // A 100,000-deep chain of one stage: one pass.
        let chain: Vec<TreeNode> = (0..100_000usize).map(|i| node(0, i.checked_sub(1))).collect();
        let flags = outermost(&chain);
        assert!(flags[0] && flags[1..].iter().all(|&f| !f));
    }

    #[test]
    fn compensation_changes_the_times_the_analysis_uses() {
        let snapshot = full_snapshot();
        let plain = analyze(&snapshot, &test_options());
        let compensated = analyze(&snapshot, &ReportOptions { compensate: true, ..test_options() });
        assert!(!plain.compensated && compensated.compensated && compensated.overhead.compensated);
        assert!(compensated.profiled_ns < plain.profiled_ns);
        let tiny = (plain.stage("tiny").unwrap(), compensated.stage("tiny").unwrap());
        assert!((tiny.1.mean_ns - (tiny.0.mean_ns - 9.0)).abs() < 1e-9);
        assert_eq!(tiny.1.p50_ns, tiny.0.p50_ns, "percentiles stay as measured");
        assert_eq!(compensated.profiled_ns, compensated.stages.iter().map(|s| s.self_ns).sum::<u64>());
    }

    #[test]
    fn callee_times_near_u64_max_saturate() {
        let mut snapshot = full_snapshot();
        // A second path main → parse, as a merged or hand-made profile can have.
        let again = TreeNode { total_ns: u64::MAX, ..snapshot.tree[1].clone() };
        snapshot.tree.push(again);
        let times = callee_times(&snapshot.tree, &snapshot.stages);
        assert_eq!(times[&0][&1], u64::MAX);
        let main = children(&snapshot.tree, &snapshot.stages, 0, snapshot.profiled_ns());
        assert_eq!((main[0].stage.as_str(), main[0].time_ns), ("app::pipeline::parse_document", u64::MAX));
    }

    #[test]
    fn an_empty_snapshot_analyses_to_nothing() {
        let mut snapshot = full_snapshot();
        snapshot.stages.clear();
        snapshot.tree.clear();
        let analysis = analyze(&snapshot, &test_options());
        assert!(analysis.stages.is_empty() && analysis.bottlenecks.is_empty());
        assert!(analysis.trends.is_empty() && analysis.recommendations.is_empty());
        assert_eq!((analysis.profiled_ns, analysis.overhead.estimated_ns), (0, 0));
    }

    #[test]
    fn the_confidence_filter_hides_and_counts() {
        let snapshot = full_snapshot();
        let all = analyze(&snapshot, &ReportOptions { min_confidence: 0.0, ..test_options() });
        let strict = analyze(&snapshot, &ReportOptions { min_confidence: 0.85, ..test_options() });
        assert_eq!(all.hidden_recommendations, 0);
        assert!(strict.recommendations.iter().all(|r| r.confidence >= 0.85));
        assert_eq!(strict.recommendations.len() + strict.hidden_recommendations, all.recommendations.len());
        assert!(strict.hidden_recommendations > 0);
    }
}
