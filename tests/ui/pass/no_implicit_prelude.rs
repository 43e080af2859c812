//! The expansion names everything by absolute paths: no prelude is needed.
#![no_implicit_prelude]
#![deny(warnings)]

use ::profiler_macros::instrument_stage;

#[instrument_stage]
fn parse(input: &str) -> ::std::result::Result<u32, ::std::num::ParseIntError> {
    let value: u32 = input.parse()?;
    ::std::result::Result::Ok(value)
}

#[instrument_stage(name = "named")]
fn named() -> u8 {
    1
}

struct Lexer;

impl Lexer {
    #[instrument_stage]
    fn next(self: ::std::boxed::Box<Self>) -> ::std::option::Option<u8> {
        ::std::option::Option::Some(1)
    }
}

#[instrument_stage]
async fn fetch(x: u32) -> ::std::result::Result<u32, ()> {
    ::std::result::Result::Ok(x)
}

fn main() {
    ::std::assert_eq!(parse("3"), ::std::result::Result::Ok(3));
    ::std::assert_eq!(named(), 1);
    ::std::assert_eq!(::std::boxed::Box::new(Lexer).next(), ::std::option::Option::Some(1));
    ::std::mem::drop(fetch(1));
}
