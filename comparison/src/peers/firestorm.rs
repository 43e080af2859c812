//! firestorm: `profile_fn!`, enabled by its `enable_system_time` feature.
//!
//! Every call pushes a start and an end event (an `Instant` and a tag) onto a thread-local
//! vector that is kept until the program saves a flame graph. Nothing is aggregated, so the
//! vector grows with every call. To verify, `harvest_thread` counts the start events of
//! [`firestorm_work`] on the calling thread and then clears them (firestorm's own `clear`
//! keeps the vector's capacity).
//!
//! Off: firestorm has no run-time switch; it is off only when compiled without the feature.
//!
//! # Safety
//!
//! `harvest_thread` reads firestorm's thread-local event vector through its `UnsafeCell`, as
//! firestorm itself does. It runs between batches, when no firestorm guard is alive on the
//! thread, and calls nothing that could touch the vector, so the reference is unique.
#![allow(unsafe_code)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use firestorm_core::{EVENTS, EventData, Start};

use crate::measure::{Contender, Expect};
use crate::work::drive;

#[inline(never)]
fn firestorm_work(x: u64) -> u64 {
    firestorm::profile_fn!(firestorm_work);
    black_box(x).wrapping_mul(3)
}

/// Start events of [`firestorm_work`] counted (and cleared) so far, over all threads.
static HARVESTED: AtomicU64 = AtomicU64::new(0);

/// `profile_fn!` (always on).
pub(crate) struct Firestorm;

impl Contender for Firestorm {
    fn name(&self) -> &'static str {
        "firestorm: profile_fn!"
    }

    fn run(&self, calls: u64) -> u64 {
        drive(calls, firestorm_work)
    }

    fn expect(&self) -> Expect {
        Expect::EveryCall
    }

    fn harvest_thread(&self) {
        let counted = EVENTS.with(|cell| {
            // SAFETY: see the module comment: no other reference to the vector exists now.
            let events = unsafe { &mut *cell.get() };
            let counted = events
                .iter()
                .filter(|event| matches!(&event.data, EventData::Start(Start::Func { signature }) if **signature == "firestorm_work"))
                .count();
            events.clear();
            counted
        });
        HARVESTED.fetch_add(counted as u64, Ordering::Relaxed);
    }

    fn recorded(&self) -> Option<u64> {
        Some(HARVESTED.load(Ordering::Relaxed))
    }
}
