//! Merging profiles of several processes or machines into one.
//!
//! Stages are matched by name and their numbers added exactly: calls, inclusive, exclusive,
//! busy and summed times, threads; the minimum is the smallest minimum and the maximum the
//! largest maximum; histograms are added bucket by bucket, so percentiles of the merged profile
//! are those of all the calls together (within the histogram's 1/128); segments (calls in time
//! order) are added by index. Call trees are merged by path of stage names. Counters are added
//! by name; memory records add their samples and sums, keep the smallest minimum, the largest
//! peak and the last value of the most recent profile. The merged run's wall time is the
//! longest, its creation time the latest, its threads the sum, and the profiler's cost per call
//! the mean of the calibrated inputs weighted by their calls. Timed events (tracing) are dropped:
//! timelines of different processes do not share a clock. A merge whose counts or sums would
//! not fit their integers (only damaged or hand-made profiles hold such numbers) is refused
//! rather than written with wrong, saturated numbers.

use std::collections::HashMap;

use profiler_core::{CounterSnapshot, MemorySnapshot, Overhead, Snapshot, StageSnapshot, TreeNode};

use crate::analysis::analyze;
use crate::json::Profile;
use crate::options::ReportOptions;

/// Merges snapshots (see the [module documentation](self)). Merging no snapshot gives an empty
/// one created at the Unix epoch.
///
/// # Errors
/// A count or a sum does not fit its integer; the message names the stage (or counter, memory
/// record) and the field: ``stage `render`: the calls add up to more than 18446744073709551615``.
pub fn merge(snapshots: &[Snapshot]) -> Result<Snapshot, String> {
    let mut stages: Vec<StageSnapshot> = Vec::new();
    let mut stage_index: HashMap<String, usize> = HashMap::new();
    let mut tree: Vec<TreeNode> = Vec::new();
    let mut node_index: HashMap<(Option<usize>, usize), usize> = HashMap::new();
    let mut counters: Vec<CounterSnapshot> = Vec::new();
    let mut memory: Vec<(MemorySnapshot, std::time::SystemTime)> = Vec::new();
    for snapshot in snapshots {
        let local: Vec<usize> =
            snapshot.stages.iter().map(|s| add_stage(&mut stages, &mut stage_index, s)).collect::<Result<_, _>>()?;
        let mut local_nodes: Vec<usize> = Vec::with_capacity(snapshot.tree.len());
        for (i, node) in snapshot.tree.iter().enumerate() {
            let parent = node.parent.filter(|&p| p < i).map(|p| local_nodes[p]);
            let stage = local.get(node.stage).copied().unwrap_or_default();
            let merged = *node_index.entry((parent, stage)).or_insert_with(|| {
                tree.push(TreeNode { stage, parent, calls: 0, total_ns: 0, self_ns: 0, busy_ns: 0 });
                tree.len() - 1
            });
            let into = &mut tree[merged];
            let name = stages.get(stage).map_or("", |s| s.name.as_str());
            let what = |field: &str| format!("stage `{name}`: the {field} of one path of the call tree");
            add(&mut into.calls, node.calls, || what("calls"))?;
            add(&mut into.total_ns, node.total_ns, || what("`total_ns`"))?;
            add(&mut into.self_ns, node.self_ns, || what("`self_ns`"))?;
            add(&mut into.busy_ns, node.busy_ns, || what("`busy_ns`"))?;
            local_nodes.push(merged);
        }
        for counter in &snapshot.counters {
            match counters.iter_mut().find(|c| c.name == counter.name) {
                Some(into) => {
                    add(&mut into.value, counter.value, || format!("counter `{}`: the values", counter.name))?;
                }
                None => counters.push(counter.clone()),
            }
        }
        for record in &snapshot.memory {
            match memory.iter_mut().find(|(m, _)| m.name == record.name) {
                Some((into, latest)) => {
                    if record.samples > 0 {
                        into.min_bytes =
                            if into.samples == 0 { record.min_bytes } else { into.min_bytes.min(record.min_bytes) };
                        into.peak_bytes = into.peak_bytes.max(record.peak_bytes);
                        if snapshot.created_at >= *latest {
                            into.last_bytes = record.last_bytes;
                            *latest = snapshot.created_at;
                        }
                    }
                    let what = |field: &str| format!("memory record `{}`: the {field}", record.name);
                    add(&mut into.samples, record.samples, || what("samples"))?;
                    add(&mut into.sum_bytes, record.sum_bytes, || what("`sum_bytes`"))?;
                }
                None => memory.push((record.clone(), snapshot.created_at)),
            }
        }
    }
    counters.sort_by(|a, b| a.name.cmp(&b.name));
    let mut memory: Vec<MemorySnapshot> = memory.into_iter().map(|(m, _)| m).collect();
    memory.sort_by(|a, b| a.name.cmp(&b.name));
    let mut threads = 0;
    for snapshot in snapshots {
        add(&mut threads, snapshot.threads, || "the threads".to_owned())?;
    }
    Ok(Snapshot {
        created_at: snapshots.iter().map(|s| s.created_at).max().unwrap_or(std::time::UNIX_EPOCH),
        wall_ns: snapshots.iter().map(|s| s.wall_ns).max().unwrap_or(0),
        // The processes' CPU times add up, when every one is known.
        cpu_ns: snapshots.iter().try_fold(0u64, |sum, s| s.cpu_ns.map(|cpu| sum.saturating_add(cpu))),
        threads,
        stages,
        tree,
        counters,
        memory,
        overhead: merged_overhead(snapshots),
        clock: match snapshots.first() {
            Some(first) if snapshots.iter().all(|s| s.clock == first.clock) => first.clock.clone(),
            Some(_) => "mixed".to_owned(),
            None => String::new(),
        },
        // Timelines of different processes do not share a clock: merged profiles have none.
        events: Vec::new(),
        dropped_events: 0,
    })
}

