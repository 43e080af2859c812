//! The recommendation engine: what to do about what the analysis found.
//!
//! Each rule looks at one stage and, when it fires, says what the issue is, what to do, what
//! it would gain (a number where one can be derived: [`Recommendation::time_saved_ns`] and
//! [`Recommendation::expected_speedup`]), how much it matters (its priority) and how sure the
//! rule is (its confidence, from 0 to 1). [`analyze`](crate::analyze) then drops the
//! recommendations below the minimum confidence (0.6 unless configured).
//!
//! | rule             | fires when                                                                 | confidence |
//! |------------------|-----------------------------------------------------------------------------|------------|
//! | `dominant_stage` | impact above 20 % of profiled time and its own body (self time) above 10 %  | 0.9 (0.7 when at least half the time inside stages ran on no CPU; 0.5 if the stage is unreliable or its body is mostly the profiler's cost of the calls it makes) |
//! | `high_variance`  | at least 10 calls, stdev / mean above 1, impact at least 1 %, not recursive, not unreliable | 0.75 |
//! | `degrading_trend`| a degrading trend (see [`crate::trend`]) and impact at least 1 %             | 0.8 (0.65 with fewer than 32 calls in a window) |
//! | `cheap_hot_stage`| at least 10,000 calls and a mean below 10 × the profiler's cost per call (below 1 µs when not calibrated) | 0.7 (0.6 when not calibrated) |
//!
//! **Gains.** All are shares of *profiled time*, taken as the program's work, and the report
//! says "profiled work": a program that spends much of its wall time outside instrumented
//! stages, or waiting inside them, gains less.
//!
//! - `dominant_stage`: Amdahl's law on the stage's own body, `p` = its self time / profiled
//!   time, profiled time taken as the program's run time: the speed-up is at most
//!   `1 / ((1 − p) + p / n)` when the body is made `n`× faster. The report gives `n` = 2,
//!   `n` = cores / the threads the stage runs on (work spread over all the cores; only when it
//!   runs on fewer threads than there are cores) and the limit `1 / (1 − p)`. The time saved is
//!   that of the cores case when it applies, else of the 2× case.
//! - `high_variance`: the time saved if every call slower than the median took the median time
//!   (from the histogram).
//! - `degrading_trend`: the time saved if the calls of the late window were as fast as the early
//!   ones.
//! - `cheap_hot_stage`: the profiler's own cost for the stage, `per_call_ns` × calls (none when
//!   not calibrated).
//!
//! `expected_speedup` is `profiled / (profiled − saved)`.
//!
//! **Priority** follows the time saved as a share of profiled time: above 20 % (a 1.25× faster
//! program) critical, above 10 % high, above 3 % medium, else low; where no time saved is known,
//! the stage's severity. A heavy stage whose fix gains little is not an urgent recommendation.
//! Recommendations are sorted by priority, then confidence, then time saved, all descending.

use std::cell::OnceCell;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use profiler_core::{Snapshot, bucket_value};

use crate::analysis::{Analysis, StageAnalysis, children};
use crate::severity::{MIN_CALLS_FOR_STATISTICS, Severity};
use crate::stats::share;
use crate::trend::{Direction, Trend};
use crate::units::{format_change, format_factor, format_ns, format_ns_f, format_percent};

/// The dominant-stage rule needs an impact above this share of profiled time...
pub const DOMINANT_IMPACT_ABOVE: f64 = 0.2;
/// ... and a self time above this share of profiled time.
pub const DOMINANT_SELF_ABOVE: f64 = 0.1;
/// When at least this share of the time inside stages ran on no CPU, `dominant_stage` puts
/// the waits first and is less sure (0.7) that its body computes.
pub const MOSTLY_WAITING: f64 = 0.5;
/// The high-variance rule needs a coefficient of variation above this.
pub const VARIANCE_CV_ABOVE: f64 = 1.0;
/// The variance and trend rules skip stages below this share of profiled time.
pub const MIN_IMPACT: f64 = 0.01;
/// The trend rule is more confident when both windows hold at least this many calls.
pub const TREND_CONFIDENT_CALLS: u64 = 32;
/// The cheap-stage rule needs at least this many calls.
pub const CHEAP_MIN_CALLS: u64 = 10_000;
/// ... and a mean below this multiple of the profiler's cost per call.
pub const CHEAP_MEAN_FACTOR: f64 = 10.0;
/// ... or, when the profiler's cost was not calibrated, a mean below this.
pub const CHEAP_MEAN_UNCALIBRATED_NS: f64 = 1000.0;

/// Which rule produced a recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A stage whose own body takes a large share of profiled time.
    DominantStage,
    /// A stage whose calls vary widely.
    HighVariance,
    /// A stage whose calls got slower during the run.
    DegradingTrend,
    /// A very cheap stage called very often.
    CheapHotStage,
}

