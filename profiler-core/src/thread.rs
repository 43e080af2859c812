//! The hot path: entering and leaving a stage on the calling thread.
//!
//! Two thread-locals split the work:
//!
//! - [`Hot`] holds what every call touches (the generation the thread last synchronised with,
//!   a pointer to its [`ThreadData`], its frame stack). It has no destructor, so reaching it is
//!   an address computation with no "is it still alive" check, and every field is a `Cell`.
//! - [`Owner`] owns the thread's data and frame buffer. Its destructor retires the thread into
//!   the registry, after first clearing `Hot`'s pointers, so any later call (from another
//!   thread-local destructor, say) passes unrecorded instead of touching freed memory.
//!
//! Cold paths (first call on a thread, a new path, a new histogram block, a deeper stack than
//! ever, a reset) allocate or take locks; they run with the thread marked *busy*, and an
//! instrumented call made meanwhile (say, from inside a user's global allocator) passes
//! unrecorded instead of recursing or deadlocking.
//!
//! # Safety argument
//!
//! `Hot::data`, `Hot::frames` and `Hot::events` are either null/dangling-but-unused (before registration and
//! after retirement, when `Hot::serial` is 0 and `Hot::generation` never matches a real
//! generation, so the hot path never reads them) or point to the `ThreadData` and the frame
//! buffer that this thread's `Owner` keeps alive. Both are replaced only by this thread, in
//! [`Owner::register`], [`Hot::grow`] and [`Owner`]'s destructor, and each replacement updates
//! `Hot` before the old value is freed. Frame indices used are below `Hot::depth`, which is at
//! most `Hot::capacity`, the buffer's length. Frames hold node pointers into the same
//! `ThreadData` (see the safety argument of [`crate::tree`]).
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::callsite::Callsite;
use crate::clock;
use crate::histogram::AtomicHistogram;
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
/// Frames a thread starts with; the stack doubles when a call goes deeper.
const INITIAL_FRAMES: usize = 64;
/// Deepest nesting recorded; deeper calls pass unrecorded.
const MAX_FRAMES: usize = 1 << 20;
/// Marks, in an [`Entry`]'s depth, a call folded into its caller's node.
const FOLDED: u32 = 1 << 31;

/// An active call on this thread's stack: the node it records into, which points into the
/// owning thread's data (module safety argument). Callees' time is not tracked per frame: self
/// times are derived from the tree at snapshot time (see [`Node::own_time`]).
type Frame = *const Node;

/// How a frame ends.
#[derive(Clone, Copy)]
pub(crate) enum Exit {
    /// A synchronous call returned (or unwound).
    Call,
    /// One poll of an instrumented future; `Some(first_poll_start)` when it completed.
    Poll(Option<u64>),
}

/// A started frame. Two words, so it travels in registers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) start: u64,
    /// The recording thread's serial in the high half, the frame's index in its thread's stack
    /// in the low half (at least 1: frame 0 stands for the root); 0 when nothing is recorded.
    slot: u64,
}

impl Entry {
    pub(crate) const NONE: Entry = Entry { start: 0, slot: 0 };

    #[inline(always)]
    fn new(start: u64, serial: u32, depth: u32) -> Self {
        Self { start, slot: u64::from(serial) << 32 | u64::from(depth) }
    }

    /// Whether the call is being recorded (its exit must be reported).
    #[inline(always)]
    pub(crate) fn is_recording(self) -> bool {
        self.slot != 0
    }

    #[inline(always)]
    fn serial(self) -> u32 {
        (self.slot >> 32) as u32
    }

    #[inline(always)]
    fn depth(self) -> u32 {
        self.slot as u32
    }
}

/// What every call touches; see the module documentation.
struct Hot {
    /// Generation last synchronised with, or [`BUSY`], [`NEVER_SYNCHRONISED`], [`RETIRED`].
    generation: Cell<u64>,
    /// The thread's serial once registered, 0 before and after.
    serial: Cell<u32>,
    /// Frames in use, the root's frame 0 included.
    depth: Cell<u32>,
    /// Length of the frame buffer.
    capacity: Cell<u32>,
    frames: Cell<*mut Frame>,
    data: Cell<*const ThreadData>,
    /// The thread's event ring (in its `ThreadData`), or null when not tracing.
    events: Cell<*const EventRing>,
}

