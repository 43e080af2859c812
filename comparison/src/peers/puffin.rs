//! puffin: `profile_function!`, frames consumed by a sink that counts every scope.
//!
//! A thread's scopes reach the global profiler when its outermost scope closes, and reach the
//! sinks at each `GlobalProfiler::new_frame` (called after every batch, as a game calls it
//! once per frame). The sink parses each frame's streams, counts the scopes per scope id and
//! drops the frame, so memory stays bounded as with a viewer that keeps a few frames.
//!
//! Two ways to call: under an enclosing scope (one per batch, like a frame scope in a game
//! loop), so each call only appends to the thread's stream; or with no outer scope, so every
//! call is an outermost scope and reports to the global profiler (a mutex) on its own.
//!
//! Off: `set_scopes_on(false)`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex, Once};

use puffin::{FrameData, GlobalProfiler, Reader, ScopeCollection, ScopeId, Stream};

use super::last_segment;
use crate::measure::{Contender, Expect};
use crate::work::drive;

/// The function of the enclosed and off contenders.
#[inline(never)]
fn puffin_work(x: u64) -> u64 {
    puffin::profile_function!();
    black_box(x).wrapping_mul(3)
}

/// The function of the no-outer-scope contender (a separate scope, separately counted).
#[inline(never)]
fn puffin_bare_work(x: u64) -> u64 {
    puffin::profile_function!();
    black_box(x).wrapping_mul(3)
}

/// What the sink has seen: every scope's details and how many times each scope ran.
#[derive(Default)]
struct Seen {
    scopes: ScopeCollection,
    counts: HashMap<ScopeId, u64>,
    errors: u64,
}

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

/// Counts the scopes of `reader` and, recursively, of their children.
fn count_scopes(stream: &Stream, reader: Reader<'_>, counts: &mut HashMap<ScopeId, u64>) -> puffin::Result<()> {
    for scope in reader {
        let scope = scope?;
        *counts.entry(scope.id).or_default() += 1;
        if scope.child_begin_position < scope.child_end_position {
            count_scopes(stream, Reader::with_offset(stream, scope.child_begin_position)?, counts)?;
        }
    }
    Ok(())
}

/// The frame sink: records new scope details and counts every scope of the frame.
fn consume(frame: &Arc<FrameData>) {
    let mut seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let seen = seen.get_or_insert_with(Seen::default);
    for details in &frame.scope_delta {
        seen.scopes.insert(details.clone());
    }
    let Ok(unpacked) = frame.unpacked();
    for info in unpacked.thread_streams.values() {
        if count_scopes(&info.stream, Reader::from_start(&info.stream), &mut seen.counts).is_err() {
            seen.errors += 1;
        }
    }
}

/// Adds the counting sink to the global profiler, once.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        GlobalProfiler::lock().add_sink(Box::new(|frame| consume(&frame)));
    });
}

/// Scopes counted so far whose function is named `function` (last path segment).
fn counted(function: &str) -> u64 {
    let seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(seen) = seen.as_ref() else { return 0 };
    if seen.errors > 0 {
        eprintln!("puffin: {} stream(s) could not be parsed", seen.errors);
    }
    seen.counts
        .iter()
        .filter(|(id, _)| {
            seen.scopes.fetch_by_id(id).is_some_and(|details| last_segment(&details.function_name) == function)
        })
        .map(|(_, count)| count)
        .sum()
}

/// How the calls are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Scopes on, one enclosing scope per batch.
    Enclosed,
    /// Scopes on, no enclosing scope: every call is an outermost scope.
    Bare,
    /// `set_scopes_on(false)`.
    Off,
}

/// `profile_function!` in the given mode.
pub(crate) struct Puffin {
    /// How the calls are made.
    pub(crate) mode: Mode,
}

impl Contender for Puffin {
    fn name(&self) -> &'static str {
        match self.mode {
            Mode::Enclosed => "puffin: profile_function!, frame scope",
            Mode::Bare => "puffin: profile_function!, no outer scope",
            Mode::Off => "puffin: set_scopes_on(false)",
        }
    }

    fn run(&self, calls: u64) -> u64 {
        match self.mode {
            Mode::Enclosed | Mode::Off => {
                puffin::profile_scope!("comparison::batch");
                drive(calls, puffin_work)
            }
            Mode::Bare => drive(calls, puffin_bare_work),
        }
    }

    fn expect(&self) -> Expect {
        if self.mode == Mode::Off { Expect::Nothing } else { Expect::EveryCall }
    }

    fn begin_scenario(&self) {
        install();
        puffin::set_scopes_on(self.mode != Mode::Off);
    }

    fn end_frame(&self) {
        GlobalProfiler::lock().new_frame();
    }

    fn end_scenario(&self) {
        GlobalProfiler::lock().new_frame();
    }

    fn recorded(&self) -> Option<u64> {
        Some(counted(if self.mode == Mode::Bare { "puffin_bare_work" } else { "puffin_work" }))
    }
}
