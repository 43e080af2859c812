//! What one thread records: a call tree with one node per distinct path of stages, plus one
//! latency histogram per stage.
//!
//! Only the owning thread writes (plain relaxed load-then-store, no locked instructions); the
//! registry reads at snapshot time while the thread keeps running. Nodes are never removed, so
//! self time, call edges and flame graphs stay exact for the whole run.
//!
//! # Safety argument
//!
//! The hot path follows pointers instead of looking nodes up by index: child lists, child
//! slots, nodes and the thread's frames hold `*const Node`, and nodes hold `*const
//! AtomicHistogram` (and, in their block cache, a pointer to one of that histogram's blocks).
//! Every such pointer points into the arenas of the [`ThreadData`] that owns the pointer (nodes
//! and histograms are created only by [`ThreadData::create_child`], in the same data's arenas).
//! Arena elements never move and are freed only with the whole `ThreadData`. So dereferencing
//! one while holding `&ThreadData` (all of them go through [`ThreadData::resolve`] and
//! [`Node::histogram`]) sees a live, initialised value.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::{Mutex, OnceLock};

use crate::arena::Arena;
use crate::histogram::{AtomicHistogram, BlockCache};
use crate::registry::MAX_STAGES;
use crate::trace::EventRing;

/// Distinct call paths one thread can record; deeper or wider trees fold into their parent.
pub(crate) const MAX_NODES: usize = 1 << 16;
/// Index of the virtual root node (the thread outside any stage).
pub(crate) const ROOT: u32 = 0;
/// Children of a node the hot path scans before falling back to the index of paths.
const FAST_SIBLINGS: usize = 8;
/// Slots of a node's child cache (see [`Node::child_slots`]); a power of two.
const CHILD_SLOTS: usize = 8;
/// Call segments a node keeps (see [`Node::segment_starts`]): 2^48 calls are plenty.
pub(crate) const SEGMENTS: usize = 48;

/// One node of a thread's call tree: a stage reached through one path.
pub(crate) struct Node {
    /// Owner-only links for finding a child by stage (null: none).
    first_child: AtomicPtr<Node>,
    next_sibling: AtomicPtr<Node>,
    /// Owner only: the child last found for a stage, in slot `stage % CHILD_SLOTS`, so that a
    /// node calling several stages in turn finds each with one load instead of a scan of its
    /// children (null: none yet).
    child_slots: [AtomicPtr<Node>; CHILD_SLOTS],
    /// Stage id (unused for the root). Written once, before the node is published.
    pub(crate) stage: AtomicU32,
    /// Parent node index. Written once, before the node is published.
    pub(crate) parent: AtomicU32,
    /// The parent node itself (null for the root), for the hot path. Written once, before
    /// the node is published.
    up: AtomicPtr<Node>,
    /// Distance from the root (1 for a stage called outside any other). Written once.
    depth: AtomicU32,
    /// This stage's histogram on this thread (set before the node is published).
    histogram: AtomicPtr<AtomicHistogram>,
    /// The block of that histogram this node's calls last went into (owner only).
    block_cache: BlockCache,
    pub(crate) calls: AtomicU64,
    /// Sum of call durations in ticks (wall time for async stages).
    pub(crate) total: AtomicU64,
    pub(crate) min: AtomicU64,
    pub(crate) max: AtomicU64,
    /// Time inside polls, for instrumented futures (see [`Node::own_time`]).
    pub(crate) busy: AtomicU64,
    /// Whether the stage is an instrumented future: set at its first poll.
    pub(crate) is_async: AtomicBool,
    /// `segment_starts[k]`: the value of `total` when call number `2^k` started, written when
    /// `calls` reaches `2^k`. Calls `2^k .. 2^(k+1)` took `segment_starts[k + 1] -
    /// segment_starts[k]`, which gives time-ordered trends for one store per doubling.
    /// Allocated with the node (out of line, so the root and the arena's unused nodes stay small).
    segment_starts: OnceLock<Box<[AtomicU64; SEGMENTS]>>,
    /// This node's own index (0 for the root). Written once, before the node is published.
    index: AtomicU32,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            first_child: AtomicPtr::new(ptr::null_mut()),
            next_sibling: AtomicPtr::new(ptr::null_mut()),
            child_slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            stage: AtomicU32::new(0),
            parent: AtomicU32::new(0),
            up: AtomicPtr::new(ptr::null_mut()),
            depth: AtomicU32::new(0),
            histogram: AtomicPtr::new(ptr::null_mut()),
            block_cache: BlockCache::default(),
            calls: AtomicU64::new(0),
            total: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
            busy: AtomicU64::new(0),
            is_async: AtomicBool::new(false),
            segment_starts: OnceLock::new(),
            index: AtomicU32::new(0),
        }
    }
}