impl Rule {
    /// The rule's name as in JSON: `dominant_stage`, `high_variance`, `degrading_trend` or
    /// `cheap_hot_stage`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DominantStage => "dominant_stage",
            Self::HighVariance => "high_variance",
            Self::DegradingTrend => "degrading_trend",
            Self::CheapHotStage => "cheap_hot_stage",
        }
    }
}

/// Amdahl's-law bounds on the speed-up of the profiled work when one part of it gets faster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Amdahl {
    /// The part's share of profiled time, `p`.
    pub share: f64,
    /// Speed-up if the part were 2× faster: `1 / ((1 − p) + p / 2)`.
    pub speedup_2x: f64,
    /// Cores assumed.
    pub cores: usize,
    /// Speed-up if the part, now on `threads` threads, were spread over all the cores
    /// (`n = cores / threads`); `None` when it already runs on as many threads as there are
    /// cores, or there is one core.
    pub speedup_cores: Option<f64>,
    /// Speed-up if the part took no time at all: `1 / (1 − p)`; `None` (unbounded) when `p` = 1.
    pub speedup_limit: Option<f64>,
}

impl Amdahl {
    /// The bounds for a part of share `share` on `cores` cores, already running on `threads`.
    #[must_use]
    pub fn new(share: f64, cores: usize, threads: u32) -> Self {
        let p = share.clamp(0.0, 1.0);
        let speedup = |n: f64| 1.0 / ((1.0 - p) + p / n);
        Self {
            share: p,
            speedup_2x: speedup(2.0),
            cores,
            speedup_cores: (cores > 1 && (threads as usize) < cores)
                .then(|| speedup(cores as f64 / f64::from(threads.max(1)))),
            speedup_limit: (p < 1.0).then(|| 1.0 / (1.0 - p)),
        }
    }
}

/// One recommendation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The stage it is about.
    pub stage: String,
    /// The rule that produced it.
    pub rule: Rule,
    /// What is wrong, in one sentence.
    pub issue: String,
    /// What to do.
    pub action: String,
    /// What it would gain, in words.
    pub expected_improvement: String,
    /// Profiled time the action would save, where it can be estimated.
    pub time_saved_ns: Option<u64>,
    /// `profiled / (profiled − time_saved_ns)`: the speed-up of the profiled work (`None` without
    /// an estimate, or when it would save all of it).
    pub expected_speedup: Option<f64>,
    /// Amdahl's-law bounds (`dominant_stage` only).
    pub amdahl: Option<Amdahl>,
    /// How much it matters: `critical`, `high`, `medium` or `low`.
    pub priority: Severity,
    /// How sure the rule is, from 0 to 1.
    pub confidence: f64,
}

/// Every recommendation for an analysis of `measured` (the snapshot as recorded), before the
/// confidence filter, most important first.
#[must_use]
pub fn recommendations(measured: &Snapshot, analysis: &Analysis) -> Vec<Recommendation> {
    let mut found = Vec::new();
    let body_costs = OnceCell::new();
    for stage in &analysis.stages {
        found.extend(dominant_stage(measured, analysis, stage, &body_costs));
        found.extend(high_variance(measured, analysis, stage));
        found.extend(cheap_hot_stage(analysis, stage));
    }
    for trend in &analysis.trends {
        if let Some(stage) = analysis.stage(&trend.stage) {
            found.extend(degrading_trend(analysis, stage, trend));
        }
    }
    found.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then_with(|| b.confidence.total_cmp(&a.confidence))
            .then_with(|| b.time_saved_ns.cmp(&a.time_saved_ns))
            .then_with(|| a.stage.cmp(&b.stage))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    found
}

/// The priority of a recommendation saving `saved_ns` of `profiled_ns` (see the [module
/// documentation](self)), compared in integers.
fn gain_priority(saved_ns: u64, profiled_ns: u64) -> Severity {
    let (saved, profiled) = (u128::from(saved_ns), u128::from(profiled_ns));
    if 5 * saved > profiled {
        Severity::Critical
    } else if 10 * saved > profiled {
        Severity::High
    } else if 100 * saved > 3 * profiled {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Fills in the derived fields of a recommendation.
struct Draft<'a> {
    analysis: &'a Analysis,
    stage: &'a StageAnalysis,
    rule: Rule,
    confidence: f64,
}

impl Draft<'_> {
    fn finish(self, issue: String, action: String, improvement: String, saved: Option<u64>) -> Recommendation {
        let profiled = self.analysis.profiled_ns;
        let saved = saved.map(|s| s.min(profiled));
        Recommendation {
            stage: self.stage.name.clone(),
            rule: self.rule,
            issue,
            action,
            expected_improvement: improvement,
            time_saved_ns: saved,
            expected_speedup: saved.filter(|&s| s < profiled).map(|s| profiled as f64 / (profiled - s) as f64),
            amdahl: None,
            // What following it would gain; the stage's weight only where no gain is known.
            priority: saved.map_or(self.stage.severity, |saved| gain_priority(saved, profiled)),
            confidence: self.confidence,
        }
    }
}

