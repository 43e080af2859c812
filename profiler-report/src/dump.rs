//! The end-of-run report: the text report on stderr, the JSON profile and the visual formats
//! on disk.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use profiler_core::Snapshot;

use crate::analysis::{Analysis, analyze};
use crate::format::json::Profile;
use crate::options::{OutputFormat, ReportOptions};
use crate::render::{Rendered, Renderer};

/// Prints the report of everything recorded so far and writes the files `PROFILE_FORMAT` asks
/// for (by default the JSON profile).
///
/// When profiling is off (see [`profiler_core::is_enabled`]) it returns at once and prints and
/// writes nothing. Otherwise it
///
/// 1. reads the options from the environment ([`ReportOptions::from_env`]: `PROFILE_SORT`,
///    `PROFILE_LIMIT`, `PROFILE_THRESHOLD`, `PROFILE_MIN_CONFIDENCE`, `PROFILE_COMPENSATE`,
///    `PROFILE_OUTPUT`, `PROFILE_OUTPUT_DIR`, `PROFILE_FORMAT`), warning in one line about each
///    value it cannot read;
/// 2. analyses the snapshot ([`analyze`]) and, when `text` is among the formats (it is by
///    default), prints the text report ([`render_report`](crate::render_report)) to stderr,
///    in colour when stderr is a terminal and `NO_COLOR` is unset or empty;
/// 3. writes the JSON profile, when `json` is among the formats (it is by default), to the
///    path in `PROFILE_OUTPUT` when that is set and non-empty (a file path; missing parent
///    directories are created), else to `$PROFILE_OUTPUT_DIR/profile-<UTC time>-<pid>.json`
///    (default directory `profiles` under the current directory), for example
///    `profiles/profile-20261121T171900Z-4242.json` (see [`ReportOptions::output_path`]: a
///    `PROFILE_OUTPUT` naming a directory, a default name already taken);
/// 4. writes each other format of `PROFILE_FORMAT` next to it, with the JSON path's stem (the
///    path without its `.json` extension) and the format's suffix
///    ([`OutputFormat::path`]): `<stem>.folded` (folded stacks), `<stem>.svg` (flame graph),
///    `<stem>.trace.json` (Chrome trace: timed events, recorded with `PROFILE_TRACE=1`),
///    `<stem>.speedscope.json` and `<stem>.html` (the self-contained HTML report). Each file is
///    written to a temporary file first and then renamed, so no path holds half a file;
/// 5. prints one line to stderr for each file: `profiler: wrote <what> to <path>` (with a
///    remark in parentheses, such as a Chrome trace without events), or naming the path and
///    the reason it could not be written, or why it was skipped (a flame graph with nothing
///    to draw). It never panics, and the program goes on either way.
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
    let _one_at_a_time = one_dump_at_a_time();
    let options = ReportOptions::from_env();
    let snapshot = profiler_core::snapshot();
    let path = options.output_path(snapshot.created_at, std::process::id());
    report(&snapshot, &options, &path, stderr_colour(), &mut io::stderr().lock());
}

/// Like [`dump`], but writes the JSON profile to `path` (and the other formats of
/// `PROFILE_FORMAT` next to it, with its stem), ignoring `PROFILE_OUTPUT` and
/// `PROFILE_OUTPUT_DIR`.
///
/// Does nothing when profiling is off.
pub fn dump_to(path: impl AsRef<Path>) {
    if !profiler_core::is_enabled() {
        return;
    }
    let _one_at_a_time = one_dump_at_a_time();
    let options = ReportOptions::from_env();
    report(&profiler_core::snapshot(), &options, path.as_ref(), stderr_colour(), &mut io::stderr().lock());
}

/// Writes the JSON profile of `snapshot`, analysed with the default options, to `path`
/// (pretty-printed), creating missing parent directories. See [`save_json`].
///
/// # Errors
/// Creating the directories, writing or renaming failed; the temporary file is then removed.
pub fn write_json(snapshot: &Snapshot, path: &Path) -> io::Result<()> {
    let options = ReportOptions::default();
    save_json(snapshot, &analyze(snapshot, &options), &options, path)
}

