//! An instrumented global allocator: the profiler allocates on its cold paths, so calls made
//! from inside the allocator must neither recurse forever nor deadlock.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

struct Instrumented;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the arguments it was given.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Instrumented {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _stage = profiler_core::start_stage("allocator::alloc");
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _stage = profiler_core::start_stage("allocator::dealloc");
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Instrumented = Instrumented;

#[test]
fn an_instrumented_allocator_neither_recurses_nor_deadlocks() {
    profiler_core::set_enabled(true);
    let workers: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for j in 0..200 {
                    profiler_core::time_stage(&format!("allocator::work{}", j % 7), || kept.push(vec![i; j]));
                    profiler_core::increment_counter("allocator::pushed", 1);
                }
                kept.len()
            })
        })
        .collect();
    let total: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(total, 800);
    let snap = profiler_core::snapshot();
    let allocs = snap.stage("allocator::alloc").map_or(0, |s| s.calls);
    assert!(allocs > 800, "allocations made by user code are recorded: {allocs}");
    assert!(allocs <= ALLOCATIONS.load(Relaxed), "some allocations (the profiler's own) pass unrecorded");
    assert_eq!(snap.counters.iter().find(|c| c.name == "allocator::pushed").map(|c| c.value), Some(800));
    // A snapshot measures the profiler's cost again on a thread of its own: neither starting
    // that thread nor anything it allocates shows in the next snapshot.
    let calls = |snap: &profiler_core::Snapshot, name| snap.stage(name).map_or(0, |s| s.calls);
    assert_eq!(snap.threads, 5, "4 workers and the main thread, which started them");
    // Both kept until compared: dropping a snapshot frees memory, and that is recorded.
    let later = [profiler_core::snapshot(), profiler_core::snapshot()];
    for again in &later {
        assert_eq!(again.threads, 5);
        assert_eq!(calls(again, "allocator::alloc"), allocs);
        assert_eq!(calls(again, "allocator::dealloc"), calls(&snap, "allocator::dealloc"));
    }
}
