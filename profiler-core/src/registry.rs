//! The global registry: stage names, the threads that record, counters and memory records.
//!
//! Nothing here is on the per-call path. A call site looks its stage up once (then keeps the
//! id in its `static`); a thread registers once and retires once; snapshots and resets are
//! rare. Data of exited threads is merged into `retired` when they exit, so it is never lost
//! and memory stays bounded however many short-lived threads come and go.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::SystemTime;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::calibrate;
use crate::clock;
use crate::histogram::Histogram;
use crate::snapshot::{
    CounterSnapshot, Event, MemorySnapshot, Overhead, Segment, Snapshot, StageSnapshot, ThreadEvents, TreeNode,
};
use crate::switch;
use crate::thread;
use crate::trace::{self, RawThreadEvents, RetiredEvents};
use crate::tree::{ROOT, ThreadData};

/// Distinct stage names the registry holds; calls to further stages pass unrecorded.
pub const MAX_STAGES: usize = 1 << 16;

/// Index of a stage in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StageId(pub(crate) u32);

/// The process-wide registry behind the free functions of this crate.
pub struct Registry {
    ids: DashMap<Box<str>, StageId>,
    names: RwLock<Vec<Arc<str>>>,
    threads: Mutex<Threads>,
    counters: DashMap<Box<str>, AtomicU64>,
    memory: DashMap<Box<str>, MemoryRecord>,
}

#[derive(Default)]
struct Threads {
    live: Vec<Arc<ThreadData>>,
    retired: Merged,
    retired_events: RetiredEvents,
    next_serial: u32,
}

#[derive(Clone, Copy)]
struct MemoryRecord {
    samples: u64,
    last: u64,
    min: u64,
    peak: u64,
    sum: u128,
}

