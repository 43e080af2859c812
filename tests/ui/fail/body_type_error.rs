use profiler_macros::instrument_stage;

#[instrument_stage]
fn parse(input: &str) -> u32 {
    let length = input.len();
    length
}

fn main() {
    parse("x");
}