fn dominant_stage(
    measured: &Snapshot,
    analysis: &Analysis,
    stage: &StageAnalysis,
    body_costs: &OnceCell<Vec<u64>>,
) -> Option<Recommendation> {
    let profiled = analysis.profiled_ns;
    let body_share = share(stage.self_ns, profiled);
    if stage.impact <= DOMINANT_IMPACT_ABOVE || body_share <= DOMINANT_SELF_ABOVE {
        return None;
    }
    // Where its time goes: its body, then its largest callees (known for every bottleneck).
    let callees = match analysis.bottlenecks.iter().find(|b| b.stage == stage.name) {
        Some(bottleneck) => bottleneck.children.clone(),
        None => children(&analysis.tree, &measured.stages, stage.index, stage.impact_ns),
    };
    let mut parts = vec![format!("{} in its own body", format_percent(share(stage.self_ns, stage.impact_ns)))];
    parts.extend(callees.iter().take(2).map(|p| format!("{} in `{}`", format_percent(p.share), p.stage)));
    if callees.len() > 2 {
        parts.push(format!("the rest in {} more", callees.len() - 2));
    }
    let issue = format!(
        "takes {} of profiled time ({}): {}",
        format_percent(stage.impact),
        format_ns(stage.impact_ns),
        parts.join(", ")
    );
    let amdahl = Amdahl::new(body_share, analysis.cores, stage.threads);
    let spread = match amdahl.speedup_cores {
        Some(_) => format!(", or spread independent work over the {} cores", analysis.cores),
        None if stage.threads > 1 => format!(" (it is already called from {} threads)", stage.threads),
        None => String::new(),
    };
    // At least this share of the time inside stages ran on no CPU: the body may well be waiting.
    let waiting = analysis.waiting_ns.map_or(0.0, |w| share(w, measured.profiled_ns()));
    let action = if waiting >= MOSTLY_WAITING {
        format!(
            "at least {} of the time inside stages was waiting, not computing: if its own body \
             ({}, {} of profiled time) waits (I/O, locks, sleeps, channels), overlap or remove the \
             waits; if it computes, split it into instrumented stages to see which part costs, and \
             make that part faster{spread}",
            format_percent(waiting),
            format_ns(stage.self_ns),
            format_percent(body_share),
        )
    } else {
        format!(
            "work on its own body ({}, {} of profiled time): split it into instrumented stages to \
             see which part costs, and make that part faster{spread}; if it waits (I/O, locks, \
             sleeps, channels), overlap or remove the waits instead",
            format_ns(stage.self_ns),
            format_percent(body_share),
        )
    };
    let mut improvement =
        format!("profiled work at most {} faster if its body were 2× faster", format_factor(amdahl.speedup_2x));
    let spread_factor = analysis.cores as f64 / f64::from(stage.threads.max(1));
    match amdahl.speedup_cores {
        // Spreading over twice the threads is the 2× case.
        Some(_) if (spread_factor - 2.0).abs() < 1e-9 => {
            let _ = write!(improvement, " or spread over {} cores", analysis.cores);
        }
        Some(cores) => {
            let _ = write!(improvement, ", {} spread over {} cores", format_factor(cores), analysis.cores);
        }
        None => {}
    }
    match amdahl.speedup_limit {
        Some(limit) => {
            let _ = write!(improvement, ", {} if it took no time", format_factor(limit));
        }
        None => improvement.push_str(", without bound if it took no time"),
    }
    let saved = match amdahl.speedup_cores {
        Some(_) => stage.self_ns as f64 * (1.0 - f64::from(stage.threads.max(1)) / analysis.cores as f64),
        None => stage.self_ns as f64 / 2.0,
    };
    // A body whose time is mostly the profiler's cost of the calls it makes is no finding.
    let overhead_bound =
        stage.unreliable || 2 * profiler_cost_in_body(measured, analysis, stage, body_costs) > stage.self_ns;
    // Mostly waiting: the gains below assume its time is computing, which may not be so.
    let confidence = if overhead_bound {
        0.5
    } else if waiting >= MOSTLY_WAITING {
        0.7
    } else {
        0.9
    };
    let mut recommendation = Draft { analysis, stage, rule: Rule::DominantStage, confidence }.finish(
        issue,
        action,
        improvement,
        Some(saved.round() as u64),
    );
    recommendation.amdahl = Some(amdahl);
    Some(recommendation)
}

