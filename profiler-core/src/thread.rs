//! Per-thread recording: the hot path.
//!
//! Each thread records into its own [`ThreadData`], which only that thread writes (plain
//! relaxed load-then-store, no locked instructions) and which the registry reads at snapshot
//! time while the thread keeps running. The data is a call tree with one node per distinct path
//! of stages (so self time, call edges and flame graphs are exact) plus one latency histogram
//! per stage.
//!
//! The thread-local [`Local`] holds what only the owner needs: the stack of active frames and
//! the generation it last synchronised with. Cold paths (first call on a thread, a new path, a
//! new histogram block, a reset) allocate or take locks; they run with the thread marked
//! *busy*, and any instrumented call made meanwhile (say, from inside a user's global
//! allocator) passes unrecorded instead of recursing or deadlocking.
//!
//! # Safety argument
//!
//! The hot path follows pointers instead of looking nodes up by index: frames, child lists and
//! nodes hold `*const Node` / `*const AtomicHistogram`. Every such pointer points into the
//! arenas of the [`ThreadData`] that owns the pointer (nodes and histograms are created only by
//! [`ThreadData::create_child`], in that thread's own arenas). Arena elements never move and are
//! freed only with the whole `ThreadData`, and a `ThreadData` lives as long as the thread's
//! `Local` holds its `Arc`; frames live inside that `Local` and are read only while it is
//! alive. So every dereference (all of them in [`ThreadData::resolve`] and
//! [`ThreadData::resolve_histogram`]) sees a live, initialised value.
#![allow(unsafe_code)]

use std::cell::{Cell, OnceCell, RefCell};
use std::ptr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

use crate::arena::Arena;
use crate::callsite::Callsite;
use crate::clock;
use crate::histogram::AtomicHistogram;
use crate::registry::{MAX_STAGES, Registry, StageId};
use crate::switch;

/// Distinct call paths one thread can record; deeper or wider trees fold into their parent.
pub(crate) const MAX_NODES: usize = 1 << 16;
/// Index of the virtual root node (the thread outside any stage).
pub(crate) const ROOT: u32 = 0;
/// A `Local::generation` value no real generation equals (those are even): marks "busy".
const BUSY: u64 = 1;
/// The `Local::generation` of a thread that has not synchronised yet: odd, so it differs from
/// every real generation, including 0 ("`PROFILE` not read yet"), and from [`BUSY`].
const NEVER_SYNCHRONISED: u64 = 3;

/// One node of a thread's call tree: a stage reached through one path.
pub(crate) struct Node {
    /// Stage id (unused for the root). Written once, before the node is published.
    pub(crate) stage: AtomicU32,
    /// Parent node index. Written once, before the node is published.
    pub(crate) parent: AtomicU32,
    /// This node's own index (0 for the root). Written once, before the node is published.
    index: AtomicU32,
    /// Owner-only links for finding a child by stage (null: none).
    first_child: AtomicPtr<Node>,
    next_sibling: AtomicPtr<Node>,
    /// This stage's histogram on this thread (set before the node is published).
    histogram: AtomicPtr<AtomicHistogram>,
    pub(crate) calls: AtomicU64,
    /// Sum of call durations in ticks (wall time for async stages).
    pub(crate) total: AtomicU64,
    pub(crate) self_time: AtomicU64,
    pub(crate) busy: AtomicU64,
    pub(crate) min: AtomicU64,
    pub(crate) max: AtomicU64,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            stage: AtomicU32::new(0),
            parent: AtomicU32::new(0),
            index: AtomicU32::new(0),
            first_child: AtomicPtr::new(ptr::null_mut()),
            next_sibling: AtomicPtr::new(ptr::null_mut()),
            histogram: AtomicPtr::new(ptr::null_mut()),
            calls: AtomicU64::new(0),
            total: AtomicU64::new(0),
            self_time: AtomicU64::new(0),
            busy: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }
}