impl Registry {
    /// The global registry.
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            crate::fork::watch();
            Registry {
                ids: DashMap::new(),
                names: RwLock::new(Vec::new()),
                threads: Mutex::new(Threads { next_serial: 1, ..Threads::default() }),
                counters: DashMap::new(),
                memory: DashMap::new(),
            }
        })
    }

    /// The id of a stage name, registering it if new; `None` once [`MAX_STAGES`] are taken.
    ///
    /// **Locking behaviour:** takes a shard lock of the name map, and the name list's write
    /// lock when the name is new.
    pub(crate) fn stage_id(&self, name: &str) -> Option<StageId> {
        if let Some(id) = self.ids.get(name) {
            return Some(*id);
        }
        match self.ids.entry(name.into()) {
            Entry::Occupied(entry) => Some(*entry.get()),
            Entry::Vacant(entry) => {
                let mut names = self.names.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                if names.len() >= MAX_STAGES {
                    return None;
                }
                let id = StageId(names.len() as u32);
                names.push(Arc::from(name));
                entry.insert(id);
                Some(id)
            }
        }
    }

    fn lock_threads(&self) -> MutexGuard<'_, Threads> {
        // A panic while the lock was held leaves consistent data (every update is one push or
        // one merge), so a poisoned lock is still usable.
        self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers the calling thread, `hidden` from snapshots or not. **Locking behaviour:**
    /// takes the thread-list lock.
    pub(crate) fn register_thread(&self, generation: u64, hidden: bool) -> Arc<ThreadData> {
        let mut threads = self.lock_threads();
        let serial = threads.next_serial;
        threads.next_serial = serial.checked_add(1).unwrap_or(1);
        let data = Arc::new(ThreadData::new(serial, generation, trace::capacity()));
        data.hidden.store(hidden, Relaxed);
        threads.live.push(Arc::clone(&data));
        data
    }

    /// Merges an exiting thread's data into the retired totals (unless hidden) and forgets
    /// the thread. **Locking behaviour:** takes the thread-list lock.
    pub(crate) fn retire_thread(&self, data: &Arc<ThreadData>) {
        if crate::fork::in_child() {
            return; // The forking thread's data, copied: the parent merges the original.
        }
        let generation = switch::generation(switch::state());
        let mut threads = self.lock_threads();
        if data.generation.load(Relaxed) == generation && !data.hidden.load(Relaxed) {
            threads.retired.add_thread(data);
            if let Some(events) = thread_events(data) {
                threads.retired_events.add(events);
            }
        }
        threads.live.retain(|live| !Arc::ptr_eq(live, data));
    }

    /// Everything recorded so far, merged over live and exited threads, while they keep running.
    ///
    /// **Locking behaviour:** holds the thread-list lock while reading the threads' data (the
    /// threads themselves are never blocked), and briefly each shard of the counter and memory
    /// maps. The first snapshot taken less than 10 ms after start-up waits out the rest of those
    /// 10 ms to calibrate the clock, and a snapshot taken while another thread measures the
    /// profiler's own cost (0.2 ms) waits for its result. The first seven snapshots with
    /// profiling on measure that cost again, on a short-lived thread of their own (about
    /// 0.3 ms each), and the lowest measurement is kept.
    pub fn snapshot(&self) -> Snapshot {
        if crate::fork::in_child() {
            return Snapshot::empty(); // The locks may be held by threads the child lacks.
        }
        calibrate::wait_for_result();
        thread::while_busy(|| {
            calibrate::again();
            let ns_per_tick = clock::ns_per_tick();
            let generation = switch::generation(switch::state());
            let (merged, events) = {
                let threads = self.lock_threads();
                let mut merged = threads.retired.clone();
                let mut events = threads.retired_events.clone();
                let shown = |d: &&Arc<ThreadData>| d.generation.load(Relaxed) == generation && !d.hidden.load(Relaxed);
                for data in threads.live.iter().filter(shown) {
                    merged.add_thread(data);
                    if let Some(thread_events) = thread_events(data) {
                        events.threads.push(thread_events);
                    }
                }
                (merged, events)
            };
            let names = self.names.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let mut snapshot = merged.into_snapshot(&names, ns_per_tick, &events);
            snapshot.wall_ns = u64::try_from(clock::since_start().as_nanos()).unwrap_or(u64::MAX);
            snapshot.counters = self.counter_snapshots();
            snapshot.memory = self.memory_snapshots();
            snapshot
        })
    }

    /// Discards everything recorded so far: stages keep their ids, counts restart from zero.
    /// Threads drop their old data when they next start a call; a call in progress at the reset
    /// is not recorded, unless its thread starts another call before it ends.
    pub fn reset(&self) {
        if crate::fork::in_child() {
            return; // Nothing is recorded in the child of a `fork()`, and the locks may be held.
        }
        thread::while_busy(|| {
            let mut threads = self.lock_threads();
            switch::bump_generation();
            threads.retired = Merged::default();
            threads.retired_events = RetiredEvents::default();
            self.counters.clear();
            self.memory.clear();
        });
    }

    /// Adds `by` to the named counter. **Locking behaviour:** one shard lock of the counter map.
    pub fn increment_counter(&self, name: &str, by: u64) {
        if !switch::is_enabled() || thread::is_busy() {
            return;
        }
        thread::while_busy(|| {
            if let Some(counter) = self.counters.get(name) {
                counter.fetch_add(by, Relaxed);
            } else {
                self.counters.entry(name.into()).or_default().fetch_add(by, Relaxed);
            }
        });
    }

    /// Records a memory size in bytes under a name. **Locking behaviour:** one shard lock.
    pub fn record_memory(&self, name: &str, bytes: u64) {
        if !switch::is_enabled() || thread::is_busy() {
            return;
        }
        thread::while_busy(|| {
            let fresh = MemoryRecord { samples: 0, last: 0, min: u64::MAX, peak: 0, sum: 0 };
            let mut record = self.memory.entry(name.into()).or_insert(fresh);
            record.samples += 1;
            record.last = bytes;
            record.min = record.min.min(bytes);
            record.peak = record.peak.max(bytes);
            record.sum += u128::from(bytes);
        });
    }

    fn counter_snapshots(&self) -> Vec<CounterSnapshot> {
        let mut counters: Vec<_> = self
            .counters
            .iter()
            .map(|entry| CounterSnapshot { name: entry.key().to_string(), value: entry.value().load(Relaxed) })
            .collect();
        counters.sort_by(|a, b| a.name.cmp(&b.name));
        counters
    }

    fn memory_snapshots(&self) -> Vec<MemorySnapshot> {
        let mut memory: Vec<_> = self
            .memory
            .iter()
            .map(|entry| {
                let r = *entry.value();
                MemorySnapshot {
                    name: entry.key().to_string(),
                    samples: r.samples,
                    last_bytes: r.last,
                    min_bytes: r.min,
                    peak_bytes: r.peak,
                    sum_bytes: r.sum,
                }
            })
            .collect();
        memory.sort_by(|a, b| a.name.cmp(&b.name));
        memory
    }
}

/// A thread's events, if it traces.
fn thread_events(data: &ThreadData) -> Option<RawThreadEvents> {
    let (events, dropped) = data.events.as_ref()?.read();
    Some(RawThreadEvents { thread: data.serial, dropped, events })
}

