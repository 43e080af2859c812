use profiler_macros::instrument_stage;

#[instrument_stage("parse")]
fn parse() {}

fn main() {
    parse();
}
