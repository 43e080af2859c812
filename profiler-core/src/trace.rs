//! The optional event recorder behind timelines (Chrome trace, speedscope): every call as an
//! event with its start and end, kept per thread in a ring buffer of bounded size.
//!
//! Off by default. `PROFILE_TRACE=1` (or [`set_tracing`](crate::set_tracing) before the first
//! instrumented call) gives each thread that starts recording a ring of
//! `PROFILE_TRACE_EVENTS` events (default [`DEFAULT_EVENTS_PER_THREAD`], 24 bytes each). When
//! a ring is full the oldest events are overwritten and counted as dropped, so memory stays
//! bounded however long the program runs; reports say how many were dropped.

#![allow(unsafe_code)] // A zeroed allocation that can fail: see `zeroed_slots`.

use std::alloc::{self, Layout};
use std::ptr;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

use crate::warning::warn;

/// Events each thread keeps when `PROFILE_TRACE_EVENTS` does not say otherwise.
pub const DEFAULT_EVENTS_PER_THREAD: usize = 1 << 18;
/// Events kept from threads that have exited, over all of them: past this, the oldest
/// exited threads' events are dropped (and counted).
pub(crate) const MAX_RETIRED_EVENTS: usize = 1 << 22;

/// Events per thread for threads that register from now on; 0 = tracing off.
static CAPACITY: AtomicUsize = AtomicUsize::new(0);
static READ_ENV: Once = Once::new();

/// Turns the event recorder on (`Some(events per thread)`, rounded up to a power of two) or
/// off (`None`) for threads that start recording afterwards, overriding `PROFILE_TRACE`.
/// Call it before the first instrumented call: threads already recording keep their setting.
pub fn set_tracing(events_per_thread: Option<usize>) {
    READ_ENV.call_once(|| {});
    CAPACITY.store(events_per_thread.map_or(0, |n| n.clamp(1, 1 << 30).next_power_of_two()), Relaxed);
}

/// Events per thread for a thread registering now (0: no tracing). Reads the environment once.
pub(crate) fn capacity() -> usize {
    READ_ENV.call_once(|| {
        let setting = std::env::var_os("PROFILE_TRACE");
        let setting = setting.as_ref().map(|v| v.to_string_lossy());
        match crate::parse_profile_setting(setting.as_deref()) {
            crate::ProfileSetting::On => {}
            crate::ProfileSetting::Off => return,
            crate::ProfileSetting::Invalid => {
                let setting = setting.as_deref().unwrap_or_default();
                warn(format_args!(
                    "PROFILE_TRACE={setting:?} is not understood (use 1/true/on/yes or 0/false/off/no); tracing stays off"
                ));
                return;
            }
        }
        let events = std::env::var_os("PROFILE_TRACE_EVENTS").map_or(DEFAULT_EVENTS_PER_THREAD, |raw| {
            let text = raw.to_string_lossy();
            match text.trim() {
                "" => DEFAULT_EVENTS_PER_THREAD,
                number => number.parse::<usize>().ok().filter(|&n| n > 0).unwrap_or_else(|| {
                    warn(format_args!(
                        "PROFILE_TRACE_EVENTS={text:?} is not a positive number of events; using {DEFAULT_EVENTS_PER_THREAD}"
                    ));
                    DEFAULT_EVENTS_PER_THREAD
                }),
            }
        });
        CAPACITY.store(events.clamp(1, 1 << 30).next_power_of_two(), Relaxed);
    });
    CAPACITY.load(Relaxed)
}

/// One recorded call, in ticks, with the registry's stage id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawEvent {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) stage: u32,
    pub(crate) depth: u32,
}

/// One thread's ring. Only the owning thread writes; snapshots read while it runs (an event
/// being overwritten during the read may come out torn, which bounds checks below discard).
pub(crate) struct EventRing {
    /// Per event: start, end, stage << 32 | depth.
    events: Box<[[AtomicU64; 3]]>,
    /// Events ever written (the next one goes to `written & mask`).
    written: AtomicU64,
}

