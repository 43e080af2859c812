use profiler_macros::instrument_stage;

trait Parse {
    #[instrument_stage]
    fn parse(&self) -> u32;
}

struct Parser;

impl Parse for Parser {
    fn parse(&self) -> u32 {
        1
    }
}

fn main() {
    assert_eq!(Parser.parse(), 1);
}
