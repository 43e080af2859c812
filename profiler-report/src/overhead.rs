//! The profiler's own cost: how much it adds, which stages it makes unreliable, and the opt-in
//! compensation.
//!
//! The core measures the cost of one instrumented call at start-up, and again at each of the
//! first snapshots, keeping the lowest result ([`Snapshot::overhead`]): `per_call_ns`, what
//! each call adds to its caller's time (entry, exit and both clock reads), and `in_stage_ns`,
//! the part of it that falls between the two clock reads and so inside the stage's own
//! measured duration. Both are 0 when the core did not calibrate; the report then says "not
//! calibrated" and skips everything below.
//!
//! - **Estimated overhead**: `per_call_ns` × the calls of all stages, in thread-time like the
//!   profiled time it is compared with.
//! - **Unreliable stages**: a stage whose mean call duration is below [`UNRELIABLE_FACTOR`] ×
//!   `in_stage_ns` is measured mostly as the profiler's own cost; its numbers are flagged.
//! - **Compensation** (opt-in: `PROFILE_COMPENSATE=1` or [`ReportOptions::compensate`]): a
//!   node of the call tree, with `c` its calls and `k` the calls of its direct children, holds
//!   `in_stage_ns` of the profiler per call of its own, and per call of a child the part of
//!   `per_call_ns` outside the child's clock reads (the rest is in the child's own time). So
//!
//!   ```text
//!   self'  = self − in_stage_ns · c − (per_call_ns − in_stage_ns) · k     (clamped at 0)
//!   total' = total − what self' took from the node and from each of its descendants
//!          = total − in_stage_ns · c − per_call_ns · d     (d: calls of all descendants)
//!   ```
//!
//!   (busy' alike), so that a node's time still equals its self time plus its children's, also
//!   where a calibration above the real cost clamps a self time at 0. A stage loses what its
//!   nodes lose: its self time the losses of all its nodes, its total (and busy) time those of
//!   its outermost nodes (as its total counts only those), and its sum of call durations, hence
//!   its mean, the total loss of every node. Profiled time, impacts, severities and
//!   recommendations then follow from the compensated times. Minimum, maximum, percentiles and standard deviation stay as measured,
//!   and so do trends (the correction would shift both windows alike). A stage absent from the
//!   call tree loses `in_stage_ns` per call from its self, total and summed time.
//!
//! [`Snapshot::overhead`]: profiler_core::Snapshot::overhead
//! [`ReportOptions::compensate`]: crate::ReportOptions::compensate

use serde::{Deserialize, Serialize};

use profiler_core::{Overhead, Snapshot};

use crate::analysis::outermost;
use crate::stats::share;

/// A stage whose mean is below this multiple of `in_stage_ns` is flagged as unreliable.
pub const UNRELIABLE_FACTOR: f64 = 10.0;

/// What the profiler cost, as the report states it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverheadReport {
    /// Whether the core calibrated its cost (`per_call_ns` > 0).
    pub calibrated: bool,
    /// Cost of one instrumented call to its caller.
    pub per_call_ns: f64,
    /// The part of `per_call_ns` inside the stage's own measured duration.
    pub in_stage_ns: f64,
    /// Calls of all stages.
    pub calls: u64,
    /// `per_call_ns × calls`, rounded: thread-time the profiler added.
    pub estimated_ns: u64,
    /// `estimated_ns` as a share of the measured (uncompensated) profiled time.
    pub share: f64,
    /// Stages with a mean below this (`UNRELIABLE_FACTOR × in_stage_ns`) are unreliable; 0 when
    /// not calibrated.
    pub unreliable_below_ns: f64,
    /// Names of the unreliable stages, by name.
    pub unreliable: Vec<String>,
    /// Whether the analysis subtracted the calibrated cost (see the module documentation).
    pub compensated: bool,
}

/// Whether a stage's mean is too close to the profiler's own cost to be trusted.
#[must_use]
pub fn is_unreliable(mean_ns: f64, overhead: &Overhead) -> bool {
    overhead.in_stage_ns > 0.0 && mean_ns < UNRELIABLE_FACTOR * overhead.in_stage_ns
}

/// The overhead report of a snapshot, as measured (before any compensation).
#[must_use]
pub fn report(snapshot: &Snapshot, compensated: bool) -> OverheadReport {
    let overhead = snapshot.overhead;
    let calibrated = overhead.per_call_ns > 0.0;
    let calls = snapshot.stages.iter().map(|s| s.calls).fold(0, u64::saturating_add);
    let estimated_ns = if calibrated { to_ns(overhead.per_call_ns * calls as f64) } else { 0 };
    let mut unreliable: Vec<String> = snapshot
        .stages
        .iter()
        .filter(|s| s.calls > 0 && is_unreliable(s.mean_ns(), &overhead))
        .map(|s| s.name.clone())
        .collect();
    unreliable.sort();
    OverheadReport {
        calibrated,
        per_call_ns: overhead.per_call_ns,
        in_stage_ns: overhead.in_stage_ns,
        calls,
        estimated_ns,
        share: share(estimated_ns, snapshot.profiled_ns()),
        unreliable_below_ns: if calibrated { UNRELIABLE_FACTOR * overhead.in_stage_ns } else { 0.0 },
        unreliable,
        compensated: compensated && calibrated,
    }
}

