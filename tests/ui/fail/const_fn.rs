use profiler_macros::instrument_stage;

#[instrument_stage]
pub const fn answer() -> u32 {
    42
}

// The item is re-emitted unchanged, so its uses (even in const context) raise no more errors.
const ANSWER: u32 = answer();

fn main() {
    assert_eq!(ANSWER, 42);
}
