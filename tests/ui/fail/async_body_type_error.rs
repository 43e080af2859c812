use profiler_macros::instrument_stage;

#[derive(Debug)]
struct ParseError;

#[instrument_stage]
async fn parse(input: &str) -> Result<u32, ParseError> {
    if input.is_empty() {
        return Err("empty input");
    }
    Ok(1)
}

fn main() {
    drop(parse("x"));
}
