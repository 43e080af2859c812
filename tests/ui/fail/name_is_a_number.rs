use profiler_macros::instrument_stage;

#[instrument_stage(name = 3)]
fn parse() {}

fn main() {
    parse();
}