/// The profiler's estimated cost inside `stage`'s self time (its own stamps and the calls it
/// makes to instrumented stages): what compensation would take from it. 0 when already
/// compensated or not calibrated. `body_costs` holds every stage's, by snapshot index,
/// computed at the first call: compensating copies the whole snapshot.
fn profiler_cost_in_body(
    measured: &Snapshot,
    analysis: &Analysis,
    stage: &StageAnalysis,
    body_costs: &OnceCell<Vec<u64>>,
) -> u64 {
    if analysis.compensated || !analysis.overhead.calibrated {
        return 0;
    }
    let costs = body_costs.get_or_init(|| {
        let compensated = crate::overhead::compensate(measured);
        measured
            .stages
            .iter()
            .zip(&compensated.stages)
            .map(|(raw, net)| raw.self_ns.saturating_sub(net.self_ns))
            .collect()
    });
    costs.get(stage.index).copied().unwrap_or(0)
}

fn high_variance(measured: &Snapshot, analysis: &Analysis, stage: &StageAnalysis) -> Option<Recommendation> {
    // A recursive stage's calls differ by depth, and an unreliable one's by the profiler's noise.
    if stage.calls < MIN_CALLS_FOR_STATISTICS
        || stage.cv <= VARIANCE_CV_ABOVE
        || stage.impact < MIN_IMPACT
        || stage.recursive
        || stage.unreliable
    {
        return None;
    }
    let histogram = &measured.stages.get(stage.index)?.histogram;
    let median = stage.p50_ns;
    let slow_excess: u64 = histogram
        .buckets()
        .iter()
        .map(|&(bucket, count)| bucket_value(bucket as usize).saturating_sub(median).saturating_mul(count))
        .fold(0u64, u64::saturating_add);
    let saved = slow_excess.min(stage.impact_ns);
    let issue = format!(
        "calls vary widely (stdev/mean {:.2}): median {}, p99 {}, max {}",
        stage.cv,
        format_ns(stage.p50_ns),
        format_ns(stage.p99_ns),
        format_ns(stage.max_ns)
    );
    let action = "find what makes the slow calls slow: cache misses, input-dependent paths (large or unusual \
                  inputs), lock contention; cache repeated results or validate inputs up front"
        .to_owned();
    let improvement = format!(
        "about {} ({} of profiled time) if the calls slower than the median took the median time",
        format_ns(saved),
        format_percent(share(saved, analysis.profiled_ns))
    );
    Some(Draft { analysis, stage, rule: Rule::HighVariance, confidence: 0.75 }.finish(
        issue,
        action,
        improvement,
        Some(saved),
    ))
}

fn degrading_trend(analysis: &Analysis, stage: &StageAnalysis, trend: &Trend) -> Option<Recommendation> {
    if trend.direction != Direction::Degrading || stage.impact < MIN_IMPACT {
        return None;
    }
    let excess = ((trend.late_mean_ns - trend.early_mean_ns) * trend.late_calls as f64).max(0.0);
    // Small windows make noisy means.
    let confidence = if trend.early_calls.min(trend.late_calls) >= TREND_CONFIDENT_CALLS { 0.8 } else { 0.65 };
    let saved = (excess.round() as u64).min(stage.impact_ns);
    let issue = format!(
        "late calls are {} slower than early ones (mean {} → {})",
        format_change(trend.change).trim_start_matches('+'),
        format_ns_f(trend.early_mean_ns),
        format_ns_f(trend.late_mean_ns)
    );
    let action = "look for data structures that grow during the run (caches or maps without eviction, queues, \
                  lists searched linearly) and for leaks; bound them, evict, or index them"
        .to_owned();
    let improvement = format!(
        "about {} ({} of profiled time) if the late calls were as fast as the early ones",
        format_ns(saved),
        format_percent(share(saved, analysis.profiled_ns))
    );
    Some(Draft { analysis, stage, rule: Rule::DegradingTrend, confidence }.finish(
        issue,
        action,
        improvement,
        Some(saved),
    ))
}

