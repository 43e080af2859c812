use profiler_macros::instrument_stage;

#[instrument_stage(nam = "parse")]
fn parse() {}

fn main() {
    parse();
}