fn new_segment_starts() -> Box<[AtomicU64; SEGMENTS]> {
    Box::new(std::array::from_fn(|_| AtomicU64::new(0)))
}

/// Adds to a counter only this thread writes.
#[inline(always)]
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
}

impl Node {
    fn clear(&self) {
        for counter in [&self.calls, &self.total, &self.busy, &self.max] {
            counter.store(0, Relaxed);
        }
        self.min.store(u64::MAX, Relaxed);
        for start in self.segment_starts.get().into_iter().flat_map(|starts| starts.iter()) {
            start.store(0, Relaxed);
        }
    }

    /// Owner only: counts one completed call of `duration` ticks. The histogram is recorded
    /// separately (it may need to allocate). The rare segment store comes last, as a tail call.
    #[inline(always)]
    pub(crate) fn record_call(&self, duration: u64) {
        if duration < self.min.load(Relaxed) {
            self.min.store(duration, Relaxed);
        }
        if duration > self.max.load(Relaxed) {
            self.max.store(duration, Relaxed);
        }
        let calls = self.calls.load(Relaxed).wrapping_add(1);
        self.calls.store(calls, Relaxed);
        let total_before = self.total.load(Relaxed);
        self.total.store(total_before.wrapping_add(duration), Relaxed);
        if calls.is_power_of_two() {
            self.start_segment(calls, total_before);
        }
    }

    /// Call number `calls` (a power of two) starts a new segment.
    #[cold]
    #[inline(never)]
    fn start_segment(&self, calls: u64, total_before: u64) {
        if let Some(start) = self.segment_starts.get().and_then(|starts| starts.get(calls.trailing_zeros() as usize)) {
            start.store(total_before, Relaxed);
        }
    }

    /// The time this path's calls spent on the thread, callees included: the sum of their
    /// durations, or for a future the time inside its polls. A parent's self time is its own
    /// time minus its children's, computed at snapshot time instead of on every call.
    pub(crate) fn own_time(&self) -> u64 {
        if self.is_async.load(Relaxed) { self.busy.load(Relaxed) } else { self.total.load(Relaxed) }
    }

    /// The parent node (null for the root): a node of the same data (module safety argument).
    #[inline(always)]
    pub(crate) fn parent_node(&self) -> *const Node {
        self.up.load(Relaxed).cast_const()
    }

    /// Distance from the root: 1 for a stage called outside any other.
    pub(crate) fn depth(&self) -> u32 {
        self.depth.load(Relaxed)
    }

    /// Owner only: the child cache slot that holds this node's child for `stage`, if cached.
    #[inline(always)]
    fn child_slot(&self, stage: u32) -> &AtomicPtr<Node> {
        &self.child_slots[stage as usize % CHILD_SLOTS]
    }

    /// Owner only: counts `duration` in the stage's histogram, unless its block must be
    /// allocated first or the node has no histogram (the root): then `false`.
    #[inline(always)]
    pub(crate) fn try_record_duration(&self, duration: u64) -> bool {
        // SAFETY: the cache is this node's alone, and the node's histogram is set once, before
        // the node is published, in the arena of the data that also owns the node.
        unsafe { self.block_cache.try_record(duration, || self.histogram()) }
    }

