//! Statistics derived from a [`Snapshot`], shared by every output format.
//!
//! Everything here is a pure function of the snapshot, so reports can be tested on synthetic
//! data and later analyses (trends, comparisons) can reuse the same numbers.

use std::cmp::Reverse;

use profiler_core::{Snapshot, StageSnapshot};

use crate::severity::Severity;

/// One stage with the statistics reports show for it.
#[derive(Clone, Debug, PartialEq)]
pub struct StageStats<'a> {
    /// Index of the stage in [`Snapshot::stages`].
    pub index: usize,
    /// The stage as recorded.
    pub stage: &'a StageSnapshot,
    /// Mean duration of one call (exact).
    pub mean_ns: f64,
    /// Standard deviation of call durations (from the histogram).
    pub stdev_ns: f64,
    /// Median call duration.
    pub p50_ns: u64,
    /// 90th percentile of call durations.
    pub p90_ns: u64,
    /// 95th percentile of call durations.
    pub p95_ns: u64,
    /// 99th percentile of call durations.
    pub p99_ns: u64,
    /// The time that measures the stage's weight: inclusive time, or busy time for `async`
    /// stages ([`StageSnapshot::impact_ns`]).
    pub impact_ns: u64,
    /// `impact_ns` as a share of [`Snapshot::profiled_ns`], in `[0, 1]` for recorded data.
    pub impact: f64,
    /// The share's severity (see [`crate::severity`]).
    pub severity: Severity,
}

/// Statistics of every stage, sorted by inclusive time (`total_ns`) descending, then by name.
#[must_use]
pub fn stage_stats(snapshot: &Snapshot) -> Vec<StageStats<'_>> {
    let profiled_ns = snapshot.profiled_ns();
    let mut stats: Vec<StageStats<'_>> = snapshot
        .stages
        .iter()
        .enumerate()
        .map(|(index, stage)| {
            let impact_ns = stage.impact_ns();
            StageStats {
                index,
                stage,
                mean_ns: stage.mean_ns(),
                stdev_ns: stage.stdev_ns(),
                p50_ns: stage.percentile_ns(0.50),
                p90_ns: stage.percentile_ns(0.90),
                p95_ns: stage.percentile_ns(0.95),
                p99_ns: stage.percentile_ns(0.99),
                impact_ns,
                impact: share(impact_ns, profiled_ns),
                severity: Severity::of_impact(impact_ns, profiled_ns),
            }
        })
        .collect();
    stats.sort_by(|a, b| b.stage.total_ns.cmp(&a.stage.total_ns).then_with(|| a.stage.name.cmp(&b.stage.name)));
    stats
}

/// The stages of severity [`Severity::Medium`] or higher, by impact descending, then by name.
#[must_use]
pub fn bottlenecks<'s, 'a>(stats: &'s [StageStats<'a>]) -> Vec<&'s StageStats<'a>> {
    let mut found: Vec<&StageStats<'a>> = stats.iter().filter(|s| s.severity >= Severity::Medium).collect();
    found.sort_by_key(|s| (Reverse(s.impact_ns), s.stage.name.as_str()));
    found
}

/// `part / whole`, or 0 when `whole` is 0.
#[must_use]
pub fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::synthetic_snapshot;

    #[test]
    fn stages_sort_by_total_time_and_carry_their_severity() {
        let snapshot = synthetic_snapshot();
        let stats = stage_stats(&snapshot);
        let names: Vec<&str> = stats.iter().map(|s| s.stage.name.as_str()).collect();
        assert_eq!(names, ["main", "app::pipeline::parse_document", "app::net::fetch", "render", "tiny"]);
        let severities: Vec<Severity> = stats.iter().map(|s| s.severity).collect();
        assert_eq!(severities, [Severity::Critical, Severity::High, Severity::Medium, Severity::Medium, Severity::Low]);
        for s in &stats {
            assert_eq!(snapshot.stages[s.index].name, s.stage.name);
            assert!((0.0..=1.0).contains(&s.impact), "{}: {}", s.stage.name, s.impact);
        }
    }

    #[test]
    fn bottlenecks_are_medium_or_worse_by_impact() {
        let snapshot = synthetic_snapshot();
        let stats = stage_stats(&snapshot);
        let names: Vec<&str> = bottlenecks(&stats).iter().map(|s| s.stage.name.as_str()).collect();
        // `app::net::fetch` is async: its impact is its busy time, below `render`'s total.
        assert_eq!(names, ["main", "app::pipeline::parse_document", "render", "app::net::fetch"]);
    }

    #[test]
    fn share_of_nothing_is_zero() {
        assert!(share(5, 0) == 0.0);
        assert!((share(1, 4) - 0.25).abs() < f64::EPSILON);
    }
}