/// The snapshot with the calibrated cost subtracted (see the module documentation). Returns an
/// unchanged copy when the snapshot is not calibrated.
#[must_use]
pub fn compensate(snapshot: &Snapshot) -> Snapshot {
    let mut out = snapshot.clone();
    let Overhead { per_call_ns, in_stage_ns } = snapshot.overhead;
    if per_call_ns <= 0.0 && in_stage_ns <= 0.0 {
        return out;
    }
    let nodes = &snapshot.tree;
    // Calls of each node's direct children (children follow parents).
    let mut child_calls = vec![0u64; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if let Some(parent) = node.parent.filter(|&p| p < i) {
            // Saturating: calls near u64::MAX come only from a damaged profile.
            child_calls[parent] = child_calls[parent].saturating_add(node.calls);
        }
    }
    let outside_child = (per_call_ns - in_stage_ns).max(0.0);
    let self_cut: Vec<u64> = nodes
        .iter()
        .zip(&child_calls)
        .map(|(node, &k)| to_ns(in_stage_ns * node.calls as f64 + outside_child * k as f64).min(node.self_ns))
        .collect();
    // A node's time loses what its own self time and its descendants' lost.
    let mut total_cut = self_cut.clone();
    for i in (0..nodes.len()).rev() {
        if let Some(parent) = nodes[i].parent.filter(|&p| p < i) {
            total_cut[parent] = total_cut[parent].saturating_add(total_cut[i]);
        }
    }
    let mut self_loss = vec![0u64; snapshot.stages.len()];
    let mut total_loss = vec![0u64; snapshot.stages.len()];
    let mut busy_loss = vec![0u64; snapshot.stages.len()];
    let mut sum_loss = vec![0u64; snapshot.stages.len()];
    let mut in_tree = vec![false; snapshot.stages.len()];
    let outermost = outermost(nodes);
    for (i, node) in nodes.iter().enumerate() {
        let out_node = &mut out.tree[i];
        out_node.self_ns -= self_cut[i];
        out_node.total_ns = out_node.total_ns.saturating_sub(total_cut[i]);
        out_node.busy_ns = out_node.busy_ns.saturating_sub(total_cut[i]);
        if node.stage >= snapshot.stages.len() {
            continue;
        }
        in_tree[node.stage] = true;
        self_loss[node.stage] = self_loss[node.stage].saturating_add(self_cut[i]);
        sum_loss[node.stage] = sum_loss[node.stage].saturating_add(total_cut[i]);
        if outermost[i] {
            total_loss[node.stage] = total_loss[node.stage].saturating_add(total_cut[i].min(node.total_ns));
            busy_loss[node.stage] = busy_loss[node.stage].saturating_add(total_cut[i].min(node.busy_ns));
        }
    }
    for (s, stage) in out.stages.iter_mut().enumerate() {
        if !in_tree[s] {
            let own = to_ns(in_stage_ns * stage.calls as f64);
            (self_loss[s], total_loss[s], busy_loss[s], sum_loss[s]) = (own, own, own, own);
        }
        stage.self_ns = stage.self_ns.saturating_sub(self_loss[s]);
        stage.sum_ns = stage.sum_ns.saturating_sub(sum_loss[s]);
        stage.busy_ns = stage.busy_ns.saturating_sub(busy_loss[s]);
        stage.total_ns = stage.total_ns.saturating_sub(total_loss[s]);
    }
    out
}