/// Events in nanoseconds with snapshot stage indices, by thread then start time. Events of
/// stages the snapshot leaves out (the calibration's) are skipped.
fn convert_events(events: &RetiredEvents, stage_index: &HashMap<u32, usize>, ns_per_tick: f64) -> Vec<ThreadEvents> {
    let mut threads: Vec<ThreadEvents> = events
        .threads
        .iter()
        .map(|raw| {
            let mut converted: Vec<Event> = raw
                .events
                .iter()
                .filter_map(|e| {
                    Some(Event {
                        stage: *stage_index.get(&e.stage)?,
                        start_ns: clock::ticks_since_start_ns(e.start, ns_per_tick),
                        duration_ns: ((e.end - e.start) as f64 * ns_per_tick).round() as u64,
                        depth: e.depth,
                    })
                })
                .collect();
            converted.sort_by_key(|e| (e.start_ns, e.depth));
            ThreadEvents { thread: raw.thread, dropped: raw.dropped, events: converted }
        })
        .collect();
    threads.sort_by_key(|t| t.thread);
    threads
}

/// Threads' call trees merged by path, in ticks.
#[derive(Clone, Default)]
struct Merged {
    nodes: Vec<MergedNode>,
    by_path: HashMap<(Option<usize>, u32), usize>,
    stages: HashMap<u32, StageTotals>,
    threads: u32,
}

#[derive(Clone)]
struct MergedNode {
    stage: u32,
    parent: Option<usize>,
    calls: u64,
    total: u64,
    self_time: u64,
    busy: u64,
}

#[derive(Clone, Default)]
struct StageTotals {
    min: Option<u64>,
    max: u64,
    threads: u32,
    histogram: Histogram,
    /// (calls, ticks) per doubling segment, summed over paths and threads.
    segments: Vec<(u64, u64)>,
}

impl Merged {
    fn add_thread(&mut self, data: &ThreadData) {
        let mut merged_index: Vec<Option<usize>> = Vec::new();
        let mut touched = HashSet::new();
        // Self time = own time minus the children's own time (see `Node::own_time`).
        let nodes: Vec<(u32, &crate::tree::Node)> = data.nodes().collect();
        let mut children_time = vec![0u64; nodes.len()];
        for &(index, node) in nodes.iter().skip(1) {
            let parent = node.parent.load(Relaxed) as usize;
            if parent < index as usize {
                children_time[parent] += node.own_time();
            }
        }
        for &(index, node) in &nodes {
            if index == ROOT {
                merged_index.push(None);
                continue;
            }
            let stage = node.stage.load(Relaxed);
            let parent = merged_index[node.parent.load(Relaxed) as usize];
            if calibrate::is_calibration_stage(stage) {
                // Its subtree is empty; map it to nothing so nothing hangs below it.
                merged_index.push(parent);
                continue;
            }
            let next = self.nodes.len();
            let target = *self.by_path.entry((parent, stage)).or_insert(next);
            if target == next {
                self.nodes.push(MergedNode { stage, parent, calls: 0, total: 0, self_time: 0, busy: 0 });
            }
            merged_index.push(Some(target));
            // Each counter read once: the owner may be recording meanwhile, and a second read
            // of `total` for the self time could exceed the first (self above total).
            let (calls, busy, total) = (node.calls.load(Relaxed), node.busy.load(Relaxed), node.total.load(Relaxed));
            let own_time = if node.is_async.load(Relaxed) { busy } else { total };
            let out = &mut self.nodes[target];
            out.calls += calls;
            out.total += total;
            out.self_time += own_time.saturating_sub(children_time[index as usize]);
            out.busy += busy;
            if calls > 0 || busy > 0 {
                touched.insert(stage);
            }
            if calls > 0 {
                let totals = self.stages.entry(stage).or_default();
                let (min, max) = (node.min.load(Relaxed), node.max.load(Relaxed));
                totals.min = Some(totals.min.map_or(min, |m| m.min(min)));
                totals.max = totals.max.max(max);
                for (k, (calls, ticks)) in node.segments().enumerate() {
                    if totals.segments.len() <= k {
                        totals.segments.resize(k + 1, (0, 0));
                    }
                    totals.segments[k].0 += calls;
                    totals.segments[k].1 += ticks;
                }
            }
        }
        for &stage in &touched {
            let totals = self.stages.entry(stage).or_default();
            totals.threads += 1;
            if let Some(histogram) = data.histogram(stage) {
                histogram.add_scaled_to(&mut totals.histogram, 1.0);
            }
        }
        if !touched.is_empty() {
            self.threads += 1;
        }
    }

