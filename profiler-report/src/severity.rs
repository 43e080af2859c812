//! How much a stage weighs in the program: two views, and the stronger one wins.
//!
//! # By impact
//!
//! A stage's *share* is its impact time ([`StageSnapshot::impact_ns`]: inclusive time, or busy
//! time for `async` stages) over the *profiled time* ([`Snapshot::profiled_ns`]): the sum over
//! all stages of their self time, that is the thread-time spent inside instrumented code,
//! summed over threads. Because a stage's inclusive time is made of its own self time and the
//! self time of the stages it calls, the share is at most 1 (100 %) for data the profiler
//! recorded. Nested stages overlap, so the shares of all stages add up to more than 1.
//!
//! | share          | severity   |
//! |----------------|------------|
//! | more than 50 % | `critical` |
//! | more than 20 % | `high`     |
//! | more than 10 % | `medium`   |
//! | otherwise      | `low`      |
//!
//! Every bound belongs to the lower step: exactly 50 % is `high`, not `critical`.
//!
//! # By statistics
//!
//! Only stages with at least [`MIN_CALLS_FOR_STATISTICS`] calls are judged this way (fewer
//! calls say too little about a mean or a spread), and only [comparable](StageSample::comparable)
//! ones: not a recursive stage, whose calls nest in each other so that its mean and spread mix
//! depths, nor one measured mostly as the profiler's own cost. The others keep their impact
//! severity. The *stage means* are the mean call durations of the judged stages, each stage
//! counting once.
//!
//! | rule                                                                     | severity |
//! |--------------------------------------------------------------------------|----------|
//! | mean above the 95th percentile of the stage means and 1.2× their mean    | `high`   |
//! | mean above 1.5× the mean of the stage means                              | `high`   |
//! | coefficient of variation (stdev / mean) above 1                          | `high`   |
//! | mean above 1.2× the mean of the stage means                              | `medium` |
//! | otherwise                                                                | `low`    |
//!
//! The first rule that holds, top to bottom, decides. The top mean of a set of alike stages is
//! always above their 95th percentile, hence the second condition of the first rule: a stage
//! must stand out, not merely come first among equals. The rules comparing means need at least
//! [`MIN_STAGES_FOR_COMPARISON`] judged stages (comparing one or two stages with each other
//! says nothing); with fewer, only the coefficient-of-variation rule applies. The 95th
//! percentile interpolates linearly between ranks ([`percentile_linear`]).
//!
//! # The stronger view
//!
//! A stage gets the higher of the two severities, with the rule that gave it as its
//! [`SeverityReason`]. On a tie the impact view gives the reason. The statistical view raises a
//! stage at most one step above its impact severity, and never to `critical`: slow or uneven
//! calls make a stage worth a look, but `critical` means more than half of the profiled time.
//!
//! [`StageSnapshot::impact_ns`]: profiler_core::StageSnapshot::impact_ns
//! [`Snapshot::profiled_ns`]: profiler_core::Snapshot::profiled_ns
//! [`percentile_linear`]: crate::stats::percentile_linear

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stage's weight, from its share of profiled time (see the [module documentation](self)).
///
/// Ordered from `Low` to `Critical`, so `severity >= Severity::Medium` selects the bottlenecks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// At most 10 % of profiled time.
    Low,
    /// More than 10 % and at most 20 %.
    Medium,
    /// More than 20 % and at most 50 %.
    High,
    /// More than 50 %.
    Critical,
}

/// A share above this is [`Severity::Critical`].
pub const CRITICAL_ABOVE: f64 = 0.5;
/// A share above this (and not above [`CRITICAL_ABOVE`]) is [`Severity::High`].
pub const HIGH_ABOVE: f64 = 0.2;
/// A share above this (and not above [`HIGH_ABOVE`]) is [`Severity::Medium`].
pub const MEDIUM_ABOVE: f64 = 0.1;

impl Severity {
    /// The severity of a share of profiled time in `[0, 1]`.
    ///
    /// ```
    /// use profiler_report::Severity;
    /// assert_eq!(Severity::from_share(0.5), Severity::High);
    /// assert_eq!(Severity::from_share(0.500_001), Severity::Critical);
    /// ```
    #[must_use]
    pub fn from_share(share: f64) -> Self {
        if share > CRITICAL_ABOVE {
            Self::Critical
        } else if share > HIGH_ABOVE {
            Self::High
        } else if share > MEDIUM_ABOVE {
            Self::Medium
        } else {
            Self::Low
        }
    }

