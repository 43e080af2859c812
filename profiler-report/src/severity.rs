//! How much a stage weighs in the program, in four steps.
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
//! [`StageSnapshot::impact_ns`]: profiler_core::StageSnapshot::impact_ns
//! [`Snapshot::profiled_ns`]: profiler_core::Snapshot::profiled_ns

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
}
