//! Compile-time behaviour of `#[instrument_stage]`: rejected inputs with their exact errors
//! (`ui/fail`, one mistake per file) and accepted shapes under strict lints (`ui/pass`).
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test --test ui`, then review
//! that each error spans the offending token. The expected output is that of one toolchain
//! (the workspace's stable); other toolchains may word errors differently.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
