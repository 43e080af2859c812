use profiler_macros::instrument_stage;

#[instrument_stage(name =)]
fn parse() {}

fn main() {
    parse();
}
