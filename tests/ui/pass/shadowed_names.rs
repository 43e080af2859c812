//! User items that share names with what the expansion uses: standard crates and prelude
//! items shadowed by local ones, and the generated identifiers themselves.
#![deny(warnings)]
#![allow(dead_code, non_camel_case_types, non_upper_case_globals)]

mod core {}
mod std {}
mod profiler_core {
    pub mod __private {}
}
mod alloc {}

struct Box;
struct Some;
struct None;
struct Option;
struct Result;
struct Callsite;
struct __ProfilerMarker;
static __PROFILER_CALLSITE: u8 = 0;
fn enter() {}
fn instrument_future() {}

use profiler_macros::instrument_stage;

#[instrument_stage]
fn uses_generated_names(__profiler_guard: u32) -> u32 {
    struct __ProfilerMarker(u32);
    static __PROFILER_CALLSITE: u32 = 1;
    let __profiler_fake_return = __ProfilerMarker(__profiler_guard);
    __profiler_fake_return.0 + __PROFILER_CALLSITE
}

#[instrument_stage]
async fn async_uses_generated_names(__profiler_guard: u32) -> u32 {
    let __profiler_fake_return = __profiler_guard + 1;
    __profiler_fake_return
}

#[instrument_stage(name = "shadowed")]
fn named(x: u8) -> u8 {
    x
}

fn main() {
    assert_eq!(uses_generated_names(1), 2);
    drop(async_uses_generated_names(1));
    assert_eq!(named(3), 3);
}