    /// The severity of `impact_ns` out of `profiled_ns`, compared exactly in integers (a float
    /// division can round a share just above a bound down onto it). `Low` when nothing was
    /// profiled.
    ///
    /// ```
    /// use profiler_report::Severity;
    /// assert_eq!(Severity::of_impact(500, 1000), Severity::High);
    /// assert_eq!(Severity::of_impact(501, 1000), Severity::Critical);
    /// assert_eq!(Severity::of_impact(0, 0), Severity::Low);
    /// ```
    #[must_use]
    pub fn of_impact(impact_ns: u64, profiled_ns: u64) -> Self {
        let (impact, profiled) = (u128::from(impact_ns), u128::from(profiled_ns));
        // share > 1/2, 1/5, 1/10 without dividing.
        if profiled == 0 {
            Self::Low
        } else if 2 * impact > profiled {
            Self::Critical
        } else if 5 * impact > profiled {
            Self::High
        } else if 10 * impact > profiled {
            Self::Medium
        } else {
            Self::Low
        }
    }

    /// The lowercase name used in reports and JSON: `low`, `medium`, `high` or `critical`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Stages with fewer calls are not judged by statistics.
pub const MIN_CALLS_FOR_STATISTICS: u64 = 10;
/// The rules comparing means need at least this many judged stages.
pub const MIN_STAGES_FOR_COMPARISON: usize = 3;
/// A mean above this percentile of the stage means (and [`MEDIUM_FACTOR`] × their mean) is
/// [`Severity::High`].
pub const OUTLIER_PERCENTILE: f64 = 0.95;
/// A mean above this multiple of the mean of stage means is [`Severity::High`].
pub const HIGH_FACTOR: f64 = 1.5;
/// A coefficient of variation above this is [`Severity::High`].
pub const HIGH_VARIATION_ABOVE: f64 = 1.0;
/// A mean above this multiple of the mean of stage means is [`Severity::Medium`].
pub const MEDIUM_FACTOR: f64 = 1.2;

/// The rule that gave a stage its severity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeverityReason {
    /// The impact view: the stage's share of profiled time.
    Impact {
        /// Share of profiled time, in `[0, 1]`.
        share: f64,
    },
    /// Its mean is above the 95th percentile of the stage means.
    MeanAboveP95 {
        /// The stage's mean call duration.
        mean_ns: f64,
        /// The 95th percentile of the stage means.
        p95_of_means_ns: f64,
    },
    /// Its mean is above `factor` × the mean of the stage means.
    MeanAboveAverage {
        /// The stage's mean call duration.
        mean_ns: f64,
        /// The mean of the stage means.
        average_ns: f64,
        /// [`HIGH_FACTOR`] or [`MEDIUM_FACTOR`].
        factor: f64,
    },
    /// Its calls vary widely: the coefficient of variation is above [`HIGH_VARIATION_ABOVE`].
    HighVariation {
        /// Standard deviation over mean of its call durations.
        cv: f64,
    },
    /// No rule of the statistical view holds (and the impact view is no higher).
    Typical {
        /// The stage's mean call duration.
        mean_ns: f64,
    },
}

impl SeverityReason {
    /// A short code naming the rule, as in the JSON field `severity_rule`: `impact`,
    /// `mean_above_p95`, `mean_above_average`, `high_variation` or `typical`.
    #[must_use]
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Impact { .. } => "impact",
            Self::MeanAboveP95 { .. } => "mean_above_p95",
            Self::MeanAboveAverage { .. } => "mean_above_average",
            Self::HighVariation { .. } => "high_variation",
            Self::Typical { .. } => "typical",
        }
    }
}

impl fmt::Display for SeverityReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::units::{format_ns_f, format_percent};
        match *self {
            Self::Impact { share } => write!(f, "{} of profiled time", format_percent(share)),
            Self::MeanAboveP95 { mean_ns, p95_of_means_ns } => write!(
                f,
                "mean {} above the 95th percentile of stage means ({})",
                format_ns_f(mean_ns),
                format_ns_f(p95_of_means_ns)
            ),
            Self::MeanAboveAverage { mean_ns, average_ns, factor } => write!(
                f,
                "mean {} above {factor}× the average stage mean ({})",
                format_ns_f(mean_ns),
                format_ns_f(average_ns)
            ),
            Self::HighVariation { cv } => write!(f, "calls vary widely (stdev/mean {cv:.2}, above 1)"),
            Self::Typical { mean_ns } => write!(f, "mean {} typical of the stages", format_ns_f(mean_ns)),
        }
    }
}

