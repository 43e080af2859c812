//! Recording does not allocate per call: after a stage's first call on a thread, ten million
//! more calls allocate nothing at all (so memory cannot grow, whatever the call count).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the arguments it was given.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCATED.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[profiler_macros::instrument_stage(name = "memory::hot")]
fn hot(x: u64) -> u64 {
    std::hint::black_box(x) ^ 1
}

#[profiler_macros::instrument_stage(name = "memory::outer")]
fn outer(x: u64) -> u64 {
    hot(x) + hot(x + 1)
}

#[test]
fn ten_million_calls_allocate_nothing() {
    profiler_core::set_enabled(true);
    // Warm-up: registers the thread, the stages, their call paths, and the histogram blocks of
    // every duration this machine produces.
    for i in 0..100_000 {
        outer(i);
    }
    COUNTING.store(true, Relaxed);
    let mut sink = 0;
    for i in 0..5_000_000 {
        sink ^= outer(i);
    }
    COUNTING.store(false, Relaxed);
    std::hint::black_box(sink);
    let snap = profiler_core::snapshot();
    let calls = snap.stage("memory::hot").map_or(0, |s| s.calls) + snap.stage("memory::outer").map_or(0, |s| s.calls);
    assert_eq!(calls, 3 * 5_100_000, "all calls recorded");
    // A histogram block may still be allocated the first time a call lands in a new power of
    // two of durations (at most 59 blocks of 512 bytes per stage): bounded, not per call.
    let allocated = ALLOCATED.load(Relaxed);
    assert!(allocated <= 2 * 59 * 1024, "{allocated} bytes allocated during 15 million calls");
}
