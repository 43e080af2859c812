use profiler_macros::instrument_stage;

#[instrument_stage(name = "parse", name = "lex")]
fn parse() {}

fn main() {
    parse();
}