/// Writes the JSON profile of `snapshot` and its `analysis` to `path`, creating missing parent
/// directories. The program name comes from `options`, the clock is this process's.
///
/// The profile is written to a temporary file next to `path` and then renamed, so `path` never
/// holds half a profile.
///
/// # Errors
/// Creating the directories, writing or renaming failed; the temporary file is then removed.
pub fn save_json(snapshot: &Snapshot, analysis: &Analysis, options: &ReportOptions, path: &Path) -> io::Result<()> {
    write_profile(&Profile::new(snapshot, analysis, &options.program()), path)
}

/// Writes a profile (for example a merged one) to `path` as pretty JSON, like [`save_json`].
///
/// # Errors
/// Creating the directories, writing or renaming failed; the temporary file is then removed.
pub fn write_profile(profile: &Profile, path: &Path) -> io::Result<()> {
    write_atomically(path, profile.to_json().as_bytes())
}

/// Writes `contents` to `path` through a temporary file next to it (`.<name>.<pid>.tmp`), then
/// renames it, so `path` never holds half a file; creates missing parent directories. What
/// [`dump`] writes every file with.
///
/// A symbolic link is followed and the file it names replaced, so the link stays. A path that
/// names something other than a file or a directory (`/dev/null`, a FIFO, a terminal) is
/// written to directly: replacing it would swap a device for a plain file.
///
/// # Errors
/// Creating the directories, writing or renaming failed; the temporary file is then removed.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(found) if !found.is_file() && !found.is_dir() => {
            return fs::OpenOptions::new().write(true).open(path)?.write_all(contents);
        }
        Ok(found) if found.is_file() => return replace_file(&fs::canonicalize(path)?, contents),
        _ => {}
    }
    let path = link_target(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    replace_file(&path, contents)
}

/// Writes `contents` to a temporary file next to `path`, then renames it to `path`.
fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temporary = temporary_path(path);
    let written = fs::write(&temporary, contents).and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// The path a chain of symbolic links ends at, for a link to a file not created yet (a
/// path that is not a link comes back as it is).
fn link_target(path: &Path) -> io::Result<PathBuf> {
    // As many links as Linux follows before giving up with ELOOP.
    const MAX_LINKS: usize = 40;
    let mut path = path.to_owned();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&path) {
            Ok(found) if found.file_type().is_symlink() => {
                let target = fs::read_link(&path)?;
                // A relative target is relative to the link's directory; `join` keeps an
                // absolute one as it is.
                path = path.parent().map_or_else(|| target.clone(), |dir| dir.join(&target));
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other(format!("{}: too many levels of symbolic links", path.display())))
}

/// Serialises the dumps of a process: dumps from several threads at once would pick the same
/// free file name (it is free until one of them writes it) and interleave their reports.
fn one_dump_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static DUMPING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A dump that panicked (it never should) leaves nothing half done that matters here.
    DUMPING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether to colour what goes to stderr: a terminal, and `NO_COLOR` unset or empty
/// (<https://no-color.org>).
fn stderr_colour() -> bool {
    colour_allowed(std::env::var_os("NO_COLOR")) && io::stderr().is_terminal()
}

