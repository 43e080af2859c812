//! An `async fn`'s unused argument and needless `mut` are reported at the user's tokens, as
//! without the attribute.
#![deny(unused_variables, unused_mut)]

use profiler_macros::instrument_stage;

#[instrument_stage]
async fn length(unused: usize, bytes: Vec<u8>) -> usize {
    bytes.len()
}

#[instrument_stage]
async fn echo(mut value: u32) -> u32 {
    value
}

fn main() {
    drop(length(1, Vec::new()));
    drop(echo(1));
}
