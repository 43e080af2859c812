//! This workspace's profiler: `#[instrument_stage]`, switched by `set_enabled`.

use std::hint::black_box;

use crate::measure::{Contender, Expect};
use crate::work::drive;

/// The stage name of [`ours_work`].
const STAGE: &str = "comparison::ours_work";

#[inline(never)]
#[profiler_macros::instrument_stage(name = "comparison::ours_work")]
fn ours_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// `#[instrument_stage]` with recording on (`true`) or off (`false`) at run time.
pub(crate) struct Ours {
    /// Whether `begin_scenario` turns recording on.
    pub(crate) enabled: bool,
}

impl Contender for Ours {
    fn name(&self) -> &'static str {
        if self.enabled { "ours: #[instrument_stage]" } else { "ours: set_enabled(false)" }
    }

    fn run(&self, calls: u64) -> u64 {
        drive(calls, ours_work)
    }

    fn expect(&self) -> Expect {
        if self.enabled { Expect::EveryCall } else { Expect::Nothing }
    }

    fn begin_scenario(&self) {
        profiler_core::set_enabled(self.enabled);
    }

    fn recorded(&self) -> Option<u64> {
        Some(profiler_core::snapshot().stage(STAGE).map_or(0, |stage| stage.calls))
    }
}
