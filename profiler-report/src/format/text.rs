//! The human-readable report: a header line, a table of stages, counters and memory.
//!
//! Lines fit in 100 columns: long stage names are shortened from the front (the end of a path
//! says most), and every time is shown with three significant digits in the unit that suits it.

use std::borrow::Cow;
use std::fmt::Write as _;

use profiler_core::Snapshot;

use crate::stats::{self, StageStats};

/// Width of the stage-name column (the marker `*` of `async` stages included); a blank follows.
const NAME_WIDTH: usize = 25;

/// Renders the text report of a snapshot: what [`dump`](crate::dump) prints to stderr.
///
/// The table lists every stage by inclusive time, descending. `%prof` is the stage's share of
/// profiled time and `severity` its step (see [`crate::severity`]).
#[must_use]
pub fn render_text(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let stage_word = if snapshot.stages.len() == 1 { "stage" } else { "stages" };
    let thread_word = if snapshot.threads == 1 { "thread" } else { "threads" };
    let _ = writeln!(
        out,
        "profile: wall {}, {} {stage_word}, {} {thread_word}, profiled time {} (sum over threads)",
        format_ns(snapshot.wall_ns),
        snapshot.stages.len(),
        snapshot.threads,
        format_ns(snapshot.profiled_ns()),
    );
    let stats = stats::stage_stats(snapshot);
    if stats.is_empty() {
        out.push_str("no stages were recorded\n");
    } else {
        stage_table(&mut out, &stats);
    }
    counter_table(&mut out, snapshot);
    memory_table(&mut out, snapshot);
    out
}

fn stage_table(out: &mut String, stats: &[StageStats<'_>]) {
    push_line(
        out,
        format_args!(
            "{:<NAME_WIDTH$} {:>8}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7} {}",
            "stage", "calls", "total", "self", "mean", "p50", "p95", "p99", "max", "%prof", "severity"
        ),
    );
    for s in stats {
        let stage = s.stage;
        let name = if stage.is_async {
            format!("{}*", ellipsize(&stage.name, NAME_WIDTH - 1))
        } else {
            ellipsize(&stage.name, NAME_WIDTH).into_owned()
        };
        push_line(
            out,
            format_args!(
                "{name:<NAME_WIDTH$} {:>8}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7} {}",
                stage.calls,
                format_ns(stage.total_ns),
                format_ns(stage.self_ns),
                format_ns(s.mean_ns.round() as u64),
                format_ns(s.p50_ns),
                format_ns(s.p95_ns),
                format_ns(s.p99_ns),
                format_ns(stage.max_ns),
                format_percent(s.impact),
                s.severity,
            ),
        );
    }
    out.push_str("%prof = inclusive time / profiled time; nested stages overlap, so the column can exceed 100%\n");
    if stats.iter().any(|s| s.stage.is_async) {
        out.push_str("* async: total is wall time from first poll to completion; %prof uses busy time\n");
    }
}

fn counter_table(out: &mut String, snapshot: &Snapshot) {
    if snapshot.counters.is_empty() {
        return;
    }
    push_line(out, format_args!("{:<NAME_WIDTH$} {:>20}", "counter", "value"));
    for counter in &snapshot.counters {
        push_line(out, format_args!("{:<NAME_WIDTH$} {:>20}", ellipsize(&counter.name, NAME_WIDTH), counter.value));
    }
}

fn memory_table(out: &mut String, snapshot: &Snapshot) {
    if snapshot.memory.is_empty() {
        return;
    }
    push_line(
        out,
        format_args!(
            "{:<NAME_WIDTH$} {:>8}{:>10}{:>10}{:>10}{:>10}",
            "memory", "samples", "last", "min", "peak", "mean"
        ),
    );
    for m in &snapshot.memory {
        let mean = if m.samples == 0 { 0 } else { (m.sum_bytes / u128::from(m.samples)) as u64 };
        push_line(
            out,
            format_args!(
                "{:<NAME_WIDTH$} {:>8}{:>10}{:>10}{:>10}{:>10}",
                ellipsize(&m.name, NAME_WIDTH),
                m.samples,
                format_bytes(m.last_bytes),
                format_bytes(m.min_bytes),
                format_bytes(m.peak_bytes),
                format_bytes(mean),
            ),
        );
    }
}

/// Appends one line without trailing blanks.
fn push_line(out: &mut String, line: std::fmt::Arguments<'_>) {
    let start = out.len();
    let _ = out.write_fmt(line);
    let trimmed = out[start..].trim_end().len();
    out.truncate(start + trimmed);
    out.push('\n');
}

/// A duration with three significant digits in ns, µs, ms or s (whole seconds from 1000 s on).
///
/// Rounds half up in integers, moving to the next unit when rounding reaches 1000:
/// `999` → `999ns`, `1234` → `1.23µs`, `999_500` → `1.00ms`, `1_500_000_000` → `1.50s`.
pub(crate) fn format_ns(ns: u64) -> String {
    if ns < 1000 {
        return format!("{ns}ns");
    }
    let ns = u128::from(ns);
    let mut digits = ns.ilog10() + 1;
    let scale = 10u128.pow(digits - 3);
    let mut mantissa = (ns + scale / 2) / scale;
    if mantissa == 1000 {
        mantissa = 100;
        digits += 1;
    }
    let (unit_digits, suffix) = match digits {
        4..=6 => (3, "µs"),
        7..=9 => (6, "ms"),
        _ => (9, "s"),
    };
    match digits - unit_digits {
        1 => format!("{}.{:02}{suffix}", mantissa / 100, mantissa % 100),
        2 => format!("{}.{}{suffix}", mantissa / 10, mantissa % 10),
        3 => format!("{mantissa}{suffix}"),
        _ => format!("{}s", (ns + 500_000_000) / 1_000_000_000),
    }
}

/// A size in bytes with binary units: `512B`, `1.50KiB`, `2.00MiB`.
pub(crate) fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let suffix = UNITS[unit];
    if value < 10.0 {
        format!("{value:.2}{suffix}")
    } else if value < 100.0 {
        format!("{value:.1}{suffix}")
    } else {
        format!("{value:.0}{suffix}")
    }
}

