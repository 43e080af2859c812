//! Trends within one run: a stage's early calls against its late calls.
//!
//! The profiler keeps every stage's calls in time order, in segments of doubling length per
//! thread and call path ([`StageSnapshot::segments`]: segment `k` holds calls `2^k` to
//! `2^(k+1) − 1`), summed over threads and paths. Memory stays bounded however long the run.
//!
//! From those segments, with `n` the number of calls in all segments:
//!
//! - **warm-up**: segment 0 (the first call on each thread and path) is left out: first calls
//!   pay for cold caches and lazy initialisation;
//! - **early window**: the leading segments from segment 1 on, as many as fit in the first
//!   quarter of the calls (`n / 4`): between about an eighth and a quarter of the calls;
//! - **late window**: the trailing segments, from the last one back, until they hold at least
//!   a third of the calls: between a third and about two thirds, roughly the last half.
//!
//! Both windows need at least [`MIN_CALLS_PER_WINDOW`] calls, and they never overlap; on a
//! single thread that takes about 60 calls. The change is `late mean / early mean − 1`:
//! above +10 % ([`CHANGE_THRESHOLD`]) the stage is **degrading**, below −10 % **improving**,
//! otherwise **stable** (exactly ±10 % is stable; compared in integers, so exactly).
//!
//! `async` stages have no segments, hence no trend. Means are the measured ones: overhead
//! compensation does not apply here (it would shift both windows alike).
//!
//! [`StageSnapshot::segments`]: profiler_core::StageSnapshot::segments

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use profiler_core::{Segment, StageSnapshot};

/// Each window needs at least this many calls for a trend to be reported.
pub const MIN_CALLS_PER_WINDOW: u64 = 8;

/// A change beyond ± this fraction is a trend (`0.10` = 10 %).
pub const CHANGE_THRESHOLD: f64 = 0.10;

/// Which way a stage's call durations went during the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Late calls are more than 10 % faster than early ones.
    Improving,
    /// Late calls are more than 10 % slower than early ones.
    Degrading,
    /// Within ±10 %.
    Stable,
}

impl Direction {
    /// `improving`, `degrading` or `stable`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Improving => "improving",
            Self::Degrading => "degrading",
            Self::Stable => "stable",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The trend of one stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// The stage name.
    pub stage: String,
    /// Improving, degrading or stable.
    pub direction: Direction,
    /// `late_mean_ns / early_mean_ns − 1`: `0.25` means late calls take 25 % longer.
    pub change: f64,
    /// Mean duration of the calls in the early window.
    pub early_mean_ns: f64,
    /// Mean duration of the calls in the late window.
    pub late_mean_ns: f64,
    /// Calls in the early window.
    pub early_calls: u64,
    /// Calls in the late window.
    pub late_calls: u64,
}

/// The early and late windows as ranges of segment indices, or `None` when either would hold
/// fewer than [`MIN_CALLS_PER_WINDOW`] calls (see the [module documentation](self)).
#[must_use]
pub fn windows(segments: &[Segment]) -> Option<(Range<usize>, Range<usize>)> {
    // Calls are counted in a u64: segments holding more (only in a damaged profile) have no
    // trend. The thirds and quarters are compared in u128, where they cannot overflow.
    let total = u128::from(segments.iter().try_fold(0u64, |total, s| total.checked_add(s.calls))?);
    // Late: trailing segments until they hold at least a third of the calls.
    let mut late_start = segments.len();
    let mut late_calls = 0u128;
    while late_start > 1 && 3 * late_calls < total {
        late_start -= 1;
        late_calls += u128::from(segments[late_start].calls);
    }
    // Early: segments 1.. while they fit in a quarter of the calls, before the late window.
    let mut early_end = 1;
    let mut early_calls = 0u128;
    while early_end < late_start && 4 * (early_calls + u128::from(segments[early_end].calls)) <= total {
        early_calls += u128::from(segments[early_end].calls);
        early_end += 1;
    }
    let min = u128::from(MIN_CALLS_PER_WINDOW);
    (early_calls >= min && late_calls >= min).then_some((1..early_end, late_start..segments.len()))
}

