//! The end-of-run report: a table on stderr, a JSON profile on disk.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use profiler_core::Snapshot;

use crate::format::json::{Profile, to_pretty};
use crate::format::text::render_text;
use crate::output;

/// Prints the report of everything recorded so far and saves the JSON profile.
///
/// When profiling is off (see [`profiler_core::is_enabled`]) it returns at once and prints and
/// writes nothing. Otherwise it
///
/// 1. prints the text report ([`render_text`](crate::render_text)) to stderr;
/// 2. writes the JSON profile to the path in `PROFILE_OUTPUT` when that is set and non-empty
///    (a file path; missing parent directories are created), else to
///    `profiles/profile-<UTC time>-<pid>.json` under the current directory, for example
///    `profiles/profile-20261121T171900Z-4242.json`;
/// 3. prints one line to stderr naming the file written, or naming the path and the reason it
///    could not be written. It never panics, and the program goes on either way.
///
/// Profiling keeps running: a later call reports everything again, with the newer data.
///
/// ```no_run
/// profiler_core::time_stage("work", || std::thread::sleep(std::time::Duration::from_millis(5)));
/// profiler_report::dump();
/// ```
pub fn dump() {
    if !profiler_core::is_enabled() {
        return;
    }
    let snapshot = profiler_core::snapshot();
    let path = output::output_path(std::env::var_os(output::OUTPUT_VAR), snapshot.created_at, std::process::id());
    report(&snapshot, &path, &mut io::stderr().lock());
}

/// Like [`dump`], but writes the JSON profile to `path`, ignoring `PROFILE_OUTPUT`.
///
/// Does nothing when profiling is off.
pub fn dump_to(path: impl AsRef<Path>) {
    if !profiler_core::is_enabled() {
        return;
    }
    report(&profiler_core::snapshot(), path.as_ref(), &mut io::stderr().lock());
}

/// Writes the JSON profile of `snapshot` to `path` (pretty-printed), creating missing parent
/// directories.
///
/// The profile is written to a temporary file next to `path` and then renamed, so `path` never
/// holds half a profile.
///
/// # Errors
/// Creating the directories, writing or renaming failed; the temporary file is then removed.
pub fn write_json(snapshot: &Snapshot, path: &Path) -> io::Result<()> {
    write_profile(&Profile::from_snapshot(snapshot), path)
}

fn write_profile(profile: &Profile, path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    let temporary = temporary_path(path);
    let written = fs::write(&temporary, to_pretty(profile)).and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Creates `dir` and its missing ancestors. When the nearest existing ancestor is not a
/// directory, says so (the system's "File exists" would name neither the file nor the problem).
fn create_dirs(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir).map_err(|error| {
        match dir.ancestors().find(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_ok()) {
            Some(existing) if !existing.is_dir() => {
                io::Error::new(io::ErrorKind::NotADirectory, format!("{} is not a directory", existing.display()))
            }
            _ => io::Error::new(error.kind(), format!("cannot create directory {}: {error}", dir.display())),
        }
    })
}

/// `<dir>/.<file name>.<pid>.tmp`, next to `path`.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_else(|| "profile.json".as_ref()));
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Prints the table, writes the profile and prints the outcome. Errors writing to `log`
/// (a closed stderr) are ignored.
fn report(snapshot: &Snapshot, path: &Path, log: &mut impl Write) {
    let _ = log.write_all(render_text(snapshot).as_bytes());
    let _ = match write_json(snapshot, path) {
        Ok(()) => writeln!(log, "profiler: wrote profile to {}", path.display()),
        Err(error) => writeln!(log, "profiler: cannot write profile to {}: {error}", path.display()),
    };
    let _ = log.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::synthetic_snapshot;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("profiler-report-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn report_prints_the_table_then_the_file_written() {
        let dir = scratch("report-ok");
        let path = dir.join("nested/deeper/p.json");
        let mut log = Vec::new();
        report(&synthetic_snapshot(), &path, &mut log);
        let log = String::from_utf8(log).unwrap();
        assert!(log.starts_with("profile: wall 900ms"), "{log}");
        assert!(log.ends_with(&format!("\nprofiler: wrote profile to {}\n", path.display())), "{log}");
        let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["schema_version"], 1);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary file left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn report_names_the_path_and_the_reason_when_it_cannot_write() {
        let dir = scratch("report-err");
        fs::create_dir_all(&dir).unwrap();
        let blocker = dir.join("a-file");
        fs::write(&blocker, "not a directory").unwrap();
        let path = blocker.join("p.json");
        let mut log = Vec::new();
        report(&synthetic_snapshot(), &path, &mut log);
        let log = String::from_utf8(log).unwrap();
        let last = log.lines().last().unwrap();
        assert_eq!(
            last,
            format!("profiler: cannot write profile to {}: {} is not a directory", path.display(), blocker.display())
        );
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_existing_profile_is_replaced() {
        let dir = scratch("replace");
        let path = dir.join("p.json");
        fs::create_dir_all(&dir).unwrap();
        fs::write(&path, "old").unwrap();
        write_json(&synthetic_snapshot(), &path).unwrap();
        assert!(fs::read_to_string(&path).unwrap().starts_with('{'));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_files_sit_next_to_the_profile() {
        let pid = std::process::id();
        assert_eq!(temporary_path(Path::new("out/p.json")), PathBuf::from(format!("out/.p.json.{pid}.tmp")));
        assert_eq!(temporary_path(Path::new("p.json")), PathBuf::from(format!(".p.json.{pid}.tmp")));
    }
}