/// Owns what `Hot` points to; see the module documentation.
struct Owner {
    data: RefCell<Option<Arc<ThreadData>>>,
    frames: RefCell<Vec<Frame>>,
}

thread_local! {
    static HOT: Hot = const {
        Hot {
            generation: Cell::new(NEVER_SYNCHRONISED),
            serial: Cell::new(0),
            depth: Cell::new(0),
            capacity: Cell::new(0),
            frames: Cell::new(ptr::null_mut()),
            data: Cell::new(ptr::null()),
            events: Cell::new(ptr::null()),
        }
    };
    static OWNER: Owner = const { Owner { data: RefCell::new(None), frames: RefCell::new(Vec::new()) } };
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Detach `Hot` first: any instrumented call from here on passes unrecorded.
        let _ = HOT.try_with(|hot| {
            hot.generation.set(RETIRED);
            hot.serial.set(0);
            hot.depth.set(0);
            hot.capacity.set(0);
            hot.frames.set(ptr::null_mut());
            hot.data.set(ptr::null());
            hot.events.set(ptr::null());
        });
        if let Some(data) = self.data.get_mut().take() {
            Registry::global().retire_thread(&data);
        }
    }
}

impl Owner {
    /// Cold: creates this thread's data and frame stack and points `hot` at them.
    fn register(&self, hot: &Hot, generation: u64) {
        clock::init();
        let data = Registry::global().register_thread(generation);
        let mut frames = vec![ptr::null(); INITIAL_FRAMES];
        frames[0] = data.root();
        hot.frames.set(frames.as_mut_ptr());
        hot.capacity.set(INITIAL_FRAMES as u32);
        hot.depth.set(1);
        hot.data.set(Arc::as_ptr(&data));
        hot.events.set(data.events.as_ref().map_or(ptr::null(), ptr::from_ref));
        hot.serial.set(data.serial);
        *self.frames.borrow_mut() = frames;
        *self.data.borrow_mut() = Some(data);
    }
}

impl Hot {
    /// The fast path of [`enter`]: no call except tail calls to [`Hot::enter_slow`], so it
    /// needs no saved registers.
    #[inline(always)]
    fn enter_fast(&self, callsite: &'static Callsite, state: u64) -> Entry {
        let depth = self.depth.get();
        let Some(stage_id) = callsite.registered() else {
            return self.enter_slow(callsite, state);
        };
        if self.generation.get() != switch::generation(state) || depth >= self.capacity.get() || !clock::is_tsc() {
            return self.enter_slow(callsite, state);
        }
        let frames = self.frames.get();
        // SAFETY: registered (generation matched), and 1 <= depth < capacity (module argument).
        let parent = unsafe { frames.add(depth as usize - 1).read() };
        let Some(node) = self.data().find_child(parent, stage_id.0) else {
            return self.enter_slow(callsite, state);
        };
        // SAFETY: as above.
        unsafe { frames.add(depth as usize).write(node) };
        self.depth.set(depth + 1);
        Entry::new(clock::read_tsc(), self.serial.get(), depth)
    }

    #[cold]
    #[inline(never)]
    fn enter_slow(&self, callsite: &'static Callsite, state: u64) -> Entry {
        self.enter(|hot| callsite.registered().or_else(|| hot.while_busy(|| callsite.register())), state)
    }