impl Node {
    fn clear(&self) {
        for counter in [&self.calls, &self.total, &self.self_time, &self.busy, &self.max] {
            counter.store(0, Relaxed);
        }
        self.min.store(u64::MAX, Relaxed);
    }
}

/// Adds to a counter only this thread writes.
#[inline(always)]
fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(by), Relaxed);
}

/// What one thread recorded; shared with the registry, written only by its thread.
pub(crate) struct ThreadData {
    /// Unique per thread, never 0 (0 marks an inactive guard).
    pub(crate) serial: u32,
    nodes: Arena<Node>,
    /// Number of published nodes (the root included).
    published: AtomicU32,
    /// Latency histogram per stage id.
    histograms: Arena<OnceLock<Box<AtomicHistogram>>>,
    /// Generation the data belongs to; older data is ignored by snapshots.
    pub(crate) generation: AtomicU64,
}

impl ThreadData {
    pub(crate) fn new(serial: u32, generation: u64) -> Self {
        let data = Self {
            serial,
            nodes: Arena::with_capacity(MAX_NODES),
            published: AtomicU32::new(1),
            histograms: Arena::with_capacity(MAX_STAGES),
            generation: AtomicU64::new(generation),
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
    fn resolve(&self, node: *const Node) -> &Node {
        debug_assert!(!node.is_null());
        // SAFETY: `node` points into `self.nodes` (module safety argument), which outlives `&self`.
        unsafe { &*node }
    }

    /// A histogram from a pointer stored in one of this thread's nodes.
    #[allow(clippy::unused_self)]
    #[inline(always)]
    fn resolve_histogram(&self, histogram: *const AtomicHistogram) -> Option<&AtomicHistogram> {
        // SAFETY: non-null histogram pointers point into `self.histograms` (module safety
        // argument): boxes that are never freed before `self`.
        unsafe { histogram.as_ref() }
    }

    /// The root node.
    #[inline(always)]
    fn root(&self) -> *const Node {
        self.node(ROOT)
    }

    /// Owner only: the child of `parent` for `stage`, if that path exists.
    #[inline(always)]
    fn find_child(&self, parent: *const Node, stage: u32) -> Option<*const Node> {
        let mut child = self.resolve(parent).first_child.load(Relaxed).cast_const();
        while !child.is_null() {
            let node = self.resolve(child);
            if node.stage.load(Relaxed) == stage {
                return Some(child);
            }
            child = node.next_sibling.load(Relaxed).cast_const();
        }
        None
    }

    /// Owner only, cold: creates the child of `parent` for `stage` (and the stage's histogram).
    /// When the tree is full the call is attributed to `parent` itself when that is the same
    /// stage (deep recursion), and otherwise not recorded.
    #[cold]
    #[inline(never)]
    fn create_child(&self, parent: *const Node, stage: u32) -> Option<*const Node> {
        let histogram =
            self.histograms.get_or_allocate(stage as usize)?.get_or_init(|| Box::new(AtomicHistogram::new()));
        let parent_node = self.resolve(parent);
        let index = self.published.load(Relaxed);
        let Some(node) = self.nodes.get_or_allocate(index as usize) else {
            return (parent != self.root() && parent_node.stage.load(Relaxed) == stage).then_some(parent);
        };
        node.stage.store(stage, Relaxed);
        node.parent.store(parent_node.index.load(Relaxed), Relaxed);
        node.index.store(index, Relaxed);
        node.histogram.store(ptr::from_ref::<AtomicHistogram>(histogram).cast_mut(), Relaxed);
        node.next_sibling.store(parent_node.first_child.load(Relaxed), Relaxed);
        parent_node.first_child.store(ptr::from_ref(node).cast_mut(), Relaxed);
        self.published.store(index + 1, Release);
        Some(ptr::from_ref(node))
    }

    /// Owner only: zeroes every count (the tree's shape stays, so active frames stay valid).
    fn clear(&self) {
        for (_, node) in self.nodes() {
            node.clear();
        }
        for (_, slot) in self.histograms.allocated() {
            if let Some(histogram) = slot.get() {
                histogram.clear();
            }
        }
    }
}

/// An active call on this thread's stack.
#[derive(Clone, Copy)]
struct Frame {
    /// Points into the owning thread's data (module safety argument).
    node: *const Node,
    /// Ticks spent in instrumented callees so far.
    children: u64,
}

/// How a frame ends.
#[derive(Clone, Copy)]
pub(crate) enum Exit {
    /// A synchronous call returned (or unwound).
    Call,
    /// One poll of an instrumented future; `Some(first_poll_start)` when it completed.
    Poll(Option<u64>),
}

/// A started frame; `thread == 0` means nothing was recorded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) start: u64,
    pub(crate) thread: u32,
    pub(crate) depth: u32,
}

impl Entry {
    pub(crate) const NONE: Entry = Entry { start: 0, thread: 0, depth: 0 };
}

/// What only the owning thread touches.
struct Local {
    data: OnceCell<Arc<ThreadData>>,
    stack: RefCell<Vec<Frame>>,
    /// Generation last synchronised with, or [`BUSY`] while a cold path runs.
    generation: Cell<u64>,
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            // Any instrumented call from here on (a later TLS destructor, the allocator) finds
            // `LOCAL` destroyed and passes unrecorded.
            Registry::global().retire_thread(&data);
        }
    }
}

