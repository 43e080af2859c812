//! The expansion adds no warning, even under lints that are allow-by-default.
#![deny(
    warnings,
    unused_qualifications,
    unused_results,
    unused_lifetimes,
    unused_braces,
    unused_mut,
    unreachable_code,
    unreachable_pub,
    missing_docs,
    missing_debug_implementations,
    trivial_casts,
    trivial_numeric_casts,
    single_use_lifetimes,
    variant_size_differences,
    elided_lifetimes_in_paths,
    let_underscore_drop,
    non_ascii_idents,
    keyword_idents,
    redundant_lifetimes,
    unit_bindings,
    unsafe_code,
    meta_variable_misuse,
    macro_use_extern_crate,
)]

use profiler_macros::instrument_stage;

/// A one-line body.
#[rustfmt::skip]
#[instrument_stage]
pub fn one_line(x: u8) -> u8 { x }

/// `Result` and `?`.
#[instrument_stage]
pub fn parse(input: &str) -> Result<u8, std::num::ParseIntError> {
    let value = input.parse()?;
    Ok(value)
}

/// An async fn with a `mut` argument.
#[instrument_stage]
pub async fn count(mut n: u32) -> u32 {
    let mut steps = 0;
    while n > 0 {
        n -= 1;
        steps += 1;
    }
    steps
}

/// An async fn without return type.
#[instrument_stage]
pub async fn unit() {}

/// Diverges.
#[instrument_stage(name = "diverges")]
pub fn diverges() -> ! {
    panic!("diverges")
}

/// A type with methods.
#[derive(Debug)]
pub struct Counter(u32);

impl Counter {
    /// `&mut self`.
    #[instrument_stage]
    pub fn bump(&mut self) -> u32 {
        self.0 += 1;
        self.0
    }

    /// `self` in an async fn.
    #[instrument_stage]
    pub async fn finish(self) -> u32 {
        self.0
    }
}

fn main() {
    assert_eq!(one_line(1), 1);
    assert_eq!(parse("2"), Ok(2));
    drop(count(3));
    drop(unit());
    assert_eq!(Counter(0).bump(), 1);
    drop(Counter(1).finish());
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(|| diverges()).is_err());
}