    /// Everything [`Hot::enter_fast`] leaves out: synchronising, registering the stage,
    /// growing the stack, creating a node, the fallback clock.
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
        let depth = self.depth.get();
        if depth >= self.capacity.get() && !self.grow() {
            return Entry::NONE;
        }
        let frames = self.frames.get();
        // SAFETY: registered (generation matched), and 1 <= depth < capacity (module argument).
        let parent = unsafe { frames.add(depth as usize - 1).read() };
        let data = self.data();
        let (node, depth_tag) = match data.find_child(parent, stage_id.0) {
            Some(node) => (node, depth),
            None => match self.while_busy(|| data.find_or_create_child(parent, stage_id.0)) {
                Some(Child::New(node)) => (node, depth),
                Some(Child::Folded(node)) => (node, depth | FOLDED),
                None => return Entry::NONE,
            },
        };
        // SAFETY: as above.
        unsafe { frames.add(depth as usize).write(node) };
        self.depth.set(depth + 1);
        Entry::new(clock::now(), self.serial.get(), depth_tag)
    }

    /// Closes the frame of `entry`; its calls to cold paths are tail calls.
    #[inline(always)]
    fn exit(&self, entry: Entry, end: u64, how: Exit) {
        if entry.serial() != self.serial.get() {
            return; // The guard moved to another thread, or the thread retired meanwhile.
        }
        let index = entry.depth();
        if index >= self.depth.get() {
            return self.exit_unusual(entry, end, how);
        }
        debug_assert!(index >= 1, "frame 0 is the root's");
        // Frames above ours belong to guards leaked or dropped out of order: discard them.
        self.depth.set(index);
        // SAFETY: same thread as the entry (serial matched), 1 <= index < depth <= capacity.
        let node = self.data().resolve(unsafe { self.frames.get().add(index as usize).read() });
        let events = self.events.get();
        if !events.is_null() {
            return self.finish_traced(events, node, entry, end, how);
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

    /// [`Hot::finish`] with tracing on: the call (or the poll) also becomes an event.
    #[inline(never)]
    fn finish_traced(&self, events: *const EventRing, node: &Node, entry: Entry, end: u64, how: Exit) {
        // SAFETY: `events` points into the `ThreadData` `data` points to (module argument).
        let events = unsafe { &*events };
        events.push(entry.start, end, node.stage.load(Relaxed), entry.depth());
        self.finish(node, entry, end, how);
    }

    /// Counts a completed call in its node and histogram.
    #[inline(always)]
    fn record(&self, node: &Node, duration: u64) {
        let Some(histogram) = node.histogram() else { return };
        if !histogram.try_record(duration) {
            return self.record_allocating(node, histogram, duration);
        }
        node.record_call(duration);
    }

    /// The exits the fast path leaves out: a folded call (the tree was full, so it records
    /// into its caller's node, counting the call but not its time twice), or a frame that an
    /// enclosing guard already closed (guards dropped out of order: nothing to record).
    #[cold]
    #[inline(never)]
    fn exit_unusual(&self, entry: Entry, end: u64, how: Exit) {
        let index = entry.depth() & !FOLDED;
        if entry.depth() & FOLDED == 0 || index >= self.depth.get() {
            return;
        }
        self.depth.set(index);
        // SAFETY: as in `exit`.
        let node = self.data().resolve(unsafe { self.frames.get().add(index as usize).read() });
        if let Exit::Call = how {
            let duration = end.saturating_sub(entry.start);
            bump(&node.calls, 1);
            if let Some(histogram) = node.histogram() {
                self.while_busy(|| histogram.record_allocating(duration));
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn record_allocating(&self, node: &Node, histogram: &AtomicHistogram, duration: u64) {
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

    /// Cold: doubles the frame stack. `false` when it cannot grow (too deep, or the thread is
    /// shutting down).
    #[cold]
    #[inline(never)]
    fn grow(&self) -> bool {
        let capacity = self.capacity.get() as usize;
        if capacity == 0 || capacity >= MAX_FRAMES {
            return false;
        }
        self.while_busy(|| {
            OWNER
                .try_with(|owner| {
                    let mut frames = owner.frames.borrow_mut();
                    let mut bigger = vec![ptr::null(); capacity * 2];
                    bigger[..capacity].copy_from_slice(&frames);
                    self.frames.set(bigger.as_mut_ptr());
                    self.capacity.set(bigger.len() as u32);
                    *frames = bigger;
                })
                .is_ok()
        })
    }

    /// Cold: brings this thread up to date with the switch. Registers the thread on its first
    /// call, reads `PROFILE` on the first call of the process, and discards data recorded
    /// before a reset. Returns the state in force, or `None` while the thread is busy or gone.
    #[cold]
    #[inline(never)]
    fn synchronise(&self, state: u64) -> Option<u64> {
        if matches!(self.generation.get(), BUSY | RETIRED) {
            return None;
        }
        let state = if switch::generation(state) == 0 { switch::ensure_initialised() } else { state };
        let generation = switch::generation(state);
        let registered = self.while_busy(|| {
            if self.serial.get() == 0 {
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
    if !clock::is_tsc() {
        return exit_with_fallback_clock(entry, how);
    }
    let end = clock::read_tsc();
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

/// The current thread's data, if it has registered and not retired (for calibration).
pub(crate) fn with_data<R>(f: impl FnOnce(&ThreadData) -> R) -> Option<R> {
    HOT.try_with(|hot| if hot.serial.get() == 0 { None } else { Some(f(hot.data())) }).ok().flatten()
}