thread_local! {
    static LOCAL: Local = const {
        Local { data: OnceCell::new(), stack: RefCell::new(Vec::new()), generation: Cell::new(NEVER_SYNCHRONISED) }
    };
}

impl Local {
    #[inline(always)]
    fn enter(&self, find_stage: impl FnOnce(&Local) -> Option<StageId>, state: u64) -> Entry {
        if self.generation.get() != switch::generation(state) {
            match self.synchronise(state) {
                Some(state) if switch::is_on(state) => {}
                _ => return Entry::NONE,
            }
        }
        let Some(stage_id) = find_stage(self) else {
            return Entry::NONE;
        };
        let Some(data) = self.data.get() else {
            return Entry::NONE;
        };
        let Ok(mut stack) = self.stack.try_borrow_mut() else {
            return Entry::NONE;
        };
        let parent = stack.last().map_or_else(|| data.root(), |frame| frame.node);
        let node = match data.find_child(parent, stage_id.0) {
            Some(node) => node,
            None => match self.while_busy(|| data.create_child(parent, stage_id.0)) {
                Some(node) => node,
                None => return Entry::NONE,
            },
        };
        if stack.len() == stack.capacity() {
            let grow = stack.len().max(16);
            self.while_busy(|| stack.reserve(grow));
        }
        stack.push(Frame { node, children: 0 });
        let depth = (stack.len() - 1) as u32;
        drop(stack);
        Entry { start: clock::now(), thread: data.serial, depth }
    }

    #[inline(always)]
    fn exit(&self, entry: Entry, end: u64, how: Exit) {
        let Some(data) = self.data.get() else { return };
        if entry.thread != data.serial {
            return; // The guard moved to another thread: its frame is repaired below on its own thread.
        }
        let Ok(mut stack) = self.stack.try_borrow_mut() else {
            return;
        };
        let depth = entry.depth as usize;
        if stack.len() <= depth {
            return; // An enclosing frame already closed (guards dropped out of order).
        }
        // Frames above ours belong to guards leaked or dropped out of order: discard them.
        stack.truncate(depth + 1);
        let frame = stack.pop().expect("stack holds the frame at `depth`");
        let elapsed = end.saturating_sub(entry.start);
        if let Some(parent) = stack.last_mut() {
            parent.children += elapsed;
        }
        drop(stack);
        // No generation check here: a call that straddles a reset lands in the pre-reset data,
        // which snapshots ignore and this thread's next `enter` clears.
        let node = data.resolve(frame.node);
        let own = elapsed.saturating_sub(frame.children);
        bump(&node.self_time, own);
        let duration = match how {
            Exit::Call => elapsed,
            Exit::Poll(first_poll) => {
                bump(&node.busy, elapsed);
                match first_poll {
                    Some(start) => end.saturating_sub(start),
                    None => return,
                }
            }
        };
        bump(&node.calls, 1);
        bump(&node.total, duration);
        if duration < node.min.load(Relaxed) {
            node.min.store(duration, Relaxed);
        }
        if duration > node.max.load(Relaxed) {
            node.max.store(duration, Relaxed);
        }
        if let Some(histogram) = data.resolve_histogram(node.histogram.load(Relaxed))
            && !histogram.try_record(duration)
        {
            self.while_busy(|| histogram.record_allocating(duration));
        }
    }