fn add_stage(
    stages: &mut Vec<StageSnapshot>,
    index: &mut HashMap<String, usize>,
    stage: &StageSnapshot,
) -> Result<usize, String> {
    if let Some(&i) = index.get(&stage.name) {
        let into = &mut stages[i];
        let what = |field: &str| format!("stage `{}`: the {field}", stage.name);
        if stage.calls > 0 {
            into.min_ns = if into.calls == 0 { stage.min_ns } else { into.min_ns.min(stage.min_ns) };
            into.max_ns = into.max_ns.max(stage.max_ns);
        }
        add(&mut into.calls, stage.calls, || what("calls"))?;
        add(&mut into.total_ns, stage.total_ns, || what("`total_ns`"))?;
        add(&mut into.self_ns, stage.self_ns, || what("`self_ns`"))?;
        add(&mut into.busy_ns, stage.busy_ns, || what("`busy_ns`"))?;
        into.is_async |= stage.is_async;
        add(&mut into.sum_ns, stage.sum_ns, || what("`sum_ns`"))?;
        add(&mut into.threads, stage.threads, || what("threads"))?;
        into.histogram.merge(&stage.histogram);
        if into.segments.len() < stage.segments.len() {
            into.segments.resize(stage.segments.len(), profiler_core::Segment::default());
        }
        for (into, segment) in into.segments.iter_mut().zip(&stage.segments) {
            add(&mut into.calls, segment.calls, || what("calls of a segment"))?;
            add(&mut into.sum_ns, segment.sum_ns, || what("`sum_ns` of a segment"))?;
        }
        Ok(i)
    } else {
        stages.push(stage.clone());
        index.insert(stage.name.clone(), stages.len() - 1);
        Ok(stages.len() - 1)
    }
}

/// The integers merging adds up.
trait Count: Copy + std::fmt::Display {
    const MAX: Self;
    fn checked_sum(self, other: Self) -> Option<Self>;
}

