//! A counting global allocator: the change in bytes allocated by the whole process.
//!
//! Once [`start_counting`] has been called, every allocation and deallocation adjusts one
//! relaxed atomic counter, so "bytes held after" minus "bytes held before" is the memory a
//! profiler kept for the calls made in between, whichever thread (the caller, a collector, a
//! worker) allocated it. Frees of blocks allocated before counting started count too, which
//! is what a difference of "currently allocated" needs. Before that, the allocator only reads
//! a flag: the timing scenarios run first, and a counter written by every allocation would
//! bounce its cache line between the two cores and slow down the profilers that allocate.
//!
//! # Safety
//!
//! This module holds the crate's only `unsafe impl`: it forwards every request unchanged to
//! [`System`], which upholds the [`GlobalAlloc`] contract; the counter is bookkeeping on the
//! side and never affects which pointer is returned.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Net bytes allocated through [`CountingAllocator`] since [`start_counting`].
static CURRENT: AtomicI64 = AtomicI64::new(0);

/// Whether allocations are counted.
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Adds `bytes` (negative for a free) to the counter when counting is on.
#[inline]
fn count(bytes: i64) {
    if COUNTING.load(Ordering::Relaxed) {
        CURRENT.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// [`System`] plus a counter of the bytes currently allocated. Installed in `main.rs`.
pub(crate) struct CountingAllocator;

// SAFETY: each method forwards to `System` with the caller's arguments, which satisfy the
// `GlobalAlloc` preconditions because our callers must satisfy them; the counter is only
// updated after the fact.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged, see the impl comment.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(size(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged, see the impl comment.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(size(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged, see the impl comment.
        unsafe { System.dealloc(ptr, layout) };
        count(-size(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged, see the impl comment.
        let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            count(size(new_size) - size(layout.size()));
        }
        new_ptr
    }
}

/// An allocation size as a signed byte count (sizes never exceed `isize::MAX`).
fn size(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// Starts counting allocations (for the rest of the process).
pub(crate) fn start_counting() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// Bytes allocated minus bytes freed since [`start_counting`]: only differences mean anything.
pub(crate) fn allocated_bytes() -> i64 {
    CURRENT.load(Ordering::Relaxed)
}