/// What the statistical view needs to know of one stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageSample {
    /// Number of calls.
    pub calls: u64,
    /// Mean call duration.
    pub mean_ns: f64,
    /// Coefficient of variation of call durations: standard deviation / mean (0 when the mean is 0).
    pub cv: f64,
    /// Whether its mean and spread describe its calls: false for a recursive stage (its calls
    /// nest, so they mix depths) and for one measured mostly as the profiler's own cost.
    pub comparable: bool,
}

/// The statistical view of every stage (see the [module documentation](self)), in the order
/// given: `None` for a stage with fewer than [`MIN_CALLS_FOR_STATISTICS`] calls or not
/// [comparable](StageSample::comparable).
///
/// ```
/// use profiler_report::severity::{statistical, Severity, StageSample};
/// let stage = |mean_ns| StageSample { calls: 100, mean_ns, cv: 0.1, comparable: true };
/// let views = statistical(&[stage(1000.0), stage(2000.0), stage(10_000.0)]);
/// assert_eq!(views[2].map(|(s, _)| s), Some(Severity::High)); // above the 95th percentile
/// assert_eq!(views[0].map(|(s, _)| s), Some(Severity::Low));
/// ```
#[must_use]
pub fn statistical(stages: &[StageSample]) -> Vec<Option<(Severity, SeverityReason)>> {
    let judged = |s: &StageSample| s.comparable && s.calls >= MIN_CALLS_FOR_STATISTICS;
    let means: Vec<f64> = stages.iter().filter(|s| judged(s)).map(|s| s.mean_ns).collect();
    let compare = means.len() >= MIN_STAGES_FOR_COMPARISON;
    let p95 = crate::stats::percentile_linear(&means, OUTLIER_PERCENTILE);
    let average = crate::stats::mean(&means);
    stages
        .iter()
        .map(|s| {
            if !judged(s) {
                return None;
            }
            let mean_ns = s.mean_ns;
            Some(if compare && mean_ns > p95 && mean_ns > MEDIUM_FACTOR * average {
                (Severity::High, SeverityReason::MeanAboveP95 { mean_ns, p95_of_means_ns: p95 })
            } else if compare && mean_ns > HIGH_FACTOR * average {
                (Severity::High, SeverityReason::MeanAboveAverage { mean_ns, average_ns: average, factor: HIGH_FACTOR })
            } else if s.cv > HIGH_VARIATION_ABOVE {
                (Severity::High, SeverityReason::HighVariation { cv: s.cv })
            } else if compare && mean_ns > MEDIUM_FACTOR * average {
                (
                    Severity::Medium,
                    SeverityReason::MeanAboveAverage { mean_ns, average_ns: average, factor: MEDIUM_FACTOR },
                )
            } else {
                (Severity::Low, SeverityReason::Typical { mean_ns })
            })
        })
        .collect()
}

