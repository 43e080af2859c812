//! Saving the report where you want it, in the formats you want.
//!
//! ```text
//! PROFILE=1 cargo run --release --example save_report
//! ```
//!
//! `dump()` writes to `$PROFILE_OUTPUT` or `profiles/`; `dump_to` picks the JSON path in code;
//! and a snapshot can be rendered and written by hand. With `PROFILE` unset nothing is written.

use std::path::Path;

use profiler_macros::instrument_stage;

#[instrument_stage]
fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |acc, &b| acc.rotate_left(5) ^ u32::from(b))
}

#[instrument_stage]
fn compress(data: &[u8]) -> Vec<(u8, u8)> {
    let mut runs: Vec<(u8, u8)> = Vec::new();
    for &byte in data {
        match runs.last_mut() {
            Some((value, count)) if *value == byte && *count < u8::MAX => *count += 1,
            _ => runs.push((byte, 1)),
        }
    }
    runs
}

fn main() {
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i / 7 % 251) as u8).collect();
    let runs = compress(&data);
    let sum = checksum(&data);
    println!("{} bytes -> {} runs, checksum {sum:08x}", data.len(), runs.len());

    // 1. The JSON report (and the table on stderr) at a path chosen in code.
    let dir = Path::new("reports");
    profiler_report::dump_to(dir.join("save_report.json"));

    // 2. The same data rendered as text and saved next to it.
    if profiler_core::is_enabled() {
        let snapshot = profiler_core::snapshot();
        let text_path = dir.join("save_report.txt");
        match std::fs::write(&text_path, profiler_report::render_text(&snapshot)) {
            Ok(()) => eprintln!("wrote {}", text_path.display()),
            Err(error) => eprintln!("cannot write {}: {error}", text_path.display()),
        }
    }
}
