//! The hot path: entering and leaving a stage on the calling thread.
//!
//! Two thread-locals split the work:
//!
//! - [`Hot`] holds what every call touches: the generation the thread last synchronised with,
//!   a pointer to its [`ThreadData`], and the *current* node of its call tree (the innermost
//!   active call, or the root). It has no destructor, so reaching it is an address computation
//!   with no "is it still alive" check, and every field is a `Cell`.
//! - [`Owner`] owns the thread's data. Its destructor retires the thread into the registry,
//!   after first clearing `Hot`'s pointers, so any later call (from another thread-local
//!   destructor, say) passes unrecorded instead of touching freed memory.
//!
//! Entering a stage moves `current` to the child node for that stage (found among the current
//! node's children, or created), and the guard remembers the node; leaving moves `current`
//! back to the node's parent. There is no separate stack of frames: the path from `current`
//! to the root *is* the stack.
//!
//! Cold paths (first call on a thread, a new path, a new histogram block, a reset, guards
//! dropped out of order) allocate, take locks or walk the tree; they run with the thread marked
//! *busy*, and an instrumented call made meanwhile (say, from inside a user's global
//! allocator) passes unrecorded instead of recursing or deadlocking.
//!
//! # Safety argument
//!
//! `Hot::data`, `Hot::current` and `Hot::events` are either null (before registration and
//! after retirement, when `Hot::generation` never matches a real generation, so the fast paths
//! never read them) or point into the `ThreadData` that this thread's `Owner` keeps alive
//! (see the safety argument of [`crate::tree`] for nodes). They are set only by this thread,
//! in [`Owner::register`], the enter/exit paths and [`Owner`]'s destructor, which nulls them
//! before the data can be freed. An [`Entry`]'s node is dereferenced only after it has been
//! found equal to `Hot::current` or to one of its ancestors, that is, only when it is a node
//! of this thread's live tree; an entry from another thread (a guard is not `Send`, but an
//! `InstrumentedFuture` moves between polls), or outliving its thread's data, never matches
//! there and is ignored.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::callsite::Callsite;
use crate::clock;
use crate::registry::{Registry, StageId};
use crate::switch;
use crate::trace::EventRing;
use crate::tree::{Child, Node, ThreadData, bump};

/// A `Hot::generation` value no real generation equals (those are even): marks "busy".
const BUSY: u64 = 1;
/// The `Hot::generation` of a thread that has not synchronised yet: odd, so it differs from
/// every real generation, including 0 ("`PROFILE` not read yet"), and from [`BUSY`].
const NEVER_SYNCHRONISED: u64 = 3;
/// The `Hot::generation` of a thread whose data has been retired: it records nothing more.
const RETIRED: u64 = 5;
/// Marks, in an [`Entry`]'s node address (nodes are aligned, so bit 0 is free), a call folded
/// into its caller's node because the tree was full.
const FOLDED: usize = 1;

/// How a frame ends.
#[derive(Clone, Copy)]
pub(crate) enum Exit {
    /// A synchronous call returned (or unwound).
    Call,
    /// One poll of an instrumented future; `Some(first_poll_start)` when it completed.
    Poll(Option<u64>),
}

/// A started call. Two words, so it travels in registers; `Send`, since it holds the node's
/// address as an integer (only ever compared on another thread, see the safety argument).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) start: u64,
    /// Address of the node the call records into (plus [`FOLDED`]); 0 when not recording.
    node: usize,
}

impl Entry {
    pub(crate) const NONE: Entry = Entry { start: 0, node: 0 };

    /// Whether the call is being recorded (its exit must be reported).
    #[inline(always)]
    pub(crate) fn is_recording(self) -> bool {
        self.node != 0
    }
}

/// What every call touches; see the module documentation.
struct Hot {
    /// Generation last synchronised with, or [`BUSY`], [`NEVER_SYNCHRONISED`], [`RETIRED`].
    generation: Cell<u64>,
    /// The innermost active call's node, or the root.
    current: Cell<*const Node>,
    data: Cell<*const ThreadData>,
    /// The thread's event ring (in its `ThreadData`), or null when not tracing.
    events: Cell<*const EventRing>,
}

/// Owns what `Hot` points to; see the module documentation.
struct Owner {
    data: RefCell<Option<Arc<ThreadData>>>,
}

