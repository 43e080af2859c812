//! A small log-processing pipeline with nested stages and one clear bottleneck.
//!
//! ```text
//! PROFILE=1 cargo run --release --example quickstart
//! ```
//!
//! For the visual formats too, with a timeline of every call (files next to the JSON, e.g.
//! `profiles/profile-<time>-<pid>.html`; open the `.html` in a browser, the `.trace.json` in
//! <https://ui.perfetto.dev>):
//!
//! ```text
//! PROFILE=1 PROFILE_TRACE=1 PROFILE_FORMAT=text,json,html,chrome cargo run --release --example quickstart
//! ```
//!
//! Without `PROFILE` it prints its result and nothing else.

use profiler_macros::instrument_stage;

/// One parsed log line.
struct Record {
    level: u8,
    latency_us: u32,
    path: String,
}

#[instrument_stage]
fn generate_input(lines: usize) -> Vec<String> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    (0..lines)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            format!(
                "{} level={} latency_us={} path=/api/v1/items/{:05}",
                1_700_000_000 + i,
                seed % 4,
                seed % 5000,
                seed % 2000
            )
        })
        .collect()
}

#[instrument_stage]
fn parse(lines: &[String]) -> Vec<Record> {
    lines.iter().filter_map(|line| parse_line(line)).collect()
}

fn parse_line(line: &str) -> Option<Record> {
    let mut fields = line.split(' ').skip(1);
    let level = fields.next()?.strip_prefix("level=")?.parse().ok()?;
    let latency_us = fields.next()?.strip_prefix("latency_us=")?.parse().ok()?;
    let path = fields.next()?.strip_prefix("path=")?.to_owned();
    Some(Record { level, latency_us, path })
}

#[instrument_stage]
fn validate(records: &[Record]) -> usize {
    records.iter().filter(|r| r.level < 4 && !r.path.is_empty()).count()
}

/// The bottleneck: a linear search per record (quadratic overall) where a hash map would do.
#[instrument_stage]
fn aggregate(records: &[Record]) -> Vec<(String, u64)> {
    let mut totals: Vec<(String, u64)> = Vec::new();
    for record in records {
        match totals.iter_mut().find(|(path, _)| *path == record.path) {
            Some((_, sum)) => *sum += u64::from(record.latency_us),
            None => totals.push((record.path.clone(), u64::from(record.latency_us))),
        }
    }
    sort_by_total(&mut totals);
    totals
}

#[instrument_stage]
fn sort_by_total(totals: &mut [(String, u64)]) {
    // Deliberately naive: insertion sort, quadratic in the number of paths.
    for i in 1..totals.len() {
        let mut j = i;
        while j > 0 && totals[j - 1].1 < totals[j].1 {
            totals.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[instrument_stage]
fn render(top: &[(String, u64)]) -> String {
    top.iter().take(3).map(|(path, total)| format!("{path}: {total} us")).collect::<Vec<_>>().join(", ")
}

#[instrument_stage]
fn run_pipeline(lines: usize) -> (usize, String) {
    let input = generate_input(lines);
    let records = parse(&input);
    let valid = validate(&records);
    let mut top = Vec::new();
    for chunk in records.chunks(25_000) {
        top = aggregate(chunk);
    }
    (valid, render(&top))
}

fn main() {
    let (valid, summary) = run_pipeline(100_000);
    println!("{valid} valid records; slowest paths in the last batch: {summary}");
    profiler_report::dump();
}
