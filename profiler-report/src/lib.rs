//! Reports of the stage profiler: which stage is the bottleneck, how sure that is, and what
//! to do about it.
//!
//! Call [`dump`] once at the end of `main`. When profiling is on (`PROFILE=1`, see
//! [`profiler_core`]) it prints the report to stderr and writes the JSON profile to
//! `$PROFILE_OUTPUT`, or to `$PROFILE_OUTPUT_DIR/profile-<UTC time>-<pid>.json` (default
//! directory `profiles`), plus the visual formats `PROFILE_FORMAT` asks for next to it
//! (`PROFILE_FORMAT=text,json,folded,svg,chrome,speedscope,html`; see [`OutputFormat`]); when
//! it is off, it does nothing at all.
//!
//! ```no_run
//! // In `main`:
//! let sum = profiler_core::time_stage("sum", || (1..=1000u64).sum::<u64>());
//! println!("{sum}");
//! profiler_report::dump();
//! ```
//!
//! # The pipeline
//!
//! Every step is a pure function of a [`Snapshot`], so each rule is tested on synthetic data
//! and a saved profile gives the same report as the run that wrote it:
//!
//! 1. [`analyze`]`(&snapshot, &options)` → [`Analysis`]: per-stage statistics with a
//!    [`Severity`] and its reason ([`severity`]: share of profiled time, or the statistical
//!    rules), bottlenecks with where their time goes, trends within the run ([`trend`]),
//!    recommendations ([`recommend`]) and the profiler's own overhead ([`overhead`]).
//! 2. [`render_report`] (text) and [`Profile::new`](json::Profile::new) (JSON, schema in
//!    `docs/json-schema.md`) render it; [`save_json`] writes it.
//! 3. The visual formats render the snapshot: [`folded`] stacks, the SVG [`flame`] graph, the
//!    [`chrome`] trace of recorded events (Perfetto), [`speedscope`] JSON and the
//!    self-contained [`html`] report. [`Renderer`] renders any [`OutputFormat`] of a snapshot,
//!    the same way for [`dump`] and for `profiler-report convert`.
//! 4. [`read_profile`] reads a saved profile back (events included);
//!    [`compare`](compare::compare) and [`merge`](merge::merge) work on saved profiles. The
//!    `profiler-report` command line (`show`, `compare`, `merge`, `convert`) is built on these.
//!
//! [`ReportOptions`] holds the options, from code or from the `PROFILE_*` variables.
//!
//! # Layout
//!
//! - `analysis`, `severity`, `trend`, `recommend`, `overhead`, `stats`: the analysis.
//! - `format/`: `text` and `json`, and the visual formats `folded`, `flame`, `chrome`,
//!   `speedscope` and `html` (with its page's `html/report.css` and `html/report.js`).
//! - `render`: [`Renderer`], every format of one snapshot; `dump`: [`dump`] and the file
//!   writing; `options`: [`ReportOptions`] and [`OutputFormat`].
//! - `load`, `compare`, `merge`: saved profiles; `bin/profiler-report.rs`: the command line.
//!
//! # Profiled time and severity
//!
//! *Profiled time* is the thread-time spent inside instrumented stages, summed over threads:
//! the sum of every stage's self time ([`Snapshot::profiled_ns`]). A stage's *impact* is its
//! inclusive time (busy time for `async` stages) as a share of it. Nested stages overlap, so
//! the shares of all stages add up to more than 100 %.
//!
//! [`Snapshot`]: profiler_core::Snapshot
//! [`Snapshot::profiled_ns`]: profiler_core::Snapshot::profiled_ns

pub mod analysis;
pub mod compare;
mod dump;
mod format;
mod load;
pub mod merge;
mod options;
mod output;
pub mod overhead;
pub mod recommend;
mod render;
pub mod severity;
pub mod stats;
#[cfg(test)]
mod test_data;
pub mod trend;
mod units;

pub use analysis::{Analysis, analyze};
pub use dump::{dump, dump_to, save_json, write_atomically, write_json, write_profile};
pub use format::json::{self, render_json};
pub use format::text::{render_report, render_text};
pub use format::{chrome, flame, folded, html, speedscope};
pub use load::{LoadError, ProfileFileError, parse_profile, read_profile, read_profile_text};
pub use options::{
    COMPENSATE_VAR, DEFAULT_MIN_CONFIDENCE, FORMAT_VAR, LIMIT_VAR, MIN_CONFIDENCE_VAR, OUTPUT_DIR_VAR, OUTPUT_VAR,
    OutputFormat, ReportOptions, SORT_VAR, SortKey, THRESHOLD_VAR,
};
pub use render::{Rendered, Renderer};
pub use severity::Severity;
pub use units::parse_duration_ns;
