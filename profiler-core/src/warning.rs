//! The profiler's warnings on stderr.
//!
//! `eprintln!` panics when stderr cannot be written (a reader gone, a full disk), and a panic
//! inside the profiler would stop, or change the exit code of, the program it observes. A
//! warning that cannot be written is dropped instead.

use std::fmt;
use std::io::{self, Write as _};

/// Prints `profiler: <message>` and a newline on stderr, ignoring a failed write.
pub(crate) fn warn(message: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "profiler: {message}");
}