macro_rules! count {
    ($($int:ty),*) => {$(
        impl Count for $int {
            const MAX: Self = <$int>::MAX;
            fn checked_sum(self, other: Self) -> Option<Self> {
                self.checked_add(other)
            }
        }
    )*};
}

count!(u32, u64, u128);

/// Adds `by` to `into`, or says that `what` (``stage `x`: the calls``) no longer fit.
fn add<T: Count>(into: &mut T, by: T, what: impl FnOnce() -> String) -> Result<(), String> {
    *into = into.checked_sum(by).ok_or_else(|| format!("{} add up to more than {}", what(), T::MAX))?;
    Ok(())
}

/// The calls-weighted mean of the calibrated inputs' costs; uncalibrated when none is.
fn merged_overhead(snapshots: &[Snapshot]) -> Overhead {
    let (mut weight, mut per_call, mut in_stage) = (0.0, 0.0, 0.0);
    for snapshot in snapshots.iter().filter(|s| s.overhead.per_call_ns > 0.0) {
        let calls = snapshot.stages.iter().map(|s| s.calls as f64).sum::<f64>().max(1.0);
        weight += calls;
        per_call += calls * snapshot.overhead.per_call_ns;
        in_stage += calls * snapshot.overhead.in_stage_ns;
    }
    if weight == 0.0 {
        Overhead::default()
    } else {
        Overhead { per_call_ns: per_call / weight, in_stage_ns: in_stage / weight }
    }
}

