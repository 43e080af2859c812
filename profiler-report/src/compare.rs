//! Comparing two profiles of the same program: what got slower, what got faster, and a
//! regression gate for CI.
//!
//! For every stage present in both profiles the change of its total time, mean and 95th
//! percentile is `new / base − 1` (`None` when the base is 0). One of them, the *metric*
//! (mean by default: it does not depend on how much work the run did), classifies the stage as
//! a regression (it grew), an improvement (it shrank) or unchanged. Stages only in the new
//! profile are *new*, stages only in the base *vanished*.
//!
//! The gate ([`CompareOptions::fail_above`]) fails when a stage that *matters* regressed by
//! more than the given fraction. A stage matters when it has at least
//! [`min_calls`](CompareOptions::min_calls) calls in both profiles and at least
//! [`min_share`](CompareOptions::min_share) of profiled time in one of them: small or rare
//! stages are too noisy to gate on. Times are as measured (no compensation).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use profiler_core::{Snapshot, StageSnapshot};

use crate::stats::share;
use crate::units::{ellipsize, format_change, format_ns, format_ns_f, format_percent, printable, wrap};

/// What classifies a stage as a regression or an improvement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Metric {
    /// Inclusive time (busy time for `async` stages): grows with the amount of work.
    Total,
    /// Mean call duration.
    #[default]
    Mean,
    /// 95th percentile of call durations.
    P95,
}

impl Metric {
    /// `total`, `mean` or `p95`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Total => "total",
            Self::Mean => "mean",
            Self::P95 => "p95",
        }
    }
}

impl std::str::FromStr for Metric {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "total" => Ok(Self::Total),
            "mean" => Ok(Self::Mean),
            "p95" => Ok(Self::P95),
            _ => Err(format!("unknown metric `{text}`, expected `total`, `mean` or `p95`")),
        }
    }
}

/// How to compare.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareOptions {
    /// The metric that classifies stages.
    pub metric: Metric,
    /// Fail when a stage that matters regressed by more than this fraction (`0.1` = 10 %).
    pub fail_above: Option<f64>,
    /// A stage matters with at least this share of profiled time in one of the profiles.
    pub min_share: f64,
    /// ... and at least this many calls in both.
    pub min_calls: u64,
}

impl Default for CompareOptions {
    /// Mean, no gate, 1 % of profiled time, 10 calls.
    fn default() -> Self {
        Self { metric: Metric::Mean, fail_above: None, min_share: 0.01, min_calls: 10 }
    }
}

/// A stage's numbers in one profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Measures {
    /// Calls.
    pub calls: u64,
    /// Inclusive time (busy time for `async` stages).
    pub total_ns: u64,
    /// Mean call duration.
    pub mean_ns: f64,
    /// 95th percentile of call durations.
    pub p95_ns: u64,
    /// `total_ns` as a share of the profile's profiled time.
    pub share: f64,
}

impl Measures {
    fn of(stage: &StageSnapshot, profiled_ns: u64) -> Self {
        Self {
            calls: stage.calls,
            total_ns: stage.impact_ns(),
            mean_ns: stage.mean_ns(),
            p95_ns: stage.percentile_ns(0.95),
            share: share(stage.impact_ns(), profiled_ns),
        }
    }
}

/// A stage present in both profiles.
#[derive(Clone, Debug, PartialEq)]
pub struct StageChange {
    /// The stage name.
    pub name: String,
    /// Its numbers in the base profile.
    pub base: Measures,
    /// Its numbers in the new profile.
    pub new: Measures,
    /// Change of the total time, `new / base − 1`; `None` when the base is 0.
    pub total_change: Option<f64>,
    /// Change of the mean.
    pub mean_change: Option<f64>,
    /// Change of the 95th percentile.
    pub p95_change: Option<f64>,
    /// Whether the stage is large and frequent enough for the gate.
    pub matters: bool,
    /// Whether the stage trips the gate.
    pub failed: bool,
}

impl StageChange {
    /// The change of the given metric.
    #[must_use]
    pub fn change(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Total => self.total_change,
            Metric::Mean => self.mean_change,
            Metric::P95 => self.p95_change,
        }
    }
}

