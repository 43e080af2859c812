//! hotpath: `#[hotpath::measure]`, recorded while a `HotpathGuard` is alive.
//!
//! Each measured call pushes a record into a per-thread queue that a worker thread drains
//! every 50 ms. The counts are only available in the report the guard writes when dropped, so
//! each scenario builds a guard that writes a JSON report to a temporary file, and
//! `end_scenario` drops it and reads `functions_timing.data[].calls` back.
//!
//! Between timed batches, `settle` waits for the worker's next sweep to finish, so that it
//! does not run during another contender's batch.
//!
//! Off: hotpath has no run-time switch; calls made while no guard is alive are not recorded
//! (the measure guard still reads the clock twice, then finds no active queue).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hotpath::{Format, HotpathGuard, HotpathGuardBuilder, Section};

use super::last_segment;
use crate::measure::{Contender, Expect};
use crate::work::drive;

#[inline(never)]
#[hotpath::measure]
fn hotpath_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `#[hotpath::measure]` with a guard alive during the scenario (`on`) or none (off).
pub(crate) struct Hotpath {
    on: bool,
    guard: Mutex<Option<HotpathGuard>>,
    recorded: AtomicU64,
    report: PathBuf,
}

impl Hotpath {
    /// A contender that records (`on`) or runs with no guard alive.
    pub(crate) fn new(on: bool) -> Self {
        let report = std::env::temp_dir().join(format!("profiler-comparison-hotpath-{}.json", std::process::id()));
        Self { on, guard: Mutex::new(None), recorded: AtomicU64::new(0), report }
    }

    /// Calls of [`hotpath_work`] in the JSON report the last guard wrote.
    fn calls_in_report(&self) -> Result<u64, String> {
        let text = std::fs::read_to_string(&self.report).map_err(|e| format!("{}: {e}", self.report.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let data = json["functions_timing"]["data"].as_array().ok_or("no functions_timing.data in the report")?;
        Ok(data
            .iter()
            .filter(|entry| entry["name"].as_str().is_some_and(|name| last_segment(name) == "hotpath_work"))
            .filter_map(|entry| entry["calls"].as_u64())
            .sum())
    }
}

impl Contender for Hotpath {
    fn name(&self) -> &'static str {
        if self.on { "hotpath: #[measure], guard alive" } else { "hotpath: no guard alive" }
    }

    fn run(&self, calls: u64) -> u64 {
        drive(calls, hotpath_work)
    }

    fn expect(&self) -> Expect {
        if self.on { Expect::EveryCall } else { Expect::Nothing }
    }

    fn begin_scenario(&self) {
        if !self.on {
            return;
        }
        let _ = std::fs::remove_file(&self.report);
        let guard = HotpathGuardBuilder::new("comparison")
            .functions_limit(0)
            .sections(vec![Section::FunctionsTiming])
            .format(Format::Json)
            .output_path(&self.report)
            .build();
        *self.guard.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(guard);
    }

    fn settle(&self) {
        if self.on {
            // The worker sweeps the queues every `HOTPATH_DRAIN_INTERVAL_MS` (50 ms by default).
            let interval = std::env::var("HOTPATH_DRAIN_INTERVAL_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(50);
            std::thread::sleep(Duration::from_millis(interval + 5));
            crate::measure::wait_for_quiet();
        }
    }

    fn end_scenario(&self) {
        let guard = self.guard.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if guard.is_none() {
            return;
        }
        drop(guard); // drains every queue and writes the report
        match self.calls_in_report() {
            Ok(calls) => {
                self.recorded.fetch_add(calls, Ordering::Relaxed);
            }
            Err(error) => eprintln!("hotpath: cannot read its report: {error}"),
        }
        let _ = std::fs::remove_file(&self.report);
    }

    fn recorded(&self) -> Option<u64> {
        self.on.then(|| self.recorded.load(Ordering::Relaxed))
    }
}