fn cheap_hot_stage(analysis: &Analysis, stage: &StageAnalysis) -> Option<Recommendation> {
    let overhead = &analysis.overhead;
    let calibrated = overhead.calibrated;
    let cheap_below = if calibrated { CHEAP_MEAN_FACTOR * overhead.per_call_ns } else { CHEAP_MEAN_UNCALIBRATED_NS };
    if stage.calls < CHEAP_MIN_CALLS || stage.mean_ns >= cheap_below {
        return None;
    }
    let action = "batch the work (one call for many items), let the compiler inline it into its caller, or \
                  remove `#[instrument_stage]` from it"
        .to_owned();
    let draft = Draft { analysis, stage, rule: Rule::CheapHotStage, confidence: if calibrated { 0.7 } else { 0.6 } };
    if calibrated {
        let saved = (overhead.per_call_ns * stage.calls as f64).round() as u64;
        let issue = format!(
            "called {} times at {} each: the profiler's {} per call is a large part of that",
            stage.calls,
            format_ns_f(stage.mean_ns),
            format_ns_f(overhead.per_call_ns)
        );
        let improvement = format!(
            "removing its instrumentation saves about {} ({} of profiled time), and its numbers \
             then come from its caller",
            format_ns(saved),
            format_percent(share(saved, analysis.profiled_ns))
        );
        Some(draft.finish(issue, action, improvement, Some(saved)))
    } else {
        let issue = format!(
            "called {} times at {} each: the call itself, or the profiling of it, dominates its time",
            stage.calls,
            format_ns_f(stage.mean_ns)
        );
        let improvement = "less call and profiling overhead; the profiler's cost was not calibrated, so no \
                           estimate"
            .to_owned();
        Some(draft.finish(issue, action, improvement, None))
    }
}

#[cfg(test)]
mod tests {
    use profiler_core::{Histogram, Overhead, Segment, StageSnapshot, TreeNode};

    use super::*;
    use crate::ReportOptions;
    use crate::analyze;
    use crate::test_data::{full_snapshot, test_options};
    use crate::trend::tests::segments_of;

    fn all(snapshot: &Snapshot) -> Vec<Recommendation> {
        analyze(snapshot, &ReportOptions { min_confidence: 0.0, ..test_options() }).recommendations
    }

    fn of(found: &[Recommendation], stage: &str, rule: Rule) -> Option<Recommendation> {
        found.iter().find(|r| r.stage == stage && r.rule == rule).cloned()
    }

    /// One root stage `main` calling leaves, each leaf given as (name, calls, durations).
    fn flat(leaves: &[(&str, &[(u64, u64)])], main_self_ns: u64) -> Snapshot {
        let mut snapshot = full_snapshot();
        snapshot.overhead = Overhead::default();
        let mut stages = Vec::new();
        let mut tree = Vec::new();
        let mut children_total = 0;
        for (i, &(name, durations)) in leaves.iter().enumerate() {
            let mut histogram = Histogram::default();
            for &(value, count) in durations {
                histogram.record_n(value, count);
            }
            let calls: u64 = durations.iter().map(|&(_, c)| c).sum();
            let sum: u64 = durations.iter().map(|&(v, c)| v * c).sum();
            children_total += sum;
            stages.push(StageSnapshot {
                name: name.to_owned(),
                calls,
                total_ns: sum,
                self_ns: sum,
                busy_ns: 0,
                is_async: false,
                sum_ns: sum,
                min_ns: durations.iter().map(|&(v, _)| v).min().unwrap_or(0),
                max_ns: durations.iter().map(|&(v, _)| v).max().unwrap_or(0),
                threads: 1,
                histogram,
                segments: Vec::new(),
            });
            tree.push(TreeNode { stage: i + 1, parent: Some(0), calls, total_ns: sum, self_ns: sum, busy_ns: 0 });
        }
        let main_total = main_self_ns + children_total;
        let mut main_histogram = Histogram::default();
        main_histogram.record(main_total);
        stages.insert(
            0,
            StageSnapshot {
                name: "main".to_owned(),
                calls: 1,
                total_ns: main_total,
                self_ns: main_self_ns,
                busy_ns: 0,
                is_async: false,
                sum_ns: main_total,
                min_ns: main_total,
                max_ns: main_total,
                threads: 1,
                histogram: main_histogram,
                segments: Vec::new(),
            },
        );
        tree.insert(
            0,
            TreeNode { stage: 0, parent: None, calls: 1, total_ns: main_total, self_ns: main_self_ns, busy_ns: 0 },
        );
        snapshot.stages = stages;
        snapshot.tree = tree;
        snapshot
    }

