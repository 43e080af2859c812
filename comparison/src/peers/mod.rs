//! One module per profiler: the instrumented copy of the work function, how the profiler is
//! switched on and off, and how its recorded calls are read back for verification.

pub(crate) mod fastrace;
pub(crate) mod firestorm;
pub(crate) mod hotpath;
pub(crate) mod ours;
pub(crate) mod puffin;
pub(crate) mod tracing;

/// The last `::`-separated segment of a path-like name (`a::b::f` → `f`).
pub(crate) fn last_segment(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}