/// The trend of a stage, or `None` without enough calls in time order (or when the early
/// calls took no measurable time).
#[must_use]
pub fn trend_of(stage: &StageSnapshot) -> Option<Trend> {
    let (early, late) = windows(&stage.segments)?;
    let sum = |range: Range<usize>| {
        // The calls of a window fit in a u64: `windows` checked that all the segments' do.
        stage.segments[range].iter().fold((0u64, 0u64), |(c, s), seg| (c + seg.calls, s.saturating_add(seg.sum_ns)))
    };
    let (early_calls, early_sum) = sum(early);
    let (late_calls, late_sum) = sum(late);
    // late_mean / early_mean against 1 ± 10 %, in integers: late_sum·early_calls against
    // early_sum·late_calls·(10 ± 1)/10. A product of two u64 fits in a u128; eleven times it
    // may not (sums and calls near 2^64, only in a damaged profile): such products both lose
    // their lowest 4 bits first.
    let (mut late_scaled, mut early_scaled) =
        (u128::from(late_sum) * u128::from(early_calls), u128::from(early_sum) * u128::from(late_calls));
    if late_scaled.max(early_scaled) > u128::MAX / 11 {
        (late_scaled, early_scaled) = (late_scaled >> 4, early_scaled >> 4);
    }
    let late_scaled = 10 * late_scaled;
    let direction = if late_scaled > 11 * early_scaled {
        Direction::Degrading
    } else if late_scaled < 9 * early_scaled {
        Direction::Improving
    } else {
        Direction::Stable
    };
    if early_sum == 0 {
        return None; // calls of no measurable duration: no ratio to speak of
    }
    let early_mean_ns = early_sum as f64 / early_calls as f64;
    let late_mean_ns = late_sum as f64 / late_calls as f64;
    let change = late_mean_ns / early_mean_ns - 1.0;
    Some(Trend { stage: stage.name.clone(), direction, change, early_mean_ns, late_mean_ns, early_calls, late_calls })
}