    #[test]
    fn amdahl_bounds() {
        let a = Amdahl::new(0.5, 4, 1);
        assert!((a.speedup_2x - 1.0 / 0.75).abs() < 1e-12);
        assert!((a.speedup_cores.unwrap() - 1.0 / 0.625).abs() < 1e-12);
        assert!((a.speedup_limit.unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(Amdahl::new(0.5, 4, 4).speedup_cores, None, "already on every core");
        assert_eq!(Amdahl::new(0.5, 1, 1).speedup_cores, None, "one core");
        assert_eq!(Amdahl::new(1.0, 2, 1).speedup_limit, None);
        assert!((Amdahl::new(0.0, 8, 1).speedup_cores.unwrap() - 1.0).abs() < 1e-12);
        // On 2 of 8 cores already: spreading gives 4× more, not 8×.
        assert!((Amdahl::new(0.5, 8, 2).speedup_cores.unwrap() - 1.0 / (0.5 + 0.5 / 4.0)).abs() < 1e-12);
    }

    #[test]
    fn a_dominant_body_gets_amdahl_bounds_on_its_self_time() {
        // work: 600 of 1000 ns profiled, all in its body; main's own body 400.
        let snapshot = flat(&[("work", &[(60, 10)])], 400);
        let found = all(&snapshot);
        let work = of(&found, "work", Rule::DominantStage).expect("work dominates");
        let amdahl = work.amdahl.as_ref().unwrap();
        assert!((amdahl.share - 0.6).abs() < 1e-12);
        assert!((amdahl.speedup_2x - 1.0 / 0.7).abs() < 1e-12);
        // 4 cores, one thread: saved = 600 × 3/4 = 450 → 1000 / 550.
        assert!((amdahl.speedup_cores.unwrap() - 1.0 / (0.4 + 0.15)).abs() < 1e-12);
        assert_eq!(work.time_saved_ns, Some(450));
        assert!((work.expected_speedup.unwrap() - 1000.0 / 550.0).abs() < 1e-12);
        assert_eq!(work.priority, Severity::Critical);
        assert!((work.confidence - 0.9).abs() < 1e-12);
        assert!(work.issue.contains("100.0% in its own body"), "{}", work.issue);
        assert!(work.expected_improvement.contains("1.82× spread over 4 cores"), "{}", work.expected_improvement);
        // main: impact 100 %, body 40 % → also dominant, with its callee named.
        let main = of(&found, "main", Rule::DominantStage).expect("main's body is 40 %");
        assert!(main.issue.contains("40.0% in its own body, 60.0% in `work`"), "{}", main.issue);
    }

    #[test]
    fn dominance_needs_more_than_20_percent_impact_and_10_percent_body() {
        // work at exactly 20 % of profiled time: not above the bound.
        let snapshot = flat(&[("work", &[(20, 10)])], 800);
        assert_eq!(of(&all(&snapshot), "work", Rule::DominantStage), None);
        let snapshot = flat(&[("work", &[(201, 1)])], 799);
        assert!(of(&all(&snapshot), "work", Rule::DominantStage).is_some());
        // A container whose body is 10 % exactly: its callees are the place to look.
        let snapshot = flat(&[("a", &[(450, 1)]), ("b", &[(450, 1)])], 100);
        let found = all(&snapshot);
        assert_eq!(of(&found, "main", Rule::DominantStage), None);
        assert!(of(&found, "a", Rule::DominantStage).is_some());
    }

    #[test]
    fn on_two_cores_the_two_bounds_are_said_once() {
        let snapshot = flat(&[("work", &[(60, 10)])], 400);
        let options = ReportOptions { cores: Some(2), min_confidence: 0.0, ..test_options() };
        let work = analyze(&snapshot, &options).recommendations.into_iter().find(|r| r.stage == "work").unwrap();
        assert!(
            work.expected_improvement.starts_with(
                "profiled work at most 1.43× faster if its body were 2× faster or spread over 2 cores, 2.50× if"
            ),
            "{}",
            work.expected_improvement
        );
    }

    #[test]
    fn the_cores_bound_is_dropped_for_stages_already_on_every_core() {
        let mut snapshot = flat(&[("work", &[(60, 10)])], 400);
        snapshot.stages[1].threads = 4;
        let work = of(&all(&snapshot), "work", Rule::DominantStage).unwrap();
        assert_eq!(work.amdahl.as_ref().unwrap().speedup_cores, None);
        assert_eq!(work.time_saved_ns, Some(300), "2× faster body: 600 / 2");
        assert!(work.action.contains("already called from 4 threads"), "{}", work.action);
    }

    #[test]
    fn widely_varying_calls_get_the_variance_recommendation() {
        // 90 calls of 1 µs and 10 of 100 µs: mean 10.9 µs, stdev ≈ 29.7 µs, cv ≈ 2.7.
        let snapshot = flat(&[("lookup", &[(1000, 90), (100_000, 10)])], 1_000_000);
        let found = all(&snapshot);
        let r = of(&found, "lookup", Rule::HighVariance).expect("cv above 1");
        assert!((r.confidence - 0.75).abs() < 1e-12);
        // The 10 slow calls above the ~1 µs median: about 10 × 99 µs saved (bucket midpoints).
        let saved = r.time_saved_ns.unwrap() as f64;
        assert!((saved - 990_000.0).abs() / 990_000.0 < 0.02, "{saved}");
        assert!(r.issue.starts_with("calls vary widely (stdev/mean 2.7"), "{}", r.issue);
        // Uniform calls: no recommendation.
        let snapshot = flat(&[("lookup", &[(1000, 100)])], 10_000);
        assert_eq!(of(&all(&snapshot), "lookup", Rule::HighVariance), None);
    }

    #[test]
    fn variance_needs_ten_calls_and_one_percent_of_profiled_time() {
        let snapshot = flat(&[("few", &[(1000, 8), (100_000, 1)])], 100_000);
        assert_eq!(of(&all(&snapshot), "few", Rule::HighVariance), None, "9 calls");
        // 10 calls, 1.09 ms of more than 109 ms: below 1 %.
        let snapshot = flat(&[("small", &[(1000, 9), (100_000, 1)])], 20_000_000);
        assert_eq!(of(&all(&snapshot), "small", Rule::HighVariance), None);
        let snapshot = flat(&[("small", &[(1000, 9), (100_000, 1)])], 100_000);
        assert!(of(&all(&snapshot), "small", Rule::HighVariance).is_some());
    }

    #[test]
    fn a_degrading_trend_points_at_growing_data() {
        let mut snapshot = flat(&[("insert", &[(1500, 1000)])], 100_000);
        snapshot.stages[1].segments = segments_of(1000, |i| 1000 + i);
        let r = of(&all(&snapshot), "insert", Rule::DegradingTrend).expect("late calls slower");
        assert!((r.confidence - 0.8).abs() < 1e-12, "windows of 62 and 489 calls");
        // 100 calls: an early window of 14 calls, less sure.
        let mut small = flat(&[("insert", &[(1500, 100)])], 10_000);
        small.stages[1].segments = segments_of(100, |i| 1000 + 20 * i);
        let less_sure = of(&all(&small), "insert", Rule::DegradingTrend).expect("late calls slower");
        assert!((less_sure.confidence - 0.65).abs() < 1e-12);
        assert!(r.action.contains("grow"), "{}", r.action);
        assert!(r.issue.starts_with("late calls are "), "{}", r.issue);
        let trend = crate::trend::trend_of(&snapshot.stages[1]).unwrap();
        let expected = ((trend.late_mean_ns - trend.early_mean_ns) * trend.late_calls as f64).round() as u64;
        assert_eq!(r.time_saved_ns, Some(expected));
        // Improving and stable stages get none.
        snapshot.stages[1].segments = segments_of(1000, |i| 3000 - i);
        assert_eq!(of(&all(&snapshot), "insert", Rule::DegradingTrend), None);
        snapshot.stages[1].segments = vec![Segment { calls: 1, sum_ns: 1 }];
        assert_eq!(of(&all(&snapshot), "insert", Rule::DegradingTrend), None);
    }

    #[test]
    fn a_cheap_stage_called_very_often_is_flagged_with_the_profilers_cost() {
        let mut snapshot = flat(&[("hash", &[(200, 10_000)])], 1_000_000);
        snapshot.overhead = Overhead { per_call_ns: 25.0, in_stage_ns: 9.0 };
        let r = of(&all(&snapshot), "hash", Rule::CheapHotStage).expect("200 ns < 10 × 25 ns");
        assert_eq!(r.time_saved_ns, Some(250_000));
        assert!((r.confidence - 0.7).abs() < 1e-12);
        assert!(r.action.contains("batch"), "{}", r.action);
        // 9,999 calls: not very often.
        let mut fewer = flat(&[("hash", &[(200, 9_999)])], 1_000_000);
        fewer.overhead = snapshot.overhead;
        assert_eq!(of(&all(&fewer), "hash", Rule::CheapHotStage), None);
        // A mean of exactly 10 × 25 ns: not below the bound.
        let mut slower = flat(&[("hash", &[(250, 10_000)])], 1_000_000);
        slower.overhead = snapshot.overhead;
        assert_eq!(of(&all(&slower), "hash", Rule::CheapHotStage), None);
    }

    #[test]
    fn without_calibration_cheap_means_below_a_microsecond() {
        let snapshot = flat(&[("hash", &[(999, 10_000)])], 1_000_000);
        let r = of(&all(&snapshot), "hash", Rule::CheapHotStage).expect("999 ns < 1 µs");
        assert_eq!((r.time_saved_ns, r.expected_speedup), (None, None));
        assert!((r.confidence - 0.6).abs() < 1e-12);
        let snapshot = flat(&[("hash", &[(1000, 10_000)])], 1_000_000);
        assert_eq!(of(&all(&snapshot), "hash", Rule::CheapHotStage), None);
    }

    #[test]
    fn the_synthetic_run_gets_every_rule_in_priority_order() {
        let found = all(&full_snapshot());
        let summary: Vec<(&str, Rule, Severity)> =
            found.iter().map(|r| (r.stage.as_str(), r.rule, r.priority)).collect();
        assert_eq!(
            summary,
            [
                // Saves 300ms of 820ms (36.6 %): a fourth of its time spread over 4 cores.
                ("main", Rule::DominantStage, Severity::Critical),
                // 100ms (12.2 %), then 75ms and 75.2ms (9.1 %, 9.2 %): by confidence.
                ("app::pipeline::parse_document", Rule::HighVariance, Severity::High),
                ("app::pipeline::parse_document", Rule::DominantStage, Severity::Medium),
                ("app::pipeline::parse_document", Rule::DegradingTrend, Severity::Medium),
                ("tiny", Rule::CheapHotStage, Severity::Low),
            ]
        );
        for r in &found {
            assert!((0.0..=1.0).contains(&r.confidence));
        }
    }

    #[test]
    fn a_recursive_stage_gets_neither_variance_nor_trend_findings() {
        // Widely varying, growing calls: both findings while `walk` does not recurse.
        let mut snapshot = flat(&[("walk", &[(1000, 900), (100_000, 100)])], 1_000_000);
        snapshot.stages[1].segments = segments_of(1000, |i| 1000 + 50 * i);
        let found = all(&snapshot);
        assert!(of(&found, "walk", Rule::HighVariance).is_some());
        assert!(of(&found, "walk", Rule::DegradingTrend).is_some());
        // Once some of its calls nest in others, the spread and the segments mix depths.
        snapshot.tree.push(TreeNode {
            stage: 1,
            parent: Some(1),
            calls: 100,
            total_ns: 100_000,
            self_ns: 100_000,
            busy_ns: 0,
        });
        let analysis = analyze(&snapshot, &ReportOptions { min_confidence: 0.0, ..test_options() });
        assert!(analysis.stage("walk").unwrap().recursive);
        assert!(analysis.trends.iter().all(|t| t.stage != "walk"), "{:?}", analysis.trends);
        let found = &analysis.recommendations;
        assert_eq!(of(found, "walk", Rule::HighVariance), None);
        assert_eq!(of(found, "walk", Rule::DegradingTrend), None);
    }

    #[test]
    fn a_dominant_body_when_most_time_waits_puts_the_waits_first() {
        let mut snapshot = flat(&[("work", &[(60, 10)])], 400);
        let computing = of(&all(&snapshot), "work", Rule::DominantStage).unwrap();
        assert!(computing.action.starts_with("work on its own body"), "{}", computing.action);
        // The whole process used 100 ns of CPU for 1000 ns inside stages: 90 % waited.
        snapshot.cpu_ns = Some(100);
        let waiting = of(&all(&snapshot), "work", Rule::DominantStage).unwrap();
        assert!(
            waiting.action.starts_with("at least 90.0% of the time inside stages was waiting"),
            "{}",
            waiting.action
        );
        assert!((waiting.confidence - 0.7).abs() < 1e-12);
        assert_eq!(waiting.time_saved_ns, computing.time_saved_ns);
    }

    #[test]
    fn priority_follows_the_time_saved() {
        assert_eq!(gain_priority(201, 1000), Severity::Critical);
        assert_eq!(gain_priority(200, 1000), Severity::High, "bounds belong to the lower step");
        assert_eq!(gain_priority(101, 1000), Severity::High);
        assert_eq!(gain_priority(31, 1000), Severity::Medium);
        assert_eq!(gain_priority(30, 1000), Severity::Low);
        assert_eq!(gain_priority(0, 0), Severity::Low);
    }

    #[test]
    fn a_body_made_of_the_profilers_cost_is_no_finding() {
        // `main` calls `leaf` a million times: 31 ms of main's own 50 ms are the profiler's
        // 40 ns per call into `leaf` (9 ns of it lands in leaf's time, 31 ns in the caller's).
        let mut snapshot = flat(&[("leaf", &[(100, 1_000_000)])], 50_000_000);
        let main = |snapshot: &Snapshot| of(&all(snapshot), "main", Rule::DominantStage).expect("body 33 %");
        assert!((main(&snapshot).confidence - 0.9).abs() < 1e-12, "not calibrated: a finding");
        snapshot.overhead = Overhead { per_call_ns: 40.0, in_stage_ns: 9.0 };
        assert!((main(&snapshot).confidence - 0.5).abs() < 1e-12, "below the default 0.6: hidden");
    }

    #[test]
    fn rule_names_match_json() {
        for rule in [Rule::DominantStage, Rule::HighVariance, Rule::DegradingTrend, Rule::CheapHotStage] {
            assert_eq!(serde_json::to_string(&rule).unwrap(), format!("\"{}\"", rule.as_str()));
        }
    }
}