    /// The stage's histogram on this thread.
    #[inline(always)]
    pub(crate) fn histogram(&self) -> Option<&AtomicHistogram> {
        // SAFETY: non-null histogram pointers point into the owning data's histogram arena
        // (module safety argument); a `&Node` borrowed from that data keeps it alive.
        unsafe { self.histogram.load(Relaxed).cast_const().as_ref() }
    }

    /// The calls in time order as (calls, ticks) per doubling segment, from the counters as
    /// they are now (a concurrent writer may leave the last segment a call behind).
    pub(crate) fn segments(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let calls = self.calls.load(Relaxed);
        let total = self.total.load(Relaxed);
        let starts = self.segment_starts.get();
        let used = match starts {
            Some(_) if calls > 0 => (calls.ilog2() as usize + 1).min(SEGMENTS),
            _ => 0,
        };
        let start_of = move |k: usize| starts.map_or(0, |starts| starts[k].load(Relaxed));
        (0..used).map(move |k| {
            let start = start_of(k);
            let (end, end_call) = if k + 1 < used { (start_of(k + 1), 1u64 << (k + 1)) } else { (total, calls + 1) };
            (end_call.saturating_sub(1 << k), end.saturating_sub(start))
        })
    }
}

/// Where a call with no node of its own yet records.
pub(crate) enum Child {
    /// A node created for it.
    New(*const Node),
    /// Its caller's node, of the same stage (the tree is full).
    Folded(*const Node),
}

/// What one thread recorded; shared with the registry, written only by its thread.
pub(crate) struct ThreadData {
    /// Unique per thread, from 1: names the thread's track in timelines.
    pub(crate) serial: u32,
    nodes: Arena<Node>,
    /// Number of published nodes (the root included).
    published: AtomicU32,
    /// Latency histogram per stage id.
    histograms: Arena<OnceLock<Box<AtomicHistogram>>>,
    /// Generation the data belongs to; older data is ignored by snapshots.
    pub(crate) generation: AtomicU64,
    /// (parent index, stage) → node index, for every node: the cold path's lookup. Only the
    /// owner locks it (the mutex only makes `ThreadData` shareable with the registry).
    paths: Mutex<HashMap<(u32, u32), u32>>,
    /// The thread's events, when tracing was on at its registration.
    pub(crate) events: Option<EventRing>,
    /// Set for the profiler's own helper threads: snapshots never read their data.
    pub(crate) hidden: AtomicBool,
}

impl ThreadData {
    pub(crate) fn new(serial: u32, generation: u64, trace_capacity: usize) -> Self {
        let data = Self {
            serial,
            nodes: Arena::with_capacity(MAX_NODES),
            published: AtomicU32::new(1),
            histograms: Arena::with_capacity(MAX_STAGES),
            generation: AtomicU64::new(generation),
            paths: Mutex::new(HashMap::new()),
            events: if trace_capacity > 0 { EventRing::new(trace_capacity) } else { None },
            hidden: AtomicBool::new(false),
        };
        data.nodes.get_or_allocate(ROOT as usize);
        data
    }

    /// A published node. Indices come from the owner's frames or below `published`.
    #[inline]
    pub(crate) fn node(&self, index: u32) -> &Node {
        self.nodes.get(index as usize).expect("published node has an allocated segment")
    }

    /// Published nodes, the root included, as (index, node).
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (u32, &Node)> {
        let published = self.published.load(Acquire);
        (0..published).map(|i| (i, self.node(i)))
    }

    /// The histogram of a stage on this thread, if it recorded any call.
    pub(crate) fn histogram(&self, stage: u32) -> Option<&AtomicHistogram> {
        self.histograms.get(stage as usize)?.get().map(|b| &**b)
    }