/// The trends of every stage that has one: degrading first (largest change first), then
/// improving (largest improvement first), then stable (by name).
#[must_use]
pub fn trends<'a>(stages: impl IntoIterator<Item = &'a StageSnapshot>) -> Vec<Trend> {
    let mut found: Vec<Trend> = stages.into_iter().filter_map(trend_of).collect();
    let rank = |t: &Trend| match t.direction {
        Direction::Degrading => 0,
        Direction::Improving => 1,
        Direction::Stable => 2,
    };
    found.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| match a.direction {
                Direction::Degrading => b.change.total_cmp(&a.change),
                Direction::Improving => a.change.total_cmp(&b.change),
                Direction::Stable => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.stage.cmp(&b.stage))
    });
    found
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The segments of `calls` calls on one thread whose duration is `duration(i)` for call `i`
    /// (counting from 1), as the profiler records them.
    pub(crate) fn segments_of(calls: u64, duration: impl Fn(u64) -> u64) -> Vec<Segment> {
        let mut segments: Vec<Segment> = Vec::new();
        for i in 1..=calls {
            let k = i.ilog2() as usize;
            if segments.len() <= k {
                segments.resize(k + 1, Segment::default());
            }
            segments[k].calls += 1;
            segments[k].sum_ns += duration(i);
        }
        segments
    }

    fn stage(segments: Vec<Segment>) -> StageSnapshot {
        StageSnapshot {
            name: "s".to_owned(),
            calls: segments.iter().map(|s| s.calls).fold(0, u64::saturating_add),
            total_ns: 0,
            self_ns: 0,
            busy_ns: 0,
            is_async: false,
            sum_ns: segments.iter().map(|s| s.sum_ns).fold(0, u64::saturating_add),
            min_ns: 0,
            max_ns: 0,
            threads: 1,
            histogram: profiler_core::Histogram::default(),
            segments,
        }
    }

    #[test]
    fn windows_cover_an_early_quarter_and_a_late_half() {
        // 127 calls: segments of 1, 2, 4, ..., 64. Early: 2+4+8+16 = 30 ≤ 31.75; late: 64.
        let segments = segments_of(127, |_| 1);
        assert_eq!(windows(&segments), Some((1..5, 6..7)));
        // 128 calls: the last segment holds one call, so the late window takes one more.
        let segments = segments_of(128, |_| 1);
        assert_eq!(windows(&segments), Some((1..5, 6..8)));
        // 96 calls: last segment 33 calls ≥ 96/3.
        let segments = segments_of(96, |_| 1);
        assert_eq!(windows(&segments), Some((1..4, 6..7)));
        for calls in 56..5000 {
            let segments = segments_of(calls, |_| 1);
            let (early, late) = windows(&segments).unwrap_or_else(|| panic!("{calls}"));
            let count = |r: Range<usize>| segments[r].iter().map(|s| s.calls).sum::<u64>() as f64;
            let (e, l) = (count(early.clone()) / calls as f64, count(late.clone()) / calls as f64);
            assert!(early.end <= late.start, "{calls}: overlap");
            assert!((0.1..=0.25).contains(&e), "{calls}: early {e}");
            assert!((1.0 / 3.0..=0.7).contains(&l), "{calls}: late {l}");
        }
    }

    #[test]
    fn too_few_calls_give_no_windows() {
        // 55 calls: early would be segments 1..2 (6 calls < 8).
        assert_eq!(windows(&segments_of(55, |_| 1)), None);
        assert!(windows(&segments_of(56, |_| 1)).is_some());
        assert_eq!(windows(&[]), None);
        assert_eq!(windows(&segments_of(1, |_| 1)), None);
    }

    #[test]
    fn slower_late_calls_are_degrading_and_faster_ones_improving() {
        let degrading = trend_of(&stage(segments_of(1000, |i| 1000 + i))).unwrap();
        assert_eq!(degrading.direction, Direction::Degrading);
        assert!(degrading.change > 0.3, "{degrading:?}");
        let improving = trend_of(&stage(segments_of(1000, |i| 100_000 - 50 * i))).unwrap();
        assert_eq!(improving.direction, Direction::Improving);
        assert!(improving.change < -0.3, "{improving:?}");
        let flat = trend_of(&stage(segments_of(1000, |_| 500))).unwrap();
        assert_eq!((flat.direction, flat.change), (Direction::Stable, 0.0));
    }

    #[test]
    fn the_first_call_is_warm_up() {
        // A first call a million times slower than the others changes nothing.
        let trend = trend_of(&stage(segments_of(1000, |i| if i == 1 { 1_000_000_000 } else { 1000 }))).unwrap();
        assert_eq!((trend.direction, trend.change), (Direction::Stable, 0.0));
    }

    #[test]
    fn ten_percent_exactly_is_stable_and_just_beyond_is_a_trend() {
        // Hand-made segments: a warm-up call, 30 early calls at `early` ns, 80 late ones at `late` ns.
        let make = |early: u64, late: u64| {
            stage(vec![
                Segment { calls: 1, sum_ns: 0 },
                Segment { calls: 10, sum_ns: 10 * early },
                Segment { calls: 20, sum_ns: 20 * early },
                Segment { calls: 40, sum_ns: 40 * early },
                Segment { calls: 80, sum_ns: 80 * late },
            ])
        };
        // n = 151: early = segments 1..=2 (30 ≤ 151 / 4), late = segment 4 (80 ≥ 151 / 3).
        assert_eq!(windows(&make(1, 1).segments), Some((1..3, 4..5)));
        let at = |early, late| trend_of(&make(early, late)).unwrap().direction;
        assert_eq!(at(1000, 1100), Direction::Stable);
        assert_eq!(at(1000, 1101), Direction::Degrading);
        assert_eq!(at(1000, 900), Direction::Stable);
        assert_eq!(at(1000, 899), Direction::Improving);
        // Where a float would round 110/100 − 1 above 0.1, integers keep it stable.
        assert_eq!(at(100, 110), Direction::Stable);
    }

    #[test]
    fn calls_and_sums_near_u64_max_give_a_trend_or_none_without_overflow() {
        let make = |calls: u64, early: u64, late: u64| {
            stage(vec![
                Segment { calls: 1, sum_ns: 0 },
                Segment { calls, sum_ns: early },
                Segment { calls, sum_ns: early },
                Segment { calls, sum_ns: early },
                Segment { calls, sum_ns: late },
            ])
        };
        let huge = u64::MAX / 5;
        // Products near 2^126: compared without their lowest 4 bits.
        let trend = trend_of(&make(huge, u64::MAX / 2, u64::MAX / 2)).unwrap();
        assert_eq!((trend.direction, trend.early_calls, trend.late_calls), (Direction::Stable, huge, 2 * huge));
        assert_eq!(trend_of(&make(huge, 1000, u64::MAX)).unwrap().direction, Direction::Degrading);
        assert_eq!(trend_of(&make(huge, u64::MAX, 1000)).unwrap().direction, Direction::Improving);
        // More calls than a u64 counts: no trend.
        assert_eq!(windows(&make(u64::MAX / 2, 1, 1).segments), None);
    }

    #[test]
    fn trends_sort_degrading_then_improving_then_stable() {
        let mut stages = vec![
            stage(segments_of(500, |_| 10)),
            stage(segments_of(500, |i| 1000 + 10 * i)),
            stage(segments_of(500, |i| 1000 + i)),
            stage(segments_of(500, |i| 10_000 - 10 * i)),
            stage(segments_of(3, |_| 10)),
        ];
        for (i, s) in stages.iter_mut().enumerate() {
            s.name = format!("s{i}");
        }
        let found = trends(&stages);
        let order: Vec<(&str, Direction)> = found.iter().map(|t| (t.stage.as_str(), t.direction)).collect();
        assert_eq!(
            order,
            [
                ("s1", Direction::Degrading),
                ("s2", Direction::Degrading),
                ("s3", Direction::Improving),
                ("s0", Direction::Stable)
            ]
        );
    }
}
