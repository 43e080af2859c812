//! Small numeric helpers shared by the analyses: shares, means and percentiles of plain numbers.
//!
//! Per-stage statistics (mean, percentiles, impact, severity) live in
//! [`analysis::StageAnalysis`](crate::analysis::StageAnalysis).

/// `part / whole`, or 0 when `whole` is 0.
///
/// ```
/// assert_eq!(profiler_report::stats::share(1, 4), 0.25);
/// assert_eq!(profiler_report::stats::share(5, 0), 0.0);
/// ```
#[must_use]
pub fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// The arithmetic mean, or 0 for no values.
#[must_use]
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 }
}

/// The `q` quantile (`q` in `[0, 1]`) of `values` by linear interpolation between the closest
/// ranks (numpy's default, "R-7"): rank `q·(n−1)` counted from 0. 0 for no values.
///
/// ```
/// use profiler_report::stats::percentile_linear;
/// assert_eq!(percentile_linear(&[3.0, 1.0, 2.0], 0.5), 2.0);
/// assert!((percentile_linear(&[1.0, 2.0, 10.0], 0.95) - 9.2).abs() < 1e-9);
/// ```
#[must_use]
pub fn percentile_linear(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let Some(&last) = sorted.last() else { return 0.0 };
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    match sorted.get(below + 1) {
        Some(&above) => sorted[below] + (above - sorted[below]) * (rank - below as f64),
        None => last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_of_nothing_is_zero() {
        assert!(share(5, 0) == 0.0);
        assert!((share(1, 4) - 0.25).abs() < f64::EPSILON);
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn linear_percentiles_interpolate_between_ranks() {
        assert!(close(percentile_linear(&[], 0.5), 0.0));
        assert!(close(percentile_linear(&[7.0], 0.95), 7.0));
        // Two values: the 95th percentile lies 95 % of the way from the smaller to the larger.
        assert!(close(percentile_linear(&[10.0, 0.0], 0.95), 9.5));
        assert!(close(percentile_linear(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.0), 1.0));
        assert!(close(percentile_linear(&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0), 5.0));
        assert!(close(percentile_linear(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.3), 2.2));
    }

    #[test]
    fn means() {
        assert!(close(mean(&[]), 0.0));
        assert!(close(mean(&[1.0, 2.0, 6.0]), 3.0));
    }
}
