//! The compile-time off switch: with the `off` feature the attribute leaves functions
//! unchanged, so even with profiling on at run time nothing is recorded.
//!
//! Cargo unifies features within one build, so this runs in its own invocation:
//! `cargo test --features off --test off_switch` (part of the README's test command).
#![cfg(feature = "off")]

use profiler_macros::instrument_stage;

#[instrument_stage]
fn doubled(x: u32) -> u32 {
    x * 2
}

#[instrument_stage(name = "off::named")]
async fn later(x: u32) -> u32 {
    std::future::ready(x + 1).await
}

#[test]
fn the_off_feature_compiles_the_attribute_away() {
    profiler_core::set_enabled(true);
    assert_eq!(doubled(21), 42);
    let _future = later(1);
    // The manual API still records: only the attribute is compiled away.
    profiler_core::time_stage("off::manual", || ());
    let snapshot = profiler_core::snapshot();
    let names: Vec<&str> = snapshot.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["off::manual"]);
}