/// The stronger of the impact view and the statistical view; the impact view on a tie. The
/// statistical view counts for at most one step above the impact severity, and at most `high`.
#[must_use]
pub fn stronger(
    impact: (Severity, SeverityReason),
    statistical: Option<(Severity, SeverityReason)>,
) -> (Severity, SeverityReason) {
    let one_step_up = match impact.0 {
        Severity::Low => Severity::Medium,
        Severity::Medium | Severity::High | Severity::Critical => Severity::High,
    };
    match statistical {
        Some((severity, reason)) if severity.min(one_step_up) > impact.0 => (severity.min(one_step_up), reason),
        _ => impact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_map_to_severities_with_bounds_in_the_lower_step() {
        let cases = [
            (0.0, Severity::Low),
            (0.1, Severity::Low),
            (0.100_001, Severity::Medium),
            (0.2, Severity::Medium),
            (0.200_001, Severity::High),
            (0.5, Severity::High),
            (0.500_001, Severity::Critical),
            (1.0, Severity::Critical),
        ];
        for (share, expected) in cases {
            assert_eq!(Severity::from_share(share), expected, "share {share}");
        }
    }

    #[test]
    fn integer_impacts_map_to_severities_with_exact_bounds() {
        let cases = [
            (0, 1000, Severity::Low),
            (100, 1000, Severity::Low),
            (101, 1000, Severity::Medium),
            (200, 1000, Severity::Medium),
            (201, 1000, Severity::High),
            (500, 1000, Severity::High),
            (501, 1000, Severity::Critical),
            (1000, 1000, Severity::Critical),
            (0, 0, Severity::Low),
            // Bounds stay exact where an f64 share would round: 2^62 + 1 out of 2^63.
            ((1 << 62) + 1, 1 << 63, Severity::Critical),
            (1 << 62, 1 << 63, Severity::High),
            (u64::MAX, u64::MAX, Severity::Critical),
        ];
        for (impact, profiled, expected) in cases {
            assert_eq!(Severity::of_impact(impact, profiled), expected, "{impact} of {profiled}");
        }
    }

    #[test]
    fn severities_order_and_print_in_lowercase() {
        assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
        let names: Vec<String> = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["low", "medium", "high", "critical"]);
        assert_eq!(format!("[{:<8}]", Severity::High), "[high    ]");
        assert_eq!(serde_json::to_string(&Severity::Critical).unwrap(), "\"critical\"");
    }

    fn sample(calls: u64, mean_ns: f64, cv: f64) -> StageSample {
        StageSample { calls, mean_ns, cv, comparable: true }
    }

    fn severities(stages: &[StageSample]) -> Vec<Option<Severity>> {
        statistical(stages).into_iter().map(|v| v.map(|(s, _)| s)).collect()
    }

    #[test]
    fn a_mean_standing_out_above_the_95th_percentile_of_means_is_high() {
        // Means 1, 2, 10: the 95th percentile is 2 + 0.9 × 8 = 9.2.
        let views = statistical(&[sample(10, 1.0, 0.0), sample(10, 2.0, 0.0), sample(10, 10.0, 0.0)]);
        assert_eq!(
            views[2],
            Some((Severity::High, SeverityReason::MeanAboveP95 { mean_ns: 10.0, p95_of_means_ns: 9.2 }))
        );
        // Four alike stages, one a little slower by chance: above the percentile, but not
        // standing out (below 1.2× the mean of means), so nothing.
        assert_eq!(
            severities(&[
                sample(100, 2.38, 0.1),
                sample(100, 2.31, 0.1),
                sample(100, 2.35, 0.1),
                sample(100, 2.29, 0.1)
            ]),
            [Some(Severity::Low); 4]
        );
        // At the percentile itself: not above it. Means 5, 5, 5: nothing stands out.
        assert_eq!(
            severities(&[sample(10, 5.0, 0.0), sample(10, 5.0, 0.0), sample(10, 5.0, 0.0)]),
            [Some(Severity::Low); 3]
        );
    }

    #[test]
    fn means_above_multiples_of_the_average_are_high_then_medium() {
        // Twenty stages so that the 95th percentile is far up: 18 × 100, then 151 and 400.
        // Average = (1800 + 151 + 400) / 20 = 117.55; 1.5× = 176.3, 1.2× = 141.06.
        let mut stages = vec![sample(50, 100.0, 0.0); 18];
        stages.push(sample(50, 151.0, 0.0));
        stages.push(sample(50, 400.0, 0.0));
        let views = statistical(&stages);
        assert_eq!(views[19].unwrap().0, Severity::High);
        assert_eq!(views[18].unwrap().0, Severity::Medium, "151 > 1.2 × 117.55 but < 1.5×");
        assert!(
            matches!(views[18].unwrap().1, SeverityReason::MeanAboveAverage { factor, .. } if factor == MEDIUM_FACTOR)
        );
        assert_eq!(views[0].unwrap().0, Severity::Low);

        // 180 instead of 151: average 119, above 1.5 × 119 = 178.5 and below the percentile 191 → high.
        stages[18] = sample(50, 180.0, 0.0);
        let views = statistical(&stages);
        assert_eq!(views[18].unwrap().0, Severity::High);
        assert!(
            matches!(views[18].unwrap().1, SeverityReason::MeanAboveAverage { factor, .. } if factor == HIGH_FACTOR)
        );
    }

    #[test]
    fn a_coefficient_of_variation_above_one_is_high() {
        let stages = [sample(10, 5.0, 1.01), sample(10, 5.0, 1.0), sample(10, 5.0, 0.0)];
        let views = statistical(&stages);
        assert_eq!(views[0], Some((Severity::High, SeverityReason::HighVariation { cv: 1.01 })));
        assert_eq!(views[1].unwrap().0, Severity::Low, "exactly 1 is not above 1");
    }

    #[test]
    fn stages_with_too_few_calls_are_not_judged_nor_counted() {
        let stages = [sample(9, 1e9, 5.0), sample(10, 1.0, 0.0), sample(10, 2.0, 0.0), sample(10, 10.0, 0.0)];
        let views = severities(&stages);
        assert_eq!(views[0], None);
        // The 9-call stage's huge mean does not enter the percentile: 10 is still above it.
        assert_eq!(views[3], Some(Severity::High));
    }

    #[test]
    fn stages_not_comparable_are_not_judged_nor_counted() {
        let recursive = StageSample { comparable: false, ..sample(1000, 1e9, 30.0) };
        let stages = [recursive, sample(10, 1.0, 0.0), sample(10, 2.0, 0.0), sample(10, 10.0, 0.0)];
        let views = severities(&stages);
        assert_eq!(views[0], None, "neither its spread nor its mean counts");
        assert_eq!(views[3], Some(Severity::High), "its mean stays out of the percentile");
    }

    #[test]
    fn with_fewer_than_three_stages_only_variation_counts() {
        assert_eq!(severities(&[sample(10, 1.0, 0.0), sample(10, 100.0, 0.0)]), [Some(Severity::Low); 2]);
        assert_eq!(severities(&[sample(10, 100.0, 2.0)]), [Some(Severity::High)]);
        assert_eq!(severities(&[]), []);
    }

    #[test]
    fn statistics_raise_a_stage_one_step_at_most_and_never_to_critical() {
        let high = (Severity::High, SeverityReason::HighVariation { cv: 3.0 });
        let low = (Severity::Low, SeverityReason::Impact { share: 0.01 });
        assert_eq!(stronger(low, Some(high)), (Severity::Medium, high.1));
        let medium = (Severity::Medium, SeverityReason::Impact { share: 0.15 });
        assert_eq!(stronger(medium, Some(high)), high);
        let critical = (Severity::Critical, SeverityReason::MeanAboveP95 { mean_ns: 9.0, p95_of_means_ns: 8.0 });
        let high_impact = (Severity::High, SeverityReason::Impact { share: 0.3 });
        assert_eq!(stronger(high_impact, Some(critical)), high_impact, "critical only by impact");
    }

    #[test]
    fn the_stronger_view_wins_and_impact_wins_ties() {
        let impact = (Severity::Medium, SeverityReason::Impact { share: 0.15 });
        let high = (Severity::High, SeverityReason::HighVariation { cv: 2.0 });
        assert_eq!(stronger(impact, Some(high)), high);
        assert_eq!(stronger(impact, Some((Severity::Medium, SeverityReason::Typical { mean_ns: 1.0 }))), impact);
        assert_eq!(stronger(impact, Some((Severity::Low, SeverityReason::Typical { mean_ns: 1.0 }))), impact);
        assert_eq!(stronger(impact, None), impact);
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(SeverityReason::Impact { share: 0.366 }.to_string(), "36.6% of profiled time");
        assert_eq!(
            SeverityReason::MeanAboveP95 { mean_ns: 10e6, p95_of_means_ns: 8.95e6 }.to_string(),
            "mean 10.0ms above the 95th percentile of stage means (8.95ms)"
        );
        assert_eq!(
            SeverityReason::MeanAboveAverage { mean_ns: 5e6, average_ns: 3.33e6, factor: 1.5 }.to_string(),
            "mean 5.00ms above 1.5× the average stage mean (3.33ms)"
        );
        assert_eq!(
            SeverityReason::HighVariation { cv: 1.184 }.to_string(),
            "calls vary widely (stdev/mean 1.18, above 1)"
        );
        assert_eq!(SeverityReason::HighVariation { cv: 1.0 }.rule(), "high_variation");
    }
}
