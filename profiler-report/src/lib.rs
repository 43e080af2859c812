//! Reports of the stage profiler: a text table on stderr and a JSON profile on disk.
//!
//! Call [`dump`] once at the end of `main`. When profiling is on (`PROFILE=1`, see
//! [`profiler_core`]) it prints a table of every stage to stderr and writes the JSON profile
//! to `$PROFILE_OUTPUT`, or to `profiles/profile-<UTC time>-<pid>.json`; when it is off, it does
//! nothing at all.
//!
//! ```no_run
//! // In `main`:
//! let sum = profiler_core::time_stage("sum", || (1..=1000u64).sum::<u64>());
//! println!("{sum}");
//! profiler_report::dump();
//! ```
//!
//! # Profiled time and severity
//!
//! *Profiled time* is the thread-time spent inside instrumented stages, summed over threads:
//! the sum of every stage's self time ([`Snapshot::profiled_ns`]). A stage's *impact* is its
//! inclusive time (busy time for `async` stages) as a share of it, at most 100 %, and its
//! [`Severity`] is `critical` above 50 %, `high` above 20 %, `medium` above 10 %, else `low`.
//! Nested stages overlap, so the shares of all stages add up to more than 100 %.
//!
//! # Layout
//!
//! Every analysis is a pure function of a [`Snapshot`], so reports can be built from synthetic
//! data:
//!
//! - [`stats`]: per-stage statistics (mean, percentiles, impact) shared by every format;
//! - [`severity`]: the steps of impact;
//! - [`render_text`] and [`json`]: the two formats (the JSON schema is documented in
//!   `docs/json-schema.md`);
//! - [`dump`], [`dump_to`] and [`write_json`]: where the report goes.
//!
//! [`Snapshot`]: profiler_core::Snapshot
//! [`Snapshot::profiled_ns`]: profiler_core::Snapshot::profiled_ns

mod dump;
mod format;
mod output;
pub mod severity;
pub mod stats;
#[cfg(test)]
mod test_data;

pub use dump::{dump, dump_to, write_json};
pub use format::json::{self, render_json};
pub use format::text::render_text;
pub use severity::Severity;
