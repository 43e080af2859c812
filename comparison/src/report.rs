//! Verification of recorded calls and the markdown tables.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::measure::{Contender, Expect, Samples};

/// Whether a contender recorded what it should have.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Check {
    /// Not a profiler: nothing to check.
    NotApplicable,
    /// A profiler whose records cannot be read in this state (hotpath with no guard).
    Unreadable,
    /// Records read back through the profiler's own output.
    Counted {
        /// Calls the profiler recorded during the scenario.
        recorded: u64,
        /// Calls it should have recorded (all of them when on, none when off).
        expected: u64,
    },
}

impl Check {
    /// Compares what `contender` recorded during a scenario with what it should have.
    pub(crate) fn of(contender: &dyn Contender, before: Option<u64>, after: Option<u64>, calls: u64) -> Self {
        let expected = match contender.expect() {
            Expect::NotApplicable => return Self::NotApplicable,
            Expect::EveryCall => calls,
            Expect::Nothing => 0,
        };
        match (before, after) {
            (Some(before), Some(after)) => Self::Counted { recorded: after.saturating_sub(before), expected },
            _ => Self::Unreadable,
        }
    }

    /// Whether the profiler recorded exactly what it should have.
    pub(crate) fn passed(self) -> bool {
        match self {
            Self::Counted { recorded, expected } => recorded == expected,
            Self::NotApplicable | Self::Unreadable => true,
        }
    }

    /// The table cell.
    pub(crate) fn cell(self) -> String {
        match self {
            Self::NotApplicable => "—".to_owned(),
            Self::Unreadable => "n/a (nothing to read)".to_owned(),
            Self::Counted { recorded, expected } if recorded == expected => {
                format!("{} / {} ✓", thousands(recorded), thousands(expected))
            }
            Self::Counted { recorded, expected } if recorded < expected => format!(
                "{} / {} ⚠ DROPPED {:.1} %",
                thousands(recorded),
                thousands(expected),
                100.0 * (expected - recorded) as f64 / expected as f64
            ),
            Self::Counted { recorded, expected } => {
                format!("{} / {} ⚠ {} extra", thousands(recorded), thousands(expected), thousands(recorded - expected))
            }
        }
    }

    /// The verification line printed under each table.
    pub(crate) fn line(self, name: &str) -> Option<String> {
        match self {
            Self::NotApplicable => None,
            Self::Unreadable => Some(format!("- {name}: no records to read (nothing is running to record them)")),
            Self::Counted { recorded, expected } => Some(format!(
                "- {name}: recorded {} of {} calls{}",
                thousands(recorded),
                thousands(expected),
                if self.passed() { "" } else { "  ⚠ MISMATCH" }
            )),
        }
    }
}

/// One row of a timing table.
pub(crate) struct TimingRow {
    /// Contender name.
    pub(crate) name: &'static str,
    /// Per-call samples.
    pub(crate) samples: Samples,
    /// Verification result.
    pub(crate) check: Check,
    /// The same contender's one-thread median, for the two-thread table.
    pub(crate) one_thread_median: Option<f64>,
}

/// Indices of the reference rows of a timing table.
pub(crate) struct References {
    /// The uninstrumented call.
    pub(crate) baseline: usize,
    /// This workspace's profiler.
    pub(crate) ours: usize,
    /// The two-TSC-reads floor, where the target has it.
    pub(crate) tsc: Option<usize>,
}

