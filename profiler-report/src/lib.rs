//! Reports of the stage profiler: placeholder until the dump lands.

/// Placeholder.
pub fn dump() {}