/// A share in `[0, 1]` as a percentage with one decimal: `0.366` → `36.6%`.
pub(crate) fn format_percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Shortens `name` to at most `width` characters by replacing its beginning with `…`.
///
/// The end of a path names the function, so that part is kept; when a `::` or `/` boundary
/// falls in the kept part and at least half of it remains after the boundary, the cut is made
/// there so no segment is shown in part. Widths count `char`s, not terminal cells.
pub(crate) fn ellipsize(name: &str, width: usize) -> Cow<'_, str> {
    let len = name.chars().count();
    if len <= width {
        return Cow::Borrowed(name);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let keep = width - 1;
    let tail_start = name.char_indices().nth(len - keep).map_or(name.len(), |(i, _)| i);
    let at_boundary = |i: usize| name[..i].ends_with("::") || name[..i].ends_with('/');
    let cut = name[tail_start..]
        .char_indices()
        .map(|(i, _)| tail_start + i)
        .find(|&i| at_boundary(i) && name[i..].chars().count() * 2 >= keep)
        .unwrap_or(tail_start);
    Cow::Owned(format!("…{}", &name[cut..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::synthetic_snapshot;

    #[test]
    fn durations_use_three_significant_digits_in_the_fitting_unit() {
        let cases = [
            (0, "0ns"),
            (7, "7ns"),
            (999, "999ns"),
            (1000, "1.00µs"),
            (1234, "1.23µs"),
            (1235, "1.24µs"),
            (12_345, "12.3µs"),
            (123_456, "123µs"),
            (999_499, "999µs"),
            (999_500, "1.00ms"),
            (9_995_000, "10.0ms"),
            (123_456_789, "123ms"),
            (999_999_999, "1.00s"),
            (1_500_000_000, "1.50s"),
            (59_940_000_000, "59.9s"),
            (123_456_000_000, "123s"),
            (999_500_000_000, "1000s"),
            (3_600_000_000_000, "3600s"),
            (u64::MAX, "18446744074s"),
        ];
        for (ns, expected) in cases {
            assert_eq!(format_ns(ns), expected, "{ns} ns");
        }
    }

    #[test]
    fn sizes_and_percentages_are_readable() {
        assert_eq!(format_bytes(0), "0B");
        assert_eq!(format_bytes(1023), "1023B");
        assert_eq!(format_bytes(1536), "1.50KiB");
        assert_eq!(format_bytes(3 << 20), "3.00MiB");
        assert_eq!(format_bytes(50 << 30), "50.0GiB");
        assert_eq!(format_bytes(u64::MAX), "16.0EiB");
        assert_eq!(format_percent(0.366), "36.6%");
        assert_eq!(format_percent(1.0), "100.0%");
        assert_eq!(format_percent(0.0), "0.0%");
    }

    #[test]
    fn long_names_keep_their_end_and_cut_at_a_segment_boundary() {
        let cases = [
            ("short", 10, "short"),
            ("abcdefghij", 10, "abcdefghij"),
            ("app::pipeline::parse_document", 25, "…pipeline::parse_document"),
            ("crate::module::submodule::function_name", 20, "…function_name"),
            ("src/parser/expression/binary_operator.rs", 24, "…binary_operator.rs"),
            // The boundary would leave less than half of the room: cut inside the segment.
            ("a_rather_long_segment::b", 10, "…egment::b"),
            ("abcdefghijklmnopqrstuvwxyz", 10, "…rstuvwxyz"),
            ("αβγδεζηθικλμ", 5, "…ικλμ"),
            ("abc", 1, "…"),
            ("abc", 0, ""),
        ];
        for (name, width, expected) in cases {
            let got = ellipsize(name, width);
            assert_eq!(got, expected, "{name:?} in {width}");
            assert!(got.chars().count() <= width);
        }
    }

    #[test]
    fn the_report_fits_in_100_columns() {
        let mut snapshot = synthetic_snapshot();
        snapshot.stages[4].name = "a::very::long::stage::name::that::keeps::going::on::and::on".to_owned();
        for line in render_text(&snapshot).lines() {
            assert!(line.chars().count() <= 100, "{} columns: {line}", line.chars().count());
        }
    }

    #[test]
    fn text_report_of_a_synthetic_snapshot() {
        insta::assert_snapshot!(render_text(&synthetic_snapshot()));
    }

    #[test]
    fn empty_snapshot_says_so() {
        let mut snapshot = synthetic_snapshot();
        snapshot.stages.clear();
        snapshot.tree.clear();
        snapshot.counters.clear();
        snapshot.memory.clear();
        snapshot.threads = 0;
        assert_eq!(
            render_text(&snapshot),
            "profile: wall 900ms, 0 stages, 0 threads, profiled time 0ns (sum over threads)\nno stages were recorded\n"
        );
    }
}