/// Renders a timing scenario as a markdown table.
pub(crate) fn timing_table(rows: &[TimingRow], refs: &References) -> String {
    let baseline = rows[refs.baseline].samples.median();
    let overhead = |row: &TimingRow| row.samples.median() - baseline;
    let ours = overhead(&rows[refs.ours]);
    let tsc = refs.tsc.map(|index| overhead(&rows[index]));
    let two_threads = rows.iter().any(|row| row.one_thread_median.is_some());

    let mut out = String::new();
    out.push_str("| contender | median ns/call | p10–p90 | overhead over baseline | × ours | × 2 rdtsc |");
    if two_threads {
        out.push_str(" × 1 thread |");
    }
    out.push_str(" recorded / expected |\n|---|---:|---:|---:|---:|---:|");
    if two_threads {
        out.push_str("---:|");
    }
    out.push_str("---|\n");
    for (index, row) in rows.iter().enumerate() {
        let median = row.samples.median();
        let spread = format!("{:.1}–{:.1}", row.samples.quantile(0.1), row.samples.quantile(0.9));
        let (over, vs_ours, vs_tsc) = if index == refs.baseline {
            ("—".to_owned(), "—".to_owned(), "—".to_owned())
        } else {
            let over = overhead(row);
            (format!("{over:+.1} ns"), ratio(over, ours), tsc.map_or("—".to_owned(), |tsc| ratio(over, tsc)))
        };
        let name = if row.check.passed() { row.name.to_owned() } else { format!("{} ⚠", row.name) };
        let _ = write!(out, "| {name} | {median:.1} | {spread} | {over} | {vs_ours} | {vs_tsc} |");
        if two_threads {
            let cell = row.one_thread_median.map_or("—".to_owned(), |one| format!("{:.2}×", median / one));
            let _ = write!(out, " {cell} |");
        }
        let _ = writeln!(out, " {} |", row.check.cell());
    }
    out
}

/// One row of the memory table.
pub(crate) struct MemoryRow {
    /// Contender name.
    pub(crate) name: &'static str,
    /// Calls made in the measured stretch.
    pub(crate) calls: u64,
    /// Bytes allocated by the process right after the calls minus right before them.
    pub(crate) growth: i64,
    /// Bytes still allocated after the profiler flushed or consumed its data, minus before.
    pub(crate) retained: i64,
    /// Wall time per call on the calling thread.
    pub(crate) caller_ns: f64,
    /// CPU time per call spent by other threads (collectors, workers), until flushed.
    pub(crate) background_ns: f64,
    /// Verification result.
    pub(crate) check: Check,
}

/// Renders the memory scenario as a markdown table.
pub(crate) fn memory_table(rows: &[MemoryRow]) -> String {
    let mut out = String::from(
        "| contender | growth after the calls | per 10M calls | bytes/call | still held after flush | caller ns/call | background CPU ns/call | recorded / expected |\n\
         |---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let per_call = row.growth as f64 / row.calls as f64;
        let name = if row.check.passed() { row.name.to_owned() } else { format!("{} ⚠", row.name) };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {per_call:.1} | {} | {:.1} | {:.1} | {} |",
            bytes(row.growth as f64),
            bytes(per_call * 1e7),
            bytes(row.retained as f64),
            row.caller_ns,
            row.background_ns,
            row.check.cell()
        );
    }
    out
}

/// `a / b` as a ratio cell, `—` when `b` is too small to divide by meaningfully.
fn ratio(a: f64, b: f64) -> String {
    if b.abs() < 0.05 { "—".to_owned() } else { format!("{:.2}×", a / b) }
}

/// A signed byte count with a binary unit.
fn bytes(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, unit) = if magnitude >= 1024.0 * 1024.0 * 1024.0 {
        (value / (1024.0 * 1024.0 * 1024.0), "GiB")
    } else if magnitude >= 1024.0 * 1024.0 {
        (value / (1024.0 * 1024.0), "MiB")
    } else if magnitude >= 1024.0 {
        (value / 1024.0, "KiB")
    } else {
        return format!("{value:.0} B");
    };
    format!("{scaled:.1} {unit}")
}

/// An integer with `,` thousands separators.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Observations the contenders make while flushing, printed under the scenario's table.
static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records an observation to print under the current scenario's table.
pub(crate) fn note(text: String) {
    NOTES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(text);
}

/// Takes the observations recorded since the last call.
pub(crate) fn take_notes() -> Vec<String> {
    std::mem::take(&mut *NOTES.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// The 1-, 5- and 15-minute load averages from `/proc/loadavg`: other work on the machine.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "unknown".to_owned(), |text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// CPU model (from `/proc/cpuinfo`) and logical core count.
pub(crate) fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let tsc =
        if cpuinfo.contains(" constant_tsc") && cpuinfo.contains(" nonstop_tsc") { ", invariant TSC" } else { "" };
    format!("{model}, {cores} logical cores{tsc}")
}

/// The compiler that built this binary's toolchain, as `rustc -V` reports it now.
pub(crate) fn rustc_version() -> String {
    std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("-V")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map_or_else(|| "rustc (unknown version)".to_owned(), |version| version.trim().to_owned())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}