thread_local! {
    static HOT: Hot = const {
        Hot {
            generation: Cell::new(NEVER_SYNCHRONISED),
            current: Cell::new(ptr::null()),
            data: Cell::new(ptr::null()),
            events: Cell::new(ptr::null()),
        }
    };
    static OWNER: Owner = const { Owner { data: RefCell::new(None) } };
    /// Whether this thread's data is to be hidden from snapshots ([`hide_from_snapshots`]).
    static HIDDEN: Cell<bool> = const { Cell::new(false) };
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Detach `Hot` first: any instrumented call from here on passes unrecorded.
        let _ = HOT.try_with(|hot| {
            hot.generation.set(RETIRED);
            hot.current.set(ptr::null());
            hot.data.set(ptr::null());
            hot.events.set(ptr::null());
        });
        if let Some(data) = self.data.get_mut().take() {
            Registry::global().retire_thread(&data);
        }
    }
}

impl Owner {
    /// Cold: creates this thread's data and points `hot` at it.
    fn register(&self, hot: &Hot, generation: u64) {
        clock::init();
        let hidden = HIDDEN.try_with(Cell::get).unwrap_or(false);
        let data = Registry::global().register_thread(generation, hidden);
        hot.current.set(data.root());
        hot.data.set(Arc::as_ptr(&data));
        hot.events.set(data.events.as_ref().map_or(ptr::null(), ptr::from_ref));
        *self.data.borrow_mut() = Some(data);
    }
}

impl Hot {
    /// The fast path of [`enter`]: no call except tail calls to [`Hot::enter_slow`], so it
    /// needs no saved registers.
    #[inline(always)]
    fn enter_fast(&self, callsite: &'static Callsite, state: u64) -> Entry {
        let Some(stage_id) = callsite.registered() else {
            return self.enter_slow(callsite, state);
        };
        if self.generation.get() != switch::generation(state) || !clock::is_counter() {
            return self.enter_slow(callsite, state);
        }
        // Registered (the generation matched), so `current` is a node of this thread's tree.
        let Some(node) = self.data().find_child(self.current.get(), stage_id.0) else {
            return self.enter_slow(callsite, state);
        };
        self.current.set(node);
        Entry { start: clock::read_counter(), node: node as usize }
    }

    #[cold]
    #[inline(never)]
    fn enter_slow(&self, callsite: &'static Callsite, state: u64) -> Entry {
        self.enter(|hot| callsite.registered().or_else(|| hot.while_busy(|| callsite.register())), state)
    }

    /// Everything [`Hot::enter_fast`] leaves out: synchronising, registering the stage,
    /// creating a node, the fallback clock.
    fn enter(&self, find_stage: impl FnOnce(&Hot) -> Option<StageId>, state: u64) -> Entry {
        if self.generation.get() != switch::generation(state) {
            match self.synchronise(state) {
                Some(state) if switch::is_on(state) => {}
                _ => return Entry::NONE,
            }
        }
        let Some(stage_id) = find_stage(self) else {
            return Entry::NONE;
        };
        let parent = self.current.get();
        let data = self.data();
        let node = match data.find_child(parent, stage_id.0) {
            Some(node) => node as usize,
            None => match self.while_busy(|| data.find_or_create_child(parent, stage_id.0)) {
                Some(Child::New(node)) => node as usize,
                Some(Child::Folded(node)) => return Entry { start: clock::now(), node: node as usize | FOLDED },
                None => return Entry::NONE,
            },
        };
        self.current.set(node as *const Node);
        Entry { start: clock::now(), node }
    }

    /// Closes the call of `entry`; its calls to cold paths are tail calls.
    #[inline(always)]
    fn exit(&self, entry: Entry, end: u64, how: Exit) {
        let current = self.current.get();
        if entry.node != current as usize {
            return self.exit_unusual(entry, end, how);
        }
        debug_assert!(!current.is_null(), "recording entries never hold a null node");
        // `entry.node` is `current`: a node of this thread's live tree (safety argument). Read
        // through `entry.node`, already in a register, not through the `current` just loaded:
        // the load of the parent then waits for no other load, and the next call's lookup,
        // which starts from that parent, is one load latency shorter (1 to 2 ns per call).
        let node = self.data().resolve(entry.node as *const Node);
        self.current.set(node.parent_node());
        let events = self.events.get();
        if !events.is_null() {
            // A separate function for plain calls keeps this a tail call with every argument
            // in a register (an `Exit` would go through the stack and cost a stack frame).
            return match how {
                Exit::Call => self.finish_traced_call(events, node, entry, end),
                Exit::Poll(_) => self.finish_traced(events, node, entry, end, how),
            };
        }
        self.finish(node, entry, end, how);
    }