/// Merges saved profiles (each with the snapshot [`read_profile`](crate::read_profile) rebuilt)
/// into one profile analysed with `options`. Its program is the inputs' distinct program names
/// joined with `+`; its clock theirs when they agree, else `mixed`.
///
/// # Errors
/// A count or a sum does not fit its integer (see [`merge`]), or the merged profile would
/// not read back. Writing it anyway would leave a file with wrong numbers, or one that no
/// command can open.
pub fn merge_profiles(inputs: &[(Profile, Snapshot)], options: &ReportOptions) -> Result<Profile, String> {
    let snapshots: Vec<Snapshot> = inputs.iter().map(|(_, s)| s.clone()).collect();
    let merged = merge(&snapshots)?;
    let mut programs: Vec<&str> = Vec::new();
    for (profile, _) in inputs {
        if !programs.contains(&profile.program.as_str()) {
            programs.push(&profile.program);
        }
    }
    let profile = Profile::new(&merged, &analyze(&merged, options), &programs.join("+"));
    match profile.to_snapshot() {
        Ok(_) => Ok(profile),
        Err(error) => Err(format!("the merged profile would not read back: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::test_data::{full_snapshot, test_options};

    #[test]
    fn a_profile_merged_with_itself_doubles_every_count_and_keeps_percentiles() {
        let one = full_snapshot();
        let two = merge(&[one.clone(), one.clone()]).unwrap();
        assert_eq!(two.stages.len(), one.stages.len());
        assert_eq!(two.tree.len(), one.tree.len());
        for (a, b) in one.stages.iter().zip(&two.stages) {
            assert_eq!(b.name, a.name);
            assert_eq!(
                (b.calls, b.total_ns, b.self_ns, b.busy_ns, b.sum_ns),
                (2 * a.calls, 2 * a.total_ns, 2 * a.self_ns, 2 * a.busy_ns, 2 * a.sum_ns)
            );
            assert_eq!((b.min_ns, b.max_ns, b.threads, b.is_async), (a.min_ns, a.max_ns, 2 * a.threads, a.is_async));
            assert_eq!(b.histogram.count(), 2 * a.histogram.count());
            for q in [0.5, 0.9, 0.95, 0.99] {
                assert_eq!(b.percentile_ns(q), a.percentile_ns(q), "{} p{q}", a.name);
            }
            assert_eq!(b.segments.len(), a.segments.len());
            assert!(
                b.segments.iter().zip(&a.segments).all(|(b, a)| b.calls == 2 * a.calls && b.sum_ns == 2 * a.sum_ns)
            );
        }
        for (a, b) in one.tree.iter().zip(&two.tree) {
            assert_eq!((b.stage, b.parent), (a.stage, a.parent));
            assert_eq!(
                (b.calls, b.total_ns, b.self_ns, b.busy_ns),
                (2 * a.calls, 2 * a.total_ns, 2 * a.self_ns, 2 * a.busy_ns)
            );
        }
        assert_eq!(two.profiled_ns(), 2 * one.profiled_ns());
        assert_eq!((two.wall_ns, two.threads, two.created_at), (one.wall_ns, 2 * one.threads, one.created_at));
        assert_eq!(two.cpu_ns, one.cpu_ns.map(|cpu| 2 * cpu), "the processes' CPU times add up");
        let unknown = Snapshot { cpu_ns: None, ..one.clone() };
        assert_eq!(merge(&[one.clone(), unknown]).unwrap().cpu_ns, None, "unless one is unknown");
        assert_eq!(two.counters[1].value, 2 * one.counters[1].value);
        assert_eq!(two.memory[0].samples, 2 * one.memory[0].samples);
        assert_eq!(two.overhead, one.overhead);
    }

    #[test]
    fn counts_beyond_u64_max_are_refused_not_saturated() {
        let refused = |change: &dyn Fn(&mut Snapshot)| {
            let mut one = full_snapshot();
            change(&mut one);
            merge(&[one.clone(), one]).unwrap_err()
        };
        let max = u64::MAX;
        assert_eq!(
            refused(&|s| {
                s.stages[4].calls = max;
                s.stages[4].histogram = profiler_core::Histogram::from_buckets(vec![(45, max)]).unwrap();
            }),
            format!("stage `tiny`: the calls add up to more than {max}")
        );
        assert_eq!(
            refused(&|s| s.stages[0].total_ns = max),
            format!("stage `main`: the `total_ns` add up to more than {max}")
        );
        assert_eq!(
            refused(&|s| s.stages[4].segments[0].calls = max),
            format!("stage `tiny`: the calls of a segment add up to more than {max}")
        );
        assert_eq!(
            refused(&|s| s.tree[4].self_ns = max),
            format!("stage `tiny`: the `self_ns` of one path of the call tree add up to more than {max}")
        );
        assert_eq!(
            refused(&|s| s.counters[0].value = max),
            format!("counter `bytes_read`: the values add up to more than {max}")
        );
        assert_eq!(
            refused(&|s| s.memory[0].samples = max),
            format!("memory record `cache`: the samples add up to more than {max}")
        );
        assert_eq!(refused(&|s| s.threads = u32::MAX), format!("the threads add up to more than {}", u32::MAX));
        // Up to the limit exactly is fine.
        let mut half = full_snapshot();
        half.counters[0].value = max / 2 + 1;
        let mut other = full_snapshot();
        other.counters[0].value = max / 2;
        assert_eq!(merge(&[half, other]).unwrap().counters[0].value, max);
    }

    #[test]
    fn different_runs_merge_by_name_and_by_path() {
        let a = full_snapshot();
        let mut b = full_snapshot();
        // b: `render` is called from `main` directly, and a new stage `extra` appears.
        b.tree[2].parent = Some(0);
        b.stages[2].min_ns = 1;
        b.stages[2].max_ns = 9_000_000;
        b.stages.push(StageSnapshot { name: "extra".to_owned(), ..b.stages[4].clone() });
        b.tree.push(TreeNode { stage: 5, parent: Some(0), calls: 7, total_ns: 70, self_ns: 70, busy_ns: 0 });
        b.created_at += Duration::from_secs(60);
        b.wall_ns = 2_000_000_000;
        b.memory[0].last_bytes = 42;
        b.memory[0].min_bytes = 7;
        b.overhead = Overhead { per_call_ns: 50.0, in_stage_ns: 20.0 };
        let m = merge(&[a.clone(), b.clone()]).unwrap();
        let names: Vec<&str> = m.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["main", "app::pipeline::parse_document", "render", "app::net::fetch", "tiny", "extra"]);
        let render = &m.stages[2];
        assert_eq!((render.min_ns, render.max_ns), (1, 9_000_000));
        // render under parse_document (from a) and under main (from b): two nodes.
        let render_nodes: Vec<Option<usize>> = m.tree.iter().filter(|n| n.stage == 2).map(|n| n.parent).collect();
        assert_eq!(render_nodes, [Some(1), Some(0)]);
        assert_eq!(m.tree.len(), 7);
        for (i, node) in m.tree.iter().enumerate() {
            assert!(node.parent.is_none_or(|p| p < i), "parents first");
        }
        assert_eq!((m.wall_ns, m.created_at), (2_000_000_000, b.created_at));
        assert_eq!((m.memory[0].last_bytes, m.memory[0].min_bytes), (42, 7));
        // Overhead weighted by calls: equal calls, except b's extra 200,000 of `extra`.
        let (wa, wb) = (201_071.0, 401_071.0);
        let expected = (wa * 25.0 + wb * 50.0) / (wa + wb);
        assert!((m.overhead.per_call_ns - expected).abs() < 1e-9, "{:?}", m.overhead);
    }

    #[test]
    fn uncalibrated_inputs_do_not_dilute_the_overhead() {
        let a = full_snapshot();
        let mut b = full_snapshot();
        b.overhead = Overhead::default();
        assert_eq!(merge(&[a.clone(), b]).unwrap().overhead, a.overhead);
        let mut c = full_snapshot();
        c.overhead = Overhead::default();
        assert_eq!(merge(&[c.clone(), c]).unwrap().overhead, Overhead::default());
        assert_eq!(merge(&[]).unwrap().stages.len(), 0);
    }

    #[test]
    fn merged_profiles_name_their_programs_and_clocks() {
        let profile = |program: &str, clock: &str| {
            let mut snapshot = full_snapshot();
            clock.clone_into(&mut snapshot.clock);
            (Profile::new(&snapshot, &analyze(&snapshot, &test_options()), program), snapshot)
        };
        let inputs = [profile("a", "tsc"), profile("b", "tsc"), profile("a", "tsc")];
        let merged = merge_profiles(&inputs, &test_options()).unwrap();
        assert_eq!((merged.program.as_str(), merged.clock.as_str()), ("a+b", "tsc"));
        assert_eq!(merged.stages[0].calls, 3);
        let mixed = merge_profiles(&[profile("a", "tsc"), profile("a", "instant")], &test_options()).unwrap();
        assert_eq!((mixed.program.as_str(), mixed.clock.as_str()), ("a", "mixed"));
    }

    #[test]
    fn a_merge_whose_calls_overflow_is_refused_rather_than_written_unreadable() {
        // Each input alone is valid: all of `tiny`'s calls in one bucket, a different one each.
        let input = |bucket: u16| {
            let mut snapshot = full_snapshot();
            let tiny = &mut snapshot.stages[4];
            tiny.calls = u64::MAX;
            tiny.histogram = profiler_core::Histogram::from_buckets(vec![(bucket, u64::MAX)]).unwrap();
            let profile = Profile::new(&snapshot, &analyze(&snapshot, &test_options()), "p");
            assert!(profile.to_snapshot().is_ok());
            (profile, snapshot)
        };
        // In different buckets or in the same one: the calls do not fit, whatever the histogram.
        for buckets in [(45, 46), (45, 45)] {
            let error = merge_profiles(&[input(buckets.0), input(buckets.1)], &test_options()).unwrap_err();
            assert_eq!(error, format!("stage `tiny`: the calls add up to more than {}", u64::MAX), "{buckets:?}");
        }
    }
}
