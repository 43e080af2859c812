//! Examples, integration tests and benchmarks of the stage profiler workspace.
//!
//! A program uses the three crates directly:
//!
//! ```toml
//! [dependencies]
//! profiler-core = { path = "profiler-core" }
//! profiler-macros = { path = "profiler-macros" }
//! profiler-report = { path = "profiler-report" }
//! ```
//!
//! This package only gathers what exercises them the way a user does.