impl EventRing {
    /// A ring of `capacity` events (a power of two), or `None` (and a warning) when the memory
    /// cannot be had: a thread then records without events rather than aborting the program.
    ///
    /// The memory comes zeroed from the allocator, so pages the ring never reaches are never
    /// touched: a generous `PROFILE_TRACE_EVENTS` costs only what is recorded.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        debug_assert!(capacity.is_power_of_two());
        let Some(events) = zeroed_slots(capacity) else {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                let mib = capacity.saturating_mul(size_of::<[AtomicU64; 3]>()) >> 20;
                warn(format_args!(
                    "cannot allocate {mib} MiB for a thread's events (PROFILE_TRACE_EVENTS); threads without it are not traced"
                ));
            });
            return None;
        };
        Some(Self { events, written: AtomicU64::new(0) })
    }

    /// Owner only: appends one event, overwriting the oldest when full.
    #[inline]
    pub(crate) fn push(&self, start: u64, end: u64, stage: u32, depth: u32) {
        let written = self.written.load(Relaxed);
        let slot = &self.events[written as usize & (self.events.len() - 1)];
        slot[0].store(start, Relaxed);
        slot[1].store(end, Relaxed);
        slot[2].store(u64::from(stage) << 32 | u64::from(depth), Relaxed);
        self.written.store(written + 1, Release);
    }

    /// Owner only: forgets every event.
    pub(crate) fn clear(&self) {
        self.written.store(0, Relaxed);
    }

    /// The events kept, oldest first, and how many were overwritten.
    pub(crate) fn read(&self) -> (Vec<RawEvent>, u64) {
        let written = self.written.load(Acquire);
        let capacity = self.events.len() as u64;
        let kept = written.min(capacity);
        let first = written - kept;
        let events = (first..written)
            .map(|i| {
                let slot = &self.events[(i % capacity) as usize];
                let packed = slot[2].load(Relaxed);
                RawEvent {
                    start: slot[0].load(Relaxed),
                    end: slot[1].load(Relaxed),
                    stage: (packed >> 32) as u32,
                    depth: packed as u32,
                }
            })
            .filter(|e| e.end >= e.start)
            .collect();
        (events, first)
    }
}

/// The events of one thread, as kept by the registry.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawThreadEvents {
    pub(crate) thread: u32,
    pub(crate) dropped: u64,
    pub(crate) events: Vec<RawEvent>,
}

/// Events of exited threads, bounded by [`MAX_RETIRED_EVENTS`].
#[derive(Clone, Debug, Default)]
pub(crate) struct RetiredEvents {
    pub(crate) threads: Vec<RawThreadEvents>,
    kept: usize,
    /// Events of whole exited threads dropped to stay within the bound.
    pub(crate) dropped: u64,
}

impl RetiredEvents {
    pub(crate) fn add(&mut self, events: RawThreadEvents) {
        if events.events.is_empty() && events.dropped == 0 {
            return;
        }
        self.kept += events.events.len();
        self.threads.push(events);
        while self.kept > MAX_RETIRED_EVENTS && !self.threads.is_empty() {
            let oldest = self.threads.remove(0);
            self.kept -= oldest.events.len();
            self.dropped += oldest.events.len() as u64 + oldest.dropped;
        }
    }
}

/// `capacity` (at least 1) zeroed event slots, or `None` when the allocator has no memory.
fn zeroed_slots(capacity: usize) -> Option<Box<[[AtomicU64; 3]]>> {
    let layout = Layout::array::<[AtomicU64; 3]>(capacity).ok().filter(|l| l.size() > 0)?;
    // SAFETY: the layout's size is not zero.
    #[expect(clippy::cast_ptr_alignment, reason = "allocated with the slots' layout, so aligned for them")]
    let slots = unsafe { alloc::alloc_zeroed(layout) }.cast::<[AtomicU64; 3]>();
    if slots.is_null() {
        return None;
    }
    // SAFETY: `slots` is a fresh allocation from the global allocator with the layout of
    // `[[AtomicU64; 3]; capacity]`, which is what dropping the box frees, and all-zero bytes
    // are valid `AtomicU64`s.
    Some(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(slots, capacity)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_ring_keeps_the_newest_events_and_counts_the_rest() {
        let ring = EventRing::new(4).unwrap();
        for i in 0..6u32 {
            ring.push(u64::from(i) * 10, u64::from(i) * 10 + 5, i, 1);
        }
        let (events, dropped) = ring.read();
        assert_eq!(dropped, 2);
        let stages: Vec<u32> = events.iter().map(|e| e.stage).collect();
        assert_eq!(stages, [2, 3, 4, 5]);
        assert_eq!(events[0], RawEvent { start: 20, end: 25, stage: 2, depth: 1 });
        ring.clear();
        assert_eq!(ring.read(), (Vec::new(), 0));
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_ring_the_allocator_cannot_give_is_none_and_a_large_one_starts_empty() {
        // 2^58 events of 24 bytes: more than any machine can map (prints the warning once).
        assert!(EventRing::new(1 << 58).is_none());
        assert!(EventRing::new(1 << 59).is_none(), "and no second warning");
        let ring = EventRing::new(1 << 20).unwrap();
        assert_eq!(ring.read(), (Vec::new(), 0));
        ring.push(1, 2, 3, 4);
        assert_eq!(ring.read(), (vec![RawEvent { start: 1, end: 2, stage: 3, depth: 4 }], 0));
    }

    #[test]
    fn exited_threads_events_stay_bounded() {
        let mut retired = RetiredEvents::default();
        let thread = |n: usize| RawThreadEvents {
            thread: 1,
            dropped: 0,
            events: vec![RawEvent { start: 0, end: 1, stage: 0, depth: 1 }; n],
        };
        retired.add(thread(MAX_RETIRED_EVENTS - 10));
        retired.add(thread(20));
        assert_eq!(retired.threads.len(), 1);
        assert_eq!(retired.dropped, (MAX_RETIRED_EVENTS - 10) as u64);
    }
}
