use profiler_macros::instrument_stage;

#[instrument_stage]
pub struct Parser {
    input: String,
}

fn main() {
    let parser = Parser { input: String::new() };
    assert!(parser.input.is_empty());
}