/// A stage in only one of the profiles.
#[derive(Clone, Debug, PartialEq)]
pub struct OneSided {
    /// The stage name.
    pub name: String,
    /// Its numbers in the profile that has it.
    pub measures: Measures,
}

/// The outcome of [`compare`].
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The options used.
    pub options: CompareOptions,
    /// Profiled time of the base profile.
    pub base_profiled_ns: u64,
    /// Profiled time of the new profile.
    pub new_profiled_ns: u64,
    /// Wall time of the base profile.
    pub base_wall_ns: u64,
    /// Wall time of the new profile.
    pub new_wall_ns: u64,
    /// The clocks that timed the two profiles (`tsc`, `tsc-fast`, `instant`, ...).
    pub clocks: (String, String),
    /// Stages whose metric grew, largest change first.
    pub regressions: Vec<StageChange>,
    /// Stages whose metric shrank, largest change first.
    pub improvements: Vec<StageChange>,
    /// Stages whose metric did not change or cannot be compared (a base of 0), by name.
    pub unchanged: Vec<StageChange>,
    /// Stages only in the new profile, by total time descending.
    pub added: Vec<OneSided>,
    /// Stages only in the base profile, by total time descending.
    pub vanished: Vec<OneSided>,
}

impl Comparison {
    /// The stages that trip the gate, largest regression first.
    pub fn failures(&self) -> impl Iterator<Item = &StageChange> {
        self.regressions.iter().filter(|c| c.failed)
    }

    /// Whether the gate is set and tripped.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failures().next().is_some()
    }
}

/// `new / base − 1`, or `None` when `base` is 0 (0 when both are).
fn change(base: f64, new: f64) -> Option<f64> {
    if base == 0.0 { (new == 0.0).then_some(0.0) } else { Some(new / base - 1.0) }
}

/// Compares two snapshots (see the [module documentation](self)).
#[must_use]
pub fn compare(base: &Snapshot, new: &Snapshot, options: &CompareOptions) -> Comparison {
    let (base_profiled, new_profiled) = (base.profiled_ns(), new.profiled_ns());
    let mut comparison = Comparison {
        options: options.clone(),
        base_profiled_ns: base_profiled,
        new_profiled_ns: new_profiled,
        base_wall_ns: base.wall_ns,
        new_wall_ns: new.wall_ns,
        clocks: (base.clock.clone(), new.clock.clone()),
        regressions: Vec::new(),
        improvements: Vec::new(),
        unchanged: Vec::new(),
        added: Vec::new(),
        vanished: Vec::new(),
    };
    let base_by_name: HashMap<&str, &StageSnapshot> = base.stages.iter().map(|s| (s.name.as_str(), s)).collect();
    let new_names: HashSet<&str> = new.stages.iter().map(|s| s.name.as_str()).collect();
    for stage in &new.stages {
        let new_measures = Measures::of(stage, new_profiled);
        let Some(&old) = base_by_name.get(stage.name.as_str()) else {
            comparison.added.push(OneSided { name: stage.name.clone(), measures: new_measures });
            continue;
        };
        let base_measures = Measures::of(old, base_profiled);
        let matters = base_measures.calls >= options.min_calls
            && new_measures.calls >= options.min_calls
            && base_measures.share.max(new_measures.share) >= options.min_share;
        let mut entry = StageChange {
            name: stage.name.clone(),
            total_change: change(base_measures.total_ns as f64, new_measures.total_ns as f64),
            mean_change: change(base_measures.mean_ns, new_measures.mean_ns),
            p95_change: change(base_measures.p95_ns as f64, new_measures.p95_ns as f64),
            base: base_measures,
            new: new_measures,
            matters,
            failed: false,
        };
        match entry.change(options.metric) {
            Some(c) if c > 0.0 => {
                entry.failed = matters && options.fail_above.is_some_and(|limit| c > limit);
                comparison.regressions.push(entry);
            }
            Some(c) if c < 0.0 => comparison.improvements.push(entry),
            _ => comparison.unchanged.push(entry),
        }
    }
    for stage in &base.stages {
        if !new_names.contains(stage.name.as_str()) {
            comparison
                .vanished
                .push(OneSided { name: stage.name.clone(), measures: Measures::of(stage, base_profiled) });
        }
    }
    let metric = options.metric;
    let size = |c: &StageChange| c.change(metric).unwrap_or(0.0).abs();
    comparison.regressions.sort_by(|a, b| size(b).total_cmp(&size(a)).then_with(|| a.name.cmp(&b.name)));
    comparison.improvements.sort_by(|a, b| size(b).total_cmp(&size(a)).then_with(|| a.name.cmp(&b.name)));
    comparison.unchanged.sort_by(|a, b| a.name.cmp(&b.name));
    for list in [&mut comparison.added, &mut comparison.vanished] {
        list.sort_by(|a, b| b.measures.total_ns.cmp(&a.measures.total_ns).then_with(|| a.name.cmp(&b.name)));
    }
    comparison
}