    /// Cold: brings this thread up to date with the switch. Registers the thread on its first
    /// call, reads `PROFILE` on the first call of the process, and discards data recorded
    /// before a reset. Returns the state in force, or `None` while the thread is busy.
    #[cold]
    #[inline(never)]
    fn synchronise(&self, state: u64) -> Option<u64> {
        if self.generation.get() == BUSY {
            return None;
        }
        let state = if switch::generation(state) == 0 { switch::ensure_initialised() } else { state };
        let generation = switch::generation(state);
        self.while_busy(|| match self.data.get() {
            None => {
                clock::init();
                let data = Registry::global().register_thread(generation);
                self.stack.borrow_mut().reserve(64);
                let _ = self.data.set(data);
            }
            Some(data) => {
                if data.generation.load(Relaxed) != generation {
                    data.clear();
                    data.generation.store(generation, Relaxed);
                }
            }
        });
        self.generation.set(generation);
        Some(state)
    }

    /// Runs `f` with this thread marked busy: instrumented calls made inside pass unrecorded.
    fn while_busy<R>(&self, f: impl FnOnce() -> R) -> R {
        let saved = self.generation.replace(BUSY);
        let result = f();
        self.generation.set(saved);
        result
    }
}

/// Starts a frame for `callsite` on this thread. The caller has checked that profiling is on.
#[inline(always)]
pub(crate) fn enter(callsite: &'static Callsite, state: u64) -> Entry {
    let find_stage = |local: &Local| callsite.registered().or_else(|| local.while_busy(|| callsite.register()));
    LOCAL.try_with(|local| local.enter(find_stage, state)).unwrap_or(Entry::NONE)
}

/// Starts a frame for a stage given by name (a registry lookup per call).
pub(crate) fn enter_named(name: &str, state: u64) -> Entry {
    let find_stage = |local: &Local| local.while_busy(|| Registry::global().stage_id(name));
    LOCAL.try_with(|local| local.enter(find_stage, state)).unwrap_or(Entry::NONE)
}

/// Ends a frame started by [`enter`]; returns the elapsed ticks.
#[inline(always)]
pub(crate) fn exit(entry: Entry, how: Exit) -> u64 {
    let end = clock::now();
    let _ = LOCAL.try_with(|local| local.exit(entry, end, how));
    end.saturating_sub(entry.start)
}

/// Runs `f` with the current thread marked busy (when it has thread-local state left), so that
/// instrumented calls it triggers (for instance in an instrumented allocator) cannot re-enter
/// the registry's locks.
pub(crate) fn while_busy<R>(f: impl FnOnce() -> R) -> R {
    let saved = LOCAL.try_with(|local| local.generation.replace(BUSY)).ok();
    let result = f();
    if let Some(saved) = saved {
        let _ = LOCAL.try_with(|local| local.generation.set(saved));
    }
    result
}

/// Whether the current thread is inside one of the profiler's own cold paths.
pub(crate) fn is_busy() -> bool {
    LOCAL.try_with(|local| local.generation.get() == BUSY).unwrap_or(true)
}