    /// Records a closed frame's call into its node.
    #[inline(always)]
    fn finish(&self, node: &Node, entry: Entry, end: u64, how: Exit) {
        let elapsed = end.saturating_sub(entry.start);
        // No generation check here: a call that straddles a reset lands in the pre-reset data,
        // which snapshots ignore and this thread's next `enter` clears.
        let duration = match how {
            Exit::Call => elapsed,
            Exit::Poll(first_poll) => {
                node.is_async.store(true, Relaxed);
                bump(&node.busy, elapsed);
                match first_poll {
                    Some(start) => end.saturating_sub(start),
                    None => return,
                }
            }
        };
        self.record(node, duration);
    }

    /// [`Hot::finish_traced`] for a synchronous call.
    #[inline(never)]
    fn finish_traced_call(&self, events: *const EventRing, node: &Node, entry: Entry, end: u64) {
        self.finish_traced(events, node, entry, end, Exit::Call);
    }

    /// [`Hot::finish`] with tracing on: the call (or the poll) also becomes an event.
    #[inline(always)]
    fn finish_traced(&self, events: *const EventRing, node: &Node, entry: Entry, end: u64, how: Exit) {
        // SAFETY: `events` points into the `ThreadData` `data` points to (module argument).
        let events = unsafe { &*events };
        events.push(entry.start, end, node.stage.load(Relaxed), node.depth());
        self.finish(node, entry, end, how);
    }

    /// Counts a completed call in its node and histogram.
    #[inline(always)]
    fn record(&self, node: &Node, duration: u64) {
        if !node.try_record_duration(duration) {
            return self.record_allocating(node, duration);
        }
        node.record_call(duration);
    }

    /// The exits the fast path leaves out, all with `entry.node` other than `current`:
    ///
    /// - a folded call (the tree was full): it counts in its caller's node, which stays current;
    /// - a call whose inner calls' guards were leaked or are dropped after it (guards dropped
    ///   out of order): its node is an ancestor of `current`; the inner calls are abandoned
    ///   and this one is recorded;
    /// - a call already closed by an enclosing guard, or a guard moved to another thread or
    ///   outliving its thread's data: its node is not on the path from `current`, so it is
    ///   ignored without ever being dereferenced.
    #[cold]
    #[inline(never)]
    fn exit_unusual(&self, entry: Entry, end: u64, how: Exit) {
        let current = self.current.get();
        if current.is_null() {
            return; // Not registered, or retired.
        }
        let data = self.data();
        if entry.node & FOLDED != 0 {
            if entry.node & !FOLDED == current as usize
                && let Exit::Call = how
            {
                let node = data.resolve(current);
                bump(&node.calls, 1);
                if let Some(histogram) = node.histogram() {
                    self.while_busy(|| histogram.record_allocating(end.saturating_sub(entry.start)));
                }
            }
            return;
        }
        let mut cursor = current;
        while !cursor.is_null() && cursor as usize != entry.node {
            cursor = data.resolve(cursor).parent_node();
        }
        if cursor.is_null() {
            return;
        }
        // An ancestor of `current`, so a node of this thread's live tree (safety argument).
        let node = data.resolve(cursor);
        self.current.set(node.parent_node());
        self.finish(node, entry, end, how);
    }

    #[cold]
    #[inline(never)]
    fn record_allocating(&self, node: &Node, duration: u64) {
        let Some(histogram) = node.histogram() else { return }; // The root records nothing.
        self.while_busy(|| histogram.record_allocating(duration));
        node.record_call(duration);
    }

    /// The thread's data. Only called once registered (module safety argument).
    #[inline(always)]
    fn data(&self) -> &ThreadData {
        // SAFETY: registered, so `data` points to the `ThreadData` `OWNER` keeps alive for as
        // long as `Hot` points to it.
        unsafe { &*self.data.get() }
    }

