//! This workspace's profiler: `#[instrument_stage]`, switched by `set_enabled`, with the default
//! clock and with `PROFILE_CLOCK=fast` (end stamps without the fence).

use std::hint::black_box;

use profiler_core::ClockMode;

use crate::measure::{Contender, Expect};
use crate::work::drive;

#[inline(never)]
#[profiler_macros::instrument_stage(name = "comparison::ours_work")]
fn ours_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// The same under its own stage name, so that each variant's calls are counted apart.
#[inline(never)]
#[profiler_macros::instrument_stage(name = "comparison::ours_work_fast_clock")]
fn ours_work_fast_clock(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `#[instrument_stage]` with recording on (`true`) or off (`false`) at run time.
pub(crate) struct Ours {
    /// Whether `begin_scenario` turns recording on.
    pub(crate) enabled: bool,
    /// Whether calls are timed with `ClockMode::Fast` instead of the default `Exact`.
    pub(crate) fast_clock: bool,
}

impl Ours {
    fn stage(&self) -> &'static str {
        if self.fast_clock { "comparison::ours_work_fast_clock" } else { "comparison::ours_work" }
    }
}

impl Contender for Ours {
    fn name(&self) -> &'static str {
        match (self.enabled, self.fast_clock) {
            (false, _) => "ours: set_enabled(false)",
            (true, false) => "ours: #[instrument_stage]",
            (true, true) => "ours: #[instrument_stage], PROFILE_CLOCK=fast",
        }
    }

    fn run(&self, calls: u64) -> u64 {
        if self.enabled {
            // Contenders take turns batch by batch: each batch sets its own clock mode (one store).
            let mode = if self.fast_clock { ClockMode::Fast } else { ClockMode::Exact };
            profiler_core::set_clock_mode(mode).expect("the comparison needs the TSC");
        }
        drive(calls, if self.fast_clock { ours_work_fast_clock } else { ours_work })
    }

    fn expect(&self) -> Expect {
        if self.enabled { Expect::EveryCall } else { Expect::Nothing }
    }

    fn begin_scenario(&self) {
        profiler_core::set_enabled(self.enabled);
    }

    fn recorded(&self) -> Option<u64> {
        Some(profiler_core::snapshot().stage(self.stage()).map_or(0, |stage| stage.calls))
    }
}