fn format_optional_change(change: Option<f64>) -> String {
    change.map_or_else(|| "new".to_owned(), format_change)
}

/// The first lines: the files, the profiled and wall times, and a note when the clocks differ.
fn render_header(out: &mut String, comparison: &Comparison, base: &str, new: &str) {
    let _ = writeln!(out, "compare: {} → {}", printable(base), printable(new));
    let _ = writeln!(
        out,
        "profiled time {} → {} ({}), wall {} → {} ({})",
        format_ns(comparison.base_profiled_ns),
        format_ns(comparison.new_profiled_ns),
        format_optional_change(change(comparison.base_profiled_ns as f64, comparison.new_profiled_ns as f64)),
        format_ns(comparison.base_wall_ns),
        format_ns(comparison.new_wall_ns),
        format_optional_change(change(comparison.base_wall_ns as f64, comparison.new_wall_ns as f64)),
    );
    let (base_clock, new_clock) = (printable(&comparison.clocks.0), printable(&comparison.clocks.1));
    if base_clock != new_clock {
        let _ = writeln!(
            out,
            "note: timed with different clocks ({base_clock} → {new_clock}): short stages may differ for that alone"
        );
    }
}

/// Renders a comparison as text, at most 100 columns wide. `base` and `new` label the two
/// profiles (their file names).
#[must_use]
pub fn render_comparison(comparison: &Comparison, base: &str, new: &str) -> String {
    let mut out = String::new();
    let options = &comparison.options;
    render_header(&mut out, comparison, base, new);
    let metric = options.metric.as_str();
    for (title, list) in [("regressions", &comparison.regressions), ("improvements", &comparison.improvements)] {
        let _ = writeln!(out, "\n{title} (by {metric}, largest first)");
        if list.is_empty() {
            out.push_str("none\n");
            continue;
        }
        let _ = writeln!(
            out,
            "{:<30} {:>8}  {:<26}  {:>8} {:>10}",
            "stage", "total", "mean: base → new, change", "p95", "calls"
        );
        for c in list {
            let mark = if c.failed {
                "FAIL"
            } else if c.matters {
                ""
            } else {
                "~"
            };
            let line = format!(
                "{:<30} {:>8}  {:>7} → {:>7} {:>8}  {:>8} {:>10}  {mark}",
                ellipsize(&c.name, 30),
                format_optional_change(c.total_change),
                format_ns_f(c.base.mean_ns),
                format_ns_f(c.new.mean_ns),
                format_optional_change(c.mean_change),
                format_optional_change(c.p95_change),
                c.new.calls,
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    if !comparison.unchanged.is_empty() {
        let names: Vec<&str> = comparison.unchanged.iter().map(|c| c.name.as_str()).collect();
        out.push('\n');
        for line in wrap("unchanged: ", "  ", &printable(&names.join(", ")), 100) {
            let _ = writeln!(out, "{line}");
        }
    }
    for (title, list) in [("new stages", &comparison.added), ("vanished stages", &comparison.vanished)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        for s in list {
            let _ = writeln!(
                out,
                "{:<60} {:>10} calls {:>8} {:>7}",
                ellipsize(&s.name, 60),
                s.measures.calls,
                format_ns(s.measures.total_ns),
                format_percent(s.measures.share)
            );
        }
    }
    let any_minor = comparison.regressions.iter().chain(&comparison.improvements).any(|c| !c.matters);
    if any_minor {
        let _ = writeln!(
            out,
            "\n~ not gated: under {} calls in a profile or under {} of profiled time in both",
            options.min_calls,
            format_percent(options.min_share)
        );
    }
    if let Some(limit) = options.fail_above {
        let failures: Vec<String> = comparison
            .failures()
            .map(|c| format!("{} ({})", printable(&c.name), format_optional_change(c.change(options.metric))))
            .collect();
        if failures.is_empty() {
            let _ =
                writeln!(out, "\ngate passed: no stage that matters regressed by more than {}", format_percent(limit));
        } else {
            let text = format!(
                "{} regressed by more than {} ({metric}): {}",
                if failures.len() == 1 { "1 stage".to_owned() } else { format!("{} stages", failures.len()) },
                format_percent(limit),
                failures.join(", ")
            );
            out.push('\n');
            for line in wrap("gate FAILED: ", "  ", &text, 100) {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use profiler_core::Histogram;

    use super::*;
    use crate::test_data::full_snapshot;

    /// `full_snapshot` with `render`'s calls taking `factor` times as long.
    fn slower_render(factor: u64) -> Snapshot {
        let mut snapshot = full_snapshot();
        let render = &mut snapshot.stages[2];
        render.total_ns *= factor;
        render.self_ns *= factor;
        render.sum_ns *= factor;
        render.min_ns *= factor;
        render.max_ns *= factor;
        let mut histogram = Histogram::default();
        histogram.record_n(3_000_000 * factor, 50);
        render.histogram = histogram;
        snapshot
    }

    #[test]
    fn a_slower_stage_is_a_regression_and_trips_the_gate() {
        let base = full_snapshot();
        let new = slower_render(2);
        let options = CompareOptions { fail_above: Some(0.5), ..CompareOptions::default() };
        let c = compare(&base, &new, &options);
        assert_eq!(c.regressions.len(), 1);
        let render = &c.regressions[0];
        assert_eq!(render.name, "render");
        assert!((render.mean_change.unwrap() - 1.0).abs() < 1e-12);
        assert!((render.total_change.unwrap() - 1.0).abs() < 1e-12);
        assert!((render.p95_change.unwrap() - 1.0).abs() < 0.02);
        assert!(render.matters && render.failed && c.failed());
        assert!(c.improvements.is_empty());
        assert_eq!(c.unchanged.len(), 4);
        // Same data the other way round: an improvement, nothing fails.
        let back = compare(&new, &base, &options);
        assert_eq!(back.improvements.len(), 1);
        assert!(!back.failed());
    }

    #[test]
    fn control_characters_from_the_files_are_escaped() {
        // Every string from a file: the text shows it as if it held the escapes themselves.
        let render_with = |suffix: &str| {
            let with_suffix = |mut snapshot: Snapshot, clock: &str| {
                for stage in &mut snapshot.stages {
                    stage.name.push_str(suffix);
                }
                snapshot.clock = format!("{clock}{suffix}");
                snapshot
            };
            let base = with_suffix(full_snapshot(), "tsc");
            let mut new = with_suffix(slower_render(2), "cntvct");
            new.stages[4].name = format!("tiny2{suffix}"); // one new stage, one vanished
            let options = CompareOptions { fail_above: Some(0.5), ..CompareOptions::default() };
            render_comparison(&compare(&base, &new, &options), &format!("a{suffix}.json"), "b.json")
        };
        let text = render_with("\n\t\x1b[2J");
        assert_eq!(text, render_with("\\n\\t\\u{1b}[2J"));
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        for expected in [
            "compare: a\\n\\t\\u{1b}[2J.json → b.json",
            "(tsc\\n\\t\\u{1b}[2J → cntvct\\n\\t\\u{1b}[2J)",
            "\nrender\\n\\t\\u{1b}[2J ",
            "unchanged: app::net::fetch\\n\\t\\u{1b}[2J, ",
            ": render\\n\\t\\u{1b}[2J (+100.0%)",
            "\ntiny2\\n\\t\\u{1b}[2J ",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
    }

    #[test]
    fn the_gate_needs_more_than_the_limit() {
        let (base, new) = (full_snapshot(), slower_render(2));
        let at = |limit| {
            compare(&base, &new, &CompareOptions { fail_above: Some(limit), ..CompareOptions::default() }).failed()
        };
        assert!(at(0.99));
        assert!(!at(1.0), "a change of exactly the limit passes");
        assert!(!compare(&base, &new, &CompareOptions::default()).failed(), "no gate without a limit");
    }

    #[test]
    fn small_or_rare_stages_are_not_gated() {
        let (base, new) = (full_snapshot(), slower_render(2));
        let gate = CompareOptions { fail_above: Some(0.1), ..CompareOptions::default() };
        // render has 50 calls and 18 % of profiled time.
        assert!(!compare(&base, &new, &CompareOptions { min_calls: 51, ..gate.clone() }).failed());
        assert!(compare(&base, &new, &CompareOptions { min_calls: 50, ..gate.clone() }).failed());
        // New share 300 / 970 = 30.9 %: a minimum of 31 % leaves it out.
        assert!(!compare(&base, &new, &CompareOptions { min_share: 0.31, ..gate.clone() }).failed());
        assert!(compare(&base, &new, &CompareOptions { min_share: 0.30, ..gate }).failed());
    }

    #[test]
    fn the_metric_chooses_what_counts() {
        // Twice the calls at the same speed: total doubles, the mean does not move.
        let base = full_snapshot();
        let mut new = full_snapshot();
        let render = &mut new.stages[2];
        render.calls *= 2;
        render.total_ns *= 2;
        render.self_ns *= 2;
        render.sum_ns *= 2;
        render.histogram.merge(&base.stages[2].histogram);
        let by_mean = compare(&base, &new, &CompareOptions::default());
        assert!(by_mean.regressions.is_empty());
        let by_total = compare(&base, &new, &CompareOptions { metric: Metric::Total, ..CompareOptions::default() });
        assert_eq!(by_total.regressions[0].name, "render");
    }

    #[test]
    fn new_and_vanished_stages_are_listed() {
        let base = full_snapshot();
        let mut new = full_snapshot();
        new.stages[4].name = "hash".to_owned();
        let c = compare(&base, &new, &CompareOptions::default());
        assert_eq!(c.added.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["hash"]);
        assert_eq!(c.vanished.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["tiny"]);
    }

    #[test]
    fn regressions_sort_by_size() {
        let base = full_snapshot();
        let mut new = slower_render(3);
        new.stages[1].sum_ns *= 2; // parse: mean +100 %
        let c = compare(&base, &new, &CompareOptions::default());
        let order: Vec<&str> = c.regressions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["render", "app::pipeline::parse_document"]);
    }

    #[test]
    fn comparisons_render_in_100_columns() {
        let c = compare(
            &full_snapshot(),
            &slower_render(2),
            &CompareOptions { fail_above: Some(0.1), ..CompareOptions::default() },
        );
        let text = render_comparison(&c, "base.json", "new.json");
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{line}");
        }
        insta::assert_snapshot!(text);
    }

    #[test]
    fn profiles_timed_with_different_clocks_say_so() {
        let mut fast = full_snapshot();
        fast.clock = "tsc-fast".to_owned();
        let text = render_comparison(&compare(&full_snapshot(), &fast, &CompareOptions::default()), "a", "b");
        let note = "note: timed with different clocks (tsc → tsc-fast): short stages may differ for that alone";
        assert_eq!(text.lines().nth(2), Some(note), "{text}");
        assert!(note.chars().count() <= 100);
        let same =
            render_comparison(&compare(&full_snapshot(), &full_snapshot(), &CompareOptions::default()), "a", "b");
        assert!(!same.contains("note:"), "{same}");
    }

    #[test]
    fn metrics_parse() {
        assert_eq!("p95".parse::<Metric>(), Ok(Metric::P95));
        assert!("median".parse::<Metric>().is_err());
        assert_eq!(change(0.0, 0.0), Some(0.0));
        assert_eq!(change(0.0, 1.0), None);
    }
}