    /// Cold: brings this thread up to date with the switch. Registers the thread on its first
    /// call with profiling on, reads `PROFILE` on the first call of the process, and discards
    /// data recorded before a reset. Returns the state in force, or `None` while the thread is
    /// busy or gone.
    #[cold]
    #[inline(never)]
    fn synchronise(&self, state: u64) -> Option<u64> {
        if matches!(self.generation.get(), BUSY | RETIRED) {
            return None;
        }
        let state = if switch::generation(state) == 0 { switch::ensure_initialised() } else { state };
        if !switch::is_on(state) && self.data.get().is_null() {
            // Off, and nothing recorded yet: register when profiling comes on, if ever. With
            // profiling off the profiler starts no clock, allocates nothing, prints nothing.
            return Some(state);
        }
        let generation = switch::generation(state);
        let registered = self.while_busy(|| {
            if self.data.get().is_null() {
                return OWNER.try_with(|owner| owner.register(self, generation)).is_ok();
            }
            let data = self.data();
            if data.generation.load(Relaxed) != generation {
                data.clear();
                data.generation.store(generation, Relaxed);
            }
            true
        });
        if !registered {
            self.generation.set(RETIRED);
            return None;
        }
        self.generation.set(generation);
        if switch::is_on(state) {
            crate::calibrate::once_per_process();
        }
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

/// This thread's [`Hot`], or `None` on platforms where it is gone during thread shutdown.
#[inline(always)]
fn hot() -> Option<&'static Hot> {
    // SAFETY: `Hot` has no destructor, so its storage stays valid until the thread ends; the
    // reference cannot leave the thread (`Hot` is not `Sync`) and is used only within one call.
    HOT.try_with(|hot| unsafe { &*ptr::from_ref(hot) }).ok()
}

/// Starts a frame for `callsite` on this thread. The caller has checked that profiling is on.
///
/// Kept out of line so that the instrumented function itself stays small: with the recording
/// path inlined, every call (also with profiling off) would pay for saving the registers it uses.
#[inline(never)]
pub(crate) fn enter(callsite: &'static Callsite, state: u64) -> Entry {
    match hot() {
        Some(hot) => hot.enter_fast(callsite, state),
        None => Entry::NONE,
    }
}

/// Starts a frame for a stage given by name (a registry lookup per call).
pub(crate) fn enter_named(name: &str, state: u64) -> Entry {
    let find_stage = |hot: &Hot| hot.while_busy(|| Registry::global().stage_id(name));
    hot().map_or(Entry::NONE, |hot| hot.enter(find_stage, state))
}

/// Ends a frame started by [`enter`]; returns the elapsed ticks.
#[inline(always)]
pub(crate) fn exit(entry: Entry, how: Exit) -> u64 {
    let Some(end) = clock::end_stamp() else {
        return exit_with_fallback_clock(entry, how);
    };
    if let Some(hot) = hot() {
        hot.exit(entry, end, how);
    }
    end.saturating_sub(entry.start)
}

#[cold]
#[inline(never)]
fn exit_with_fallback_clock(entry: Entry, how: Exit) -> u64 {
    let end = clock::now();
    if let Some(hot) = hot() {
        hot.exit(entry, end, how);
    }
    end.saturating_sub(entry.start)
}

/// Runs `f` with the current thread marked busy, so that instrumented calls it triggers (for
/// instance in an instrumented allocator) cannot re-enter the registry's locks.
pub(crate) fn while_busy<R>(f: impl FnOnce() -> R) -> R {
    match HOT.try_with(|hot| hot.generation.replace(BUSY)) {
        Ok(saved) => {
            let result = f();
            let _ = HOT.try_with(|hot| hot.generation.set(saved));
            result
        }
        Err(_) => f(),
    }
}

/// Whether the current thread is inside one of the profiler's own cold paths.
pub(crate) fn is_busy() -> bool {
    HOT.try_with(|hot| hot.generation.get() == BUSY).unwrap_or(true)
}

/// Keeps everything the calling thread records, before and after, out of snapshots: for the
/// profiler's own helper threads, whose calls (to an instrumented allocator, say) are not the
/// program's.
pub(crate) fn hide_from_snapshots() {
    let _ = HIDDEN.try_with(|hidden| hidden.set(true));
    let _ = with_data(|data| data.hidden.store(true, Relaxed));
}

/// The current thread's data, if it has registered and not retired (for calibration).
pub(crate) fn with_data<R>(f: impl FnOnce(&ThreadData) -> R) -> Option<R> {
    HOT.try_with(|hot| if hot.data.get().is_null() { None } else { Some(f(hot.data())) }).ok().flatten()
}
