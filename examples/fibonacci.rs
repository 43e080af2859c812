//! A recursive hotspot: naive Fibonacci next to a memoised one.
//!
//! ```text
//! PROFILE=1 cargo run --release --example fibonacci
//! ```
//!
//! The report counts every recursive call, while the total time of `fib_naive` is counted
//! once (recursion never inflates it), and shows where the time goes.

use std::collections::HashMap;

use profiler_macros::instrument_stage;

#[instrument_stage]
fn fib_naive(n: u32) -> u64 {
    if n < 2 { u64::from(n) } else { fib_naive(n - 1) + fib_naive(n - 2) }
}

#[instrument_stage]
fn fib_memo(n: u32, memo: &mut HashMap<u32, u64>) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    if let Some(&known) = memo.get(&n) {
        return known;
    }
    let value = fib_memo(n - 1, memo) + fib_memo(n - 2, memo);
    memo.insert(n, value);
    value
}

fn main() {
    let n = 25;
    let naive = fib_naive(n);
    let memo = fib_memo(n, &mut HashMap::new());
    assert_eq!(naive, memo);
    println!("fib({n}) = {naive}");
    profiler_report::dump();
}