/// A non-negative float of nanoseconds, rounded.
fn to_ns(ns: f64) -> u64 {
    if ns.is_finite() && ns > 0.0 { ns.round() as u64 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::full_snapshot;

    #[test]
    fn the_estimate_is_the_cost_per_call_times_the_calls() {
        let snapshot = full_snapshot();
        let report = report(&snapshot, false);
        let calls: u64 = snapshot.stages.iter().map(|s| s.calls).sum();
        assert!(report.calibrated);
        assert_eq!(report.calls, calls);
        assert_eq!(report.estimated_ns, 25 * calls);
        assert!((report.share - (25 * calls) as f64 / 820e6).abs() < 1e-12);
        assert!((report.unreliable_below_ns - 90.0).abs() < 1e-12);
        assert_eq!(report.unreliable, ["tiny"]);
        assert!(!report.compensated);
    }

    #[test]
    fn uncalibrated_snapshots_estimate_nothing_and_flag_nothing() {
        let mut snapshot = full_snapshot();
        snapshot.overhead = Overhead::default();
        let report = report(&snapshot, true);
        assert!(!report.calibrated && !report.compensated);
        assert_eq!((report.estimated_ns, report.unreliable.len()), (0, 0));
        let same = compensate(&snapshot);
        assert_eq!(same.stages, snapshot.stages);
        assert_eq!(same.tree, snapshot.tree);
    }

    #[test]
    fn calls_near_u64_max_saturate_and_compensation_takes_everything() {
        let mut snapshot = full_snapshot();
        for stage in &mut snapshot.stages {
            stage.calls = u64::MAX;
        }
        for node in &mut snapshot.tree {
            node.calls = u64::MAX;
        }
        assert_eq!(report(&snapshot, true).calls, u64::MAX);
        assert_takes_all_but_waiting(&snapshot, &compensate(&snapshot));
    }

    /// Everything is taken but the wall time `async` calls spent waiting (outside polls),
    /// which no cost per call can account for.
    fn assert_takes_all_but_waiting(snapshot: &Snapshot, c: &Snapshot) {
        for (node, was) in c.tree.iter().zip(&snapshot.tree) {
            let waiting = if was.busy_ns > 0 { was.total_ns - was.busy_ns } else { 0 };
            assert_eq!((node.self_ns, node.total_ns, node.busy_ns), (0, waiting, 0), "{was:?}");
        }
        for (stage, was) in c.stages.iter().zip(&snapshot.stages) {
            let waiting = if was.is_async { was.total_ns - was.busy_ns } else { 0 };
            assert_eq!((stage.self_ns, stage.total_ns, stage.busy_ns), (0, waiting, 0), "{}", was.name);
        }
        assert_eq!(c.profiled_ns(), 0);
    }

    #[test]
    fn the_unreliable_bound_is_ten_times_the_in_stage_cost() {
        let overhead = Overhead { per_call_ns: 30.0, in_stage_ns: 10.0 };
        assert!(is_unreliable(99.9, &overhead));
        assert!(!is_unreliable(100.0, &overhead));
        assert!(!is_unreliable(1.0, &Overhead::default()));
    }

    #[test]
    fn compensation_subtracts_the_documented_amounts() {
        let snapshot = full_snapshot();
        let c = compensate(&snapshot);
        // main: 1 call, children 1000 + 20 calls, descendants 1000 + 50 + 20 + 200_000. A
        // child's call costs its parent `per_call`, of which `in_stage` is in the child's time.
        let (per_call, in_stage) = (25u64, 9u64);
        let main = (&snapshot.stages[0], &c.stages[0]);
        assert_eq!(main.1.self_ns, main.0.self_ns - in_stage - (per_call - in_stage) * 1020);
        assert_eq!(main.1.total_ns, main.0.total_ns - in_stage - per_call * 201_070);
        assert_eq!(main.1.sum_ns, main.0.sum_ns - in_stage - per_call * 201_070);
        // render is a leaf: 50 calls.
        let render = (&snapshot.stages[2], &c.stages[2]);
        assert_eq!(render.1.self_ns, render.0.self_ns - in_stage * 50);
        assert_eq!(render.1.total_ns, render.0.total_ns - in_stage * 50);
        assert!((render.1.mean_ns() - (render.0.mean_ns() - 9.0)).abs() < 1e-9);
        // The tree stays consistent: a node's time is its self time plus its children's.
        for tree in [&snapshot.tree, &c.tree] {
            for (i, node) in tree.iter().enumerate() {
                let time =
                    |n: &profiler_core::TreeNode| if c.stages[n.stage].is_async { n.busy_ns } else { n.total_ns };
                let children: u64 = tree.iter().filter(|n| n.parent == Some(i)).map(time).sum();
                assert_eq!(time(node) - children, node.self_ns, "node {i}");
            }
        }
        // Percentiles and extremes stay as measured.
        assert_eq!(c.stages[1].histogram, snapshot.stages[1].histogram);
        assert_eq!((c.stages[1].min_ns, c.stages[1].max_ns), (snapshot.stages[1].min_ns, snapshot.stages[1].max_ns));
    }

    #[test]
    fn a_clamped_self_time_keeps_parents_at_least_as_long_as_their_children() {
        // A calibration above the real cost of the 200,000 calls `app::net::fetch` makes to
        // `tiny` clamps fetch's self time at 0; its time must still hold its children's.
        let mut snapshot = full_snapshot();
        snapshot.overhead = Overhead { per_call_ns: 2000.0, in_stage_ns: 9.0 };
        let c = compensate(&snapshot);
        assert_eq!(c.tree[3].self_ns, 0, "the case this test is about");
        // A node's time (busy time for `async` stages) is its self time plus its children's.
        let time = |n: &profiler_core::TreeNode| if c.stages[n.stage].is_async { n.busy_ns } else { n.total_ns };
        for (i, node) in c.tree.iter().enumerate() {
            let children: u64 = c.tree.iter().filter(|n| n.parent == Some(i)).map(time).sum();
            assert_eq!(time(node), node.self_ns + children, "node {i}");
        }
    }

    #[test]
    fn compensation_clamps_at_zero() {
        let mut snapshot = full_snapshot();
        snapshot.overhead = Overhead { per_call_ns: 1e9, in_stage_ns: 1e9 };
        assert_takes_all_but_waiting(&snapshot, &compensate(&snapshot));
    }
}