    fn into_snapshot(mut self, names: &[Arc<str>], ns_per_tick: f64, events: &RetiredEvents) -> Snapshot {
        let ns = |ticks: u64| (ticks as f64 * ns_per_tick).round() as u64;
        let mut stage_totals = std::mem::take(&mut self.stages);
        // Keep the nodes whose subtree recorded anything (an active parent has no calls yet).
        let mut keep = vec![false; self.nodes.len()];
        for (index, node) in self.nodes.iter().enumerate().rev() {
            if node.calls > 0 || node.busy > 0 {
                keep[index] = true;
            }
            if keep[index]
                && let Some(parent) = node.parent
            {
                keep[parent] = true;
            }
        }
        let mut stage_index: HashMap<u32, usize> = HashMap::new();
        let mut stages: Vec<StageSnapshot> = Vec::new();
        let mut tree_index = vec![usize::MAX; self.nodes.len()];
        let mut tree = Vec::new();
        for (index, node) in self.nodes.iter().enumerate().filter(|&(i, _)| keep[i]) {
            let stage = *stage_index.entry(node.stage).or_insert_with(|| {
                let totals = stage_totals.remove(&node.stage).unwrap_or_default();
                let mut histogram = Histogram::default();
                histogram.merge_scaled(&totals.histogram, ns_per_tick);
                stages.push(StageSnapshot {
                    name: names
                        .get(node.stage as usize)
                        .map_or_else(|| format!("stage#{}", node.stage), ToString::to_string),
                    calls: 0,
                    total_ns: 0,
                    self_ns: 0,
                    busy_ns: 0,
                    is_async: false,
                    sum_ns: 0,
                    min_ns: totals.min.map_or(0, ns),
                    max_ns: ns(totals.max),
                    threads: totals.threads,
                    histogram,
                    segments: totals
                        .segments
                        .iter()
                        .map(|&(calls, ticks)| Segment { calls, sum_ns: ns(ticks) })
                        .collect(),
                });
                stages.len() - 1
            });
            tree_index[index] = tree.len();
            tree.push(TreeNode {
                stage,
                parent: node.parent.map(|p| tree_index[p]),
                calls: node.calls,
                total_ns: ns(node.total),
                self_ns: ns(node.self_time),
                busy_ns: ns(node.busy),
            });
        }
        // Stage sums are taken in ticks and converted once, so that self times add up to the
        // totals they partition without rounding drift.
        let mut sums = vec![[0u64; 4]; stages.len()]; // calls, non-recursive total, sum, self
        let mut busy = vec![0u64; stages.len()];
        let mut snapshot = Snapshot {
            created_at: SystemTime::now(),
            wall_ns: 0,
            threads: self.threads,
            cpu_ns: clock::process_cpu_ns(),
            stages,
            tree,
            counters: Vec::new(),
            memory: Vec::new(),
            overhead: {
                let (per_call, in_stage) = calibrate::overhead_ticks();
                Overhead { per_call_ns: per_call * ns_per_tick, in_stage_ns: in_stage * ns_per_tick }
            },
            clock: clock::clock_name().to_owned(),
            events: convert_events(events, &stage_index, ns_per_tick),
            dropped_events: events.dropped + events.threads.iter().map(|t| t.dropped).sum::<u64>(),
        };
        let recursive = snapshot.recursive_nodes();
        for (index, node) in self.nodes.iter().enumerate().filter(|&(i, _)| keep[i]) {
            let tree_node = tree_index[index];
            let stage = snapshot.tree[tree_node].stage;
            let [calls, total, sum, own] = &mut sums[stage];
            *calls += node.calls;
            *sum += node.total;
            *own += node.self_time;
            if !recursive[tree_node] {
                *total += node.total;
            }
            busy[stage] += node.busy;
        }
        for ((stage, [calls, total, sum, own]), busy) in snapshot.stages.iter_mut().zip(sums).zip(busy) {
            // Every call is counted in its node and in its histogram, which a snapshot reads one
            // after the other while threads record; the calls made in between would make the two
            // disagree, so a live stage takes its count from the histogram.
            let counted = stage.histogram.count();
            stage.calls = if counted > 0 { counted } else { calls };
            stage.total_ns = ns(total);
            stage.sum_ns = ns(sum);
            stage.self_ns = ns(own);
            stage.busy_ns = ns(busy);
            stage.is_async = busy > 0;
        }
        snapshot
    }
}