    /// A node from a pointer stored by this thread's data (see the module's safety argument).
    /// `&self` is what ties the node's lifetime to the data that owns it.
    #[allow(clippy::unused_self)]
    #[inline(always)]
    pub(crate) fn resolve(&self, node: *const Node) -> &Node {
        debug_assert!(!node.is_null());
        // SAFETY: `node` points into `self.nodes` (module safety argument), which outlives `&self`.
        unsafe { &*node }
    }

    /// The root node.
    #[inline(always)]
    pub(crate) fn root(&self) -> *const Node {
        self.node(ROOT)
    }

    /// Owner only: the child of `parent` for `stage`, if it is in the parent's child cache or
    /// among its [`FAST_SIBLINGS`] most recently created children (the usual case: few
    /// callees per path). `None` means "look further" with [`Self::find_or_create_child`].
    #[inline(always)]
    pub(crate) fn find_child(&self, parent: *const Node, stage: u32) -> Option<*const Node> {
        let parent = self.resolve(parent);
        let slot = parent.child_slot(stage);
        let cached = slot.load(Relaxed).cast_const();
        if !cached.is_null() && self.resolve(cached).stage.load(Relaxed) == stage {
            return Some(cached);
        }
        let mut child = parent.first_child.load(Relaxed).cast_const();
        for _ in 0..FAST_SIBLINGS {
            if child.is_null() {
                return None;
            }
            let node = self.resolve(child);
            if node.stage.load(Relaxed) == stage {
                slot.store(child.cast_mut(), Relaxed);
                return Some(child);
            }
            child = node.next_sibling.load(Relaxed).cast_const();
        }
        None
    }

    /// Owner only, cold: the child of `parent` for `stage`, found through the thread's index
    /// of paths (so a node with thousands of children costs a hash, not a scan) or created.
    #[cold]
    #[inline(never)]
    pub(crate) fn find_or_create_child(&self, parent: *const Node, stage: u32) -> Option<Child> {
        if let Some(node) = self.find_child(parent, stage) {
            return Some(Child::New(node));
        }
        let parent_node = self.resolve(parent);
        let parent_index = parent_node.index.load(Relaxed);
        let mut paths = self.paths.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let node = match paths.get(&(parent_index, stage)) {
            Some(&index) => self.node(index),
            None => match self.create_child(parent, stage)? {
                Child::New(node) => {
                    paths.insert((parent_index, stage), self.resolve(node).index.load(Relaxed));
                    self.resolve(node)
                }
                folded @ Child::Folded(_) => return Some(folded),
            },
        };
        // The next call of this stage from this parent takes the fast path.
        parent_node.child_slot(stage).store(ptr::from_ref(node).cast_mut(), Relaxed);
        Some(Child::New(node))
    }

    /// Owner only, cold: creates the child of `parent` for `stage` (and the stage's histogram).
    /// When the tree is full the call is folded into `parent` itself when that is the same
    /// stage (deep recursion), and otherwise not recorded (`None`).
    fn create_child(&self, parent: *const Node, stage: u32) -> Option<Child> {
        let histogram =
            self.histograms.get_or_allocate(stage as usize)?.get_or_init(|| Box::new(AtomicHistogram::new()));
        let parent_node = self.resolve(parent);
        let index = self.published.load(Relaxed);
        let Some(node) = self.nodes.get_or_allocate(index as usize) else {
            return (parent != self.root() && parent_node.stage.load(Relaxed) == stage)
                .then_some(Child::Folded(parent));
        };
        node.stage.store(stage, Relaxed);
        node.parent.store(parent_node.index.load(Relaxed), Relaxed);
        node.up.store(parent.cast_mut(), Relaxed);
        node.depth.store(parent_node.depth.load(Relaxed) + 1, Relaxed);
        node.index.store(index, Relaxed);
        node.histogram.store(ptr::from_ref::<AtomicHistogram>(histogram).cast_mut(), Relaxed);
        node.segment_starts.get_or_init(new_segment_starts);
        node.next_sibling.store(parent_node.first_child.load(Relaxed), Relaxed);
        parent_node.first_child.store(ptr::from_ref(node).cast_mut(), Relaxed);
        self.published.store(index + 1, Release);
        Some(Child::New(ptr::from_ref(node)))
    }

