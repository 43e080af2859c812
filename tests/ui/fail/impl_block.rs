use profiler_macros::instrument_stage;

struct Parser;

#[instrument_stage]
impl Parser {
    fn parse(&self) {}
}

fn main() {
    Parser.parse();
}
