use profiler_macros::instrument_stage;

const PARSE: &str = "parse";

#[instrument_stage(name = PARSE)]
fn parse() {}

fn main() {
    parse();
}