    /// Owner only: zeroes every count (the tree's shape stays, so active frames stay valid).
    pub(crate) fn clear(&self) {
        if let Some(events) = &self.events {
            events.clear();
        }
        for (_, node) in self.nodes() {
            node.clear();
        }
        for (_, slot) in self.histograms.allocated() {
            if let Some(histogram) = slot.get() {
                histogram.clear();
            }
        }
    }

    /// Owner only: zeroes the counts of every node of `stage` and its histogram (used to
    /// discard the overhead calibration's calls).
    pub(crate) fn clear_stage(&self, stage: u32) {
        for (_, node) in self.nodes().filter(|(i, n)| *i != ROOT && n.stage.load(Relaxed) == stage) {
            node.clear();
        }
        if let Some(histogram) = self.histogram(stage) {
            histogram.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_found_through_the_cache_the_scan_and_the_index() {
        let data = ThreadData::new(1, 2, 0);
        let root = data.root();
        // 20 children: more than the scan covers, and stages 0, 8 and 16 share a cache slot.
        let children: Vec<*const Node> = (0..20)
            .map(|stage| match data.find_or_create_child(root, stage) {
                Some(Child::New(node)) => node,
                _ => panic!("stage {stage} got no node"),
            })
            .collect();
        let stage_of = |node: *const Node| data.resolve(node).stage.load(Relaxed);
        for round in 0..3 {
            // In turn, then with slot-sharing stages alternating, then backwards.
            let order: Vec<u32> = match round {
                0 => (0..20).collect(),
                1 => [0, 8, 16, 0, 8, 16, 3, 11, 19].into(),
                _ => (0..20).rev().collect(),
            };
            for stage in order {
                let found = data.find_child(root, stage).or_else(|| match data.find_or_create_child(root, stage) {
                    Some(Child::New(node)) => Some(node),
                    _ => None,
                });
                assert_eq!(found, Some(children[stage as usize]), "stage {stage}");
                assert_eq!(found.map(stage_of), Some(stage));
            }
        }
        // The scan sees the 8 newest children; the cache also remembers the last one found.
        assert_eq!(data.find_child(root, 19), Some(children[19]));
        assert_eq!(data.find_child(root, 2), Some(children[2]), "cached by the last round");
        assert_eq!(data.find_child(root, 10), None, "slot 2 holds stage 2, and 10 is too old to scan");
        assert_eq!(
            data.find_or_create_child(root, 10).map(|c| matches!(c, Child::New(n) if n == children[10])),
            Some(true)
        );
        assert_eq!(data.find_child(root, 10), Some(children[10]), "the index's answer is cached");
        assert_eq!(data.published.load(Relaxed), 21, "no node was created twice");
    }

    #[test]
    fn segments_partition_the_calls_in_time_order() {
        let node = Node::default();
        node.segment_starts.get_or_init(new_segment_starts);
        // Calls 1..=10 last 1..=10 ticks: segments hold calls {1}, {2,3}, {4..7}, {8..10}.
        for duration in 1..=10 {
            node.record_call(duration);
        }
        let segments: Vec<(u64, u64)> = node.segments().collect();
        assert_eq!(segments, [(1, 1), (2, 5), (4, 22), (3, 27)]);
        assert_eq!(node.min.load(Relaxed), 1);
        assert_eq!(node.max.load(Relaxed), 10);
        node.clear();
        assert_eq!(node.segments().count(), 0);
    }

    #[test]
    fn a_power_of_two_of_calls_fills_its_last_segment() {
        let node = Node::default();
        node.segment_starts.get_or_init(new_segment_starts);
        for _ in 0..8 {
            node.record_call(3);
        }
        let segments: Vec<(u64, u64)> = node.segments().collect();
        assert_eq!(segments, [(1, 3), (2, 6), (4, 12), (1, 3)]);
    }
}