/// `NO_COLOR` set to anything but the empty string forbids colour.
pub(crate) fn colour_allowed(no_color: Option<std::ffi::OsString>) -> bool {
    no_color.is_none_or(|v| v.is_empty())
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

/// Analyses, prints the text report, writes the files of `options.formats` next to
/// `json_path` and a line for each. Errors writing to `log` (a closed stderr) are ignored.
fn report(snapshot: &Snapshot, options: &ReportOptions, json_path: &Path, colour: bool, log: &mut impl Write) {
    let renderer = Renderer::new(snapshot, options);
    for format in OutputFormat::ALL.into_iter().filter(|f| options.formats.contains(f)) {
        let Some(path) = format.path(json_path) else {
            if let Ok(Rendered::Output { contents, .. }) = renderer.render(format, colour) {
                let _ = log.write_all(contents.as_bytes());
            }
            continue;
        };
        let (what, shown) = (format.describe(), path.display());
        let _ = match renderer.render(format, false) {
            Ok(Rendered::Output { contents, remark }) => match write_atomically(&path, contents.as_bytes()) {
                Ok(()) => match remark {
                    Some(remark) => writeln!(log, "profiler: wrote {what} to {shown} ({remark})"),
                    None => writeln!(log, "profiler: wrote {what} to {shown}"),
                },
                Err(error) => writeln!(log, "profiler: cannot write {what} to {shown}: {error}"),
            },
            Ok(Rendered::Skipped { reason }) => writeln!(log, "profiler: skipped {what} {shown}: {reason}"),
            Err(error) => writeln!(log, "profiler: cannot write {what} to {shown}: {error}"),
        };
    }
    let _ = log.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::{synthetic_snapshot, test_options, traced_snapshot};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("profiler-report-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// A fresh scratch directory holding a plain file `a-file`, so that any path under that
    /// file cannot be written: (directory, the file).
    fn scratch_with_blocker(name: &str) -> (PathBuf, PathBuf) {
        let dir = scratch(name);
        fs::create_dir_all(&dir).unwrap();
        let blocker = dir.join("a-file");
        fs::write(&blocker, "not a directory").unwrap();
        (dir, blocker)
    }

    #[test]
    fn report_prints_the_table_then_the_file_written() {
        let dir = scratch("report-ok");
        let path = dir.join("nested/deeper/p.json");
        let mut log = Vec::new();
        report(&synthetic_snapshot(), &test_options(), &path, false, &mut log);
        let log = String::from_utf8(log).unwrap();
        assert!(log.starts_with("profile: wall 900ms"), "{log}");
        assert!(log.ends_with(&format!("\nprofiler: wrote profile to {}\n", path.display())), "{log}");
        let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["schema_version"], 2);
        assert_eq!(json["program"], "pipeline-demo");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary file left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn report_names_the_path_and_the_reason_when_it_cannot_write() {
        let (dir, blocker) = scratch_with_blocker("report-err");
        let path = blocker.join("p.json");
        let mut log = Vec::new();
        report(&synthetic_snapshot(), &test_options(), &path, false, &mut log);
        let log = String::from_utf8(log).unwrap();
        let last = log.lines().last().unwrap();
        assert_eq!(
            last,
            format!("profiler: cannot write profile to {}: {} is not a directory", path.display(), blocker.display())
        );
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    fn with_formats(formats: &[OutputFormat]) -> ReportOptions {
        ReportOptions { formats: formats.to_vec(), ..test_options() }
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn report_writes_every_format_next_to_the_json_and_names_each_file() {
        let dir = scratch("formats");
        let json = dir.join("out/p.json");
        let mut log = Vec::new();
        report(&traced_snapshot(), &with_formats(&OutputFormat::ALL), &json, false, &mut log);
        let log = String::from_utf8(log).unwrap();
        assert!(log.starts_with("profile: wall 900ms"), "the text report first: {log}");
        let path = |name: &str| dir.join("out").join(name).display().to_string();
        let lines: Vec<&str> = log.lines().filter(|l| l.starts_with("profiler:")).collect();
        assert_eq!(
            lines,
            [
                format!("profiler: wrote profile to {}", path("p.json")),
                format!("profiler: wrote folded stacks to {}", path("p.folded")),
                format!("profiler: wrote flame graph to {}", path("p.svg")),
                format!(
                    "profiler: wrote chrome trace to {} (7 events dropped: raise PROFILE_TRACE_EVENTS to keep more)",
                    path("p.trace.json")
                ),
                format!("profiler: wrote speedscope profile to {}", path("p.speedscope.json")),
                format!("profiler: wrote HTML report to {}", path("p.html")),
            ]
        );
        assert!(log.ends_with(&format!("{}\n", lines.join("\n"))), "the file lines come last: {log}");
        assert_eq!(
            files_in(&dir.join("out")),
            ["p.folded", "p.html", "p.json", "p.speedscope.json", "p.svg", "p.trace.json"],
            "every file, no temporary file left"
        );
        let profile: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(profile["events"]["dropped"], 7);
        let html = fs::read_to_string(dir.join("out/p.html")).unwrap();
        assert!(html.contains("\"events\": {"), "the page gets the timeline");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_text_only_the_file_lines_are_printed() {
        let dir = scratch("chrome-only");
        let json = dir.join("p.json");
        let mut log = Vec::new();
        report(&synthetic_snapshot(), &with_formats(&[OutputFormat::Chrome]), &json, false, &mut log);
        let trace = dir.join("p.trace.json");
        assert_eq!(
            String::from_utf8(log).unwrap(),
            format!("profiler: wrote chrome trace to {} (no events: run with PROFILE_TRACE=1)\n", trace.display())
        );
        assert_eq!(files_in(&dir), ["p.trace.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn each_file_that_cannot_be_written_gets_its_own_line() {
        let (dir, blocker) = scratch_with_blocker("formats-err");
        let json = blocker.join("p.json");
        let mut snapshot = synthetic_snapshot();
        for node in &mut snapshot.tree {
            node.self_ns = 0;
        }
        let formats = [OutputFormat::Json, OutputFormat::Folded, OutputFormat::Svg];
        let mut log = Vec::new();
        report(&snapshot, &with_formats(&formats), &json, false, &mut log);
        let reason = format!("{} is not a directory", blocker.display());
        let path = |name: &str| blocker.join(name).display().to_string();
        assert_eq!(
            String::from_utf8(log).unwrap().lines().collect::<Vec<_>>(),
            [
                format!("profiler: cannot write profile to {}: {reason}", path("p.json")),
                format!("profiler: cannot write folded stacks to {}: {reason}", path("p.folded")),
                format!("profiler: skipped flame graph {}: nothing to draw, no stage has any self time", path("p.svg")),
            ]
        );
        assert_eq!(files_in(&dir), ["a-file"]);
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

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_to_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = scratch("fifo");
        fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo failed");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_atomically(&fifo, b"through the pipe").unwrap();
        // Checked before joining: a replaced FIFO would leave the reader waiting for ever.
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert_eq!(files_in(&dir), ["pipe"], "no temporary file left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through_and_stays() {
        let dir = scratch("symlink");
        fs::create_dir_all(dir.join("real")).unwrap();
        fs::write(dir.join("real/p.json"), "old").unwrap();
        // A relative link to an existing file, and a link to a file not created yet.
        std::os::unix::fs::symlink("real/p.json", dir.join("link.json")).unwrap();
        std::os::unix::fs::symlink(dir.join("real/new.json"), dir.join("dangling.json")).unwrap();
        write_atomically(&dir.join("link.json"), b"new").unwrap();
        write_atomically(&dir.join("dangling.json"), b"created").unwrap();
        for link in ["link.json", "dangling.json"] {
            assert!(fs::symlink_metadata(dir.join(link)).unwrap().file_type().is_symlink(), "{link} replaced");
        }
        assert_eq!(fs::read_to_string(dir.join("real/p.json")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dir.join("real/new.json")).unwrap(), "created");
        assert_eq!(files_in(&dir), ["dangling.json", "link.json", "real"], "no temporary file left");
        assert_eq!(files_in(&dir.join("real")), ["new.json", "p.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_files_sit_next_to_the_profile() {
        let pid = std::process::id();
        assert_eq!(temporary_path(Path::new("out/p.json")), PathBuf::from(format!("out/.p.json.{pid}.tmp")));
        assert_eq!(temporary_path(Path::new("p.json")), PathBuf::from(format!(".p.json.{pid}.tmp")));
    }

    #[test]
    fn no_color_forbids_colour_unless_empty() {
        assert!(colour_allowed(None));
        assert!(colour_allowed(Some("".into())));
        assert!(!colour_allowed(Some("1".into())));
        assert!(!colour_allowed(Some("0".into())), "any non-empty value, per no-color.org");
    }
}
