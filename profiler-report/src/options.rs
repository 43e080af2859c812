//! What the report shows and where it goes: [`ReportOptions`], from code or from the
//! environment.
//!
//! | variable                 | option                            | default                   |
//! |--------------------------|-----------------------------------|---------------------------|
//! | `PROFILE_SORT`           | [`ReportOptions::sort`]           | `total`                   |
//! | `PROFILE_LIMIT`          | [`ReportOptions::limit`]          | every stage               |
//! | `PROFILE_THRESHOLD`      | [`ReportOptions::threshold_ns`]   | `0` (hide nothing)        |
//! | `PROFILE_MIN_CONFIDENCE` | [`ReportOptions::min_confidence`] | `0.6`                     |
//! | `PROFILE_COMPENSATE`     | [`ReportOptions::compensate`]     | off                       |
//! | `PROFILE_OUTPUT`         | [`ReportOptions::output`]         | unset                     |
//! | `PROFILE_OUTPUT_DIR`     | [`ReportOptions::output_dir`]     | `profiles`                |
//! | `PROFILE_FORMAT`         | [`ReportOptions::formats`]        | `text,json`               |
//!
//! An unset or empty variable means the default. A value that cannot be read gives one warning
//! line on stderr naming the variable, the value and what is expected, and the default is
//! used; reading options never panics.

use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::SystemTime;

use crate::output;
use crate::units::parse_duration_ns;

/// The order of the stage table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// Inclusive time, largest first (pstats `cumulative`).
    #[default]
    Total,
    /// Exclusive time, largest first (pstats `tottime`).
    SelfTime,
    /// Number of calls, most first (pstats `ncalls`).
    Calls,
    /// Mean call duration, largest first.
    Mean,
    /// 95th percentile of call durations, largest first.
    P95,
    /// 99th percentile of call durations, largest first.
    P99,
    /// Stage name, alphabetically.
    Name,
}

impl SortKey {
    /// Every key, in the order of [`SortKey::as_str`]'s names.
    pub const ALL: [Self; 7] = [Self::Total, Self::SelfTime, Self::Calls, Self::Mean, Self::P95, Self::P99, Self::Name];

    /// The key's name: `total`, `self`, `calls`, `mean`, `p95`, `p99` or `name`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Total => "total",
            Self::SelfTime => "self",
            Self::Calls => "calls",
            Self::Mean => "mean",
            Self::P95 => "p95",
            Self::P99 => "p99",
            Self::Name => "name",
        }
    }

    /// How the table heading names the order: `total time`, `self time`, `calls`, ...
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Total => "total time",
            Self::SelfTime => "self time",
            Self::Calls => "calls",
            Self::Mean => "mean time",
            Self::P95 => "p95",
            Self::P99 => "p99",
            Self::Name => "name",
        }
    }
}

impl FromStr for SortKey {
    type Err = String;

    /// A key's name, or a pstats alias: `cumulative`/`cumtime` (total), `tottime`/`time`
    /// (self), `ncalls` (calls). Case does not matter.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "total" | "cumulative" | "cumtime" => Ok(Self::Total),
            "self" | "tottime" | "time" => Ok(Self::SelfTime),
            "calls" | "ncalls" => Ok(Self::Calls),
            "mean" => Ok(Self::Mean),
            "p95" => Ok(Self::P95),
            "p99" => Ok(Self::P99),
            "name" => Ok(Self::Name),
            _ => Err("expected total, self, calls, mean, p95, p99 or name".to_owned()),
        }
    }
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One output of a report: the text report on stderr, or one of the files written next to the
/// JSON profile (see [`OutputFormat::path`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputFormat {
    /// The text report ([`render_report`](crate::render_report)), on stderr.
    Text,
    /// The JSON profile ([`json::Profile`](crate::json::Profile)), `<stem>.json`.
    Json,
    /// Folded stacks ([`folded`](crate::folded)), `<stem>.folded`.
    Folded,
    /// The SVG flame graph ([`flame`](crate::flame)), `<stem>.svg`.
    Svg,
    /// The Chrome trace of recorded events ([`chrome`](crate::chrome)), `<stem>.trace.json`.
    Chrome,
    /// The speedscope file ([`speedscope`](crate::speedscope)), `<stem>.speedscope.json`.
    Speedscope,
    /// The self-contained HTML report ([`html`](crate::html)), `<stem>.html`.
    Html,
}

impl OutputFormat {
    /// Every format, in the order of [`OutputFormat::as_str`]'s names: the order `dump` writes
    /// them in.
    pub const ALL: [Self; 7] =
        [Self::Text, Self::Json, Self::Folded, Self::Svg, Self::Chrome, Self::Speedscope, Self::Html];

    /// What [`dump`](crate::dump) produces when `PROFILE_FORMAT` is unset: the text report
    /// and the JSON profile.
    pub const DEFAULT: [Self; 2] = [Self::Text, Self::Json];

    /// The format's name in `PROFILE_FORMAT` and `profiler-report convert --format`: `text`,
    /// `json`, `folded`, `svg`, `chrome`, `speedscope` or `html`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Folded => "folded",
            Self::Svg => "svg",
            Self::Chrome => "chrome",
            Self::Speedscope => "speedscope",
            Self::Html => "html",
        }
    }

    /// What the output is called in the lines announcing it: `report`, `profile`, `folded
    /// stacks`, `flame graph`, `chrome trace`, `speedscope profile` or `HTML report`.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Text => "report",
            Self::Json => "profile",
            Self::Folded => "folded stacks",
            Self::Svg => "flame graph",
            Self::Chrome => "chrome trace",
            Self::Speedscope => "speedscope profile",
            Self::Html => "HTML report",
        }
    }

    /// The end of the format's file name after the stem: `.json`, `.folded`, `.svg`,
    /// `.trace.json`, `.speedscope.json` or `.html`; `None` for the text report, which goes to
    /// stderr.
    #[must_use]
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            Self::Text => None,
            Self::Json => Some(".json"),
            Self::Folded => Some(".folded"),
            Self::Svg => Some(".svg"),
            Self::Chrome => Some(".trace.json"),
            Self::Speedscope => Some(".speedscope.json"),
            Self::Html => Some(".html"),
        }
    }

    /// The file this format goes to when the JSON profile goes to `json_path`: `json_path`
    /// itself for [`Json`](Self::Json), else the stem plus [`suffix`](Self::suffix), the stem
    /// being `json_path` without its extension when that is `.json` (any case) and all of it
    /// otherwise. `None` for [`Text`](Self::Text).
    ///
    /// ```
    /// use std::path::Path;
    /// use profiler_report::OutputFormat;
    ///
    /// let json = Path::new("profiles/run.json");
    /// assert_eq!(OutputFormat::Chrome.path(json).unwrap(), Path::new("profiles/run.trace.json"));
    /// assert_eq!(OutputFormat::Html.path(Path::new("out/run")).unwrap(), Path::new("out/run.html"));
    /// assert_eq!(OutputFormat::Text.path(json), None);
    /// ```
    #[must_use]
    pub fn path(self, json_path: &Path) -> Option<PathBuf> {
        let suffix = self.suffix()?;
        if self == Self::Json {
            return Some(json_path.to_owned());
        }
        let is_json = json_path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut path = if is_json { json_path.with_extension("") } else { json_path.to_owned() }.into_os_string();
        path.push(suffix);
        Some(PathBuf::from(path))
    }

    /// Reads a comma-separated list of format names (case does not matter, blanks and empty
    /// items are ignored), deduplicated and in the order of [`ALL`](Self::ALL). Returns the
    /// formats and the names that are not formats, in the order given.
    #[must_use]
    pub fn parse_list(text: &str) -> (Vec<Self>, Vec<String>) {
        let mut formats = Vec::new();
        let mut unknown = Vec::new();
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            match item.parse::<Self>() {
                Ok(format) => formats.push(format),
                Err(_) => unknown.push(item.to_owned()),
            }
        }
        formats.sort_unstable();
        formats.dedup();
        (formats, unknown)
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    /// A format's name, in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| "expected text, json, folded, svg, chrome, speedscope or html".to_owned())
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Recommendations below this confidence are not shown unless configured otherwise.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.6;

/// Everything that shapes a report. `Default` gives the documented defaults; [`from_env`]
/// reads the `PROFILE_*` variables.
///
/// [`from_env`]: ReportOptions::from_env
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// Order of the stage table (`PROFILE_SORT`). Only the text table: JSON stages are always by
    /// total time.
    pub sort: SortKey,
    /// Show at most this many rows in the stage table (`PROFILE_LIMIT`); `None` shows all. A
    /// line says how many were left out.
    pub limit: Option<usize>,
    /// Hide stages whose mean call duration is below this from the stage table and the call
    /// tree (`PROFILE_THRESHOLD`: `500us`, `2ms`, `1.5s` or plain nanoseconds). 0 hides
    /// nothing. The analysis (bottlenecks, trends, recommendations) and the JSON keep every
    /// stage.
    pub threshold_ns: u64,
    /// Recommendations with a lower confidence are left out (`PROFILE_MIN_CONFIDENCE`, in
    /// `[0, 1]`).
    pub min_confidence: f64,
    /// Subtract the profiler's calibrated cost from the times the analysis uses
    /// (`PROFILE_COMPENSATE=1`; see [`crate::overhead`] for exactly what is subtracted).
    pub compensate: bool,
    /// The JSON profile's path (`PROFILE_OUTPUT`); when `None`, a file in `output_dir`.
    pub output: Option<PathBuf>,
    /// Directory of `profile-<UTC time>-<pid>.json` when `output` is `None`
    /// (`PROFILE_OUTPUT_DIR`, default `profiles`).
    pub output_dir: PathBuf,
    /// What [`dump`](crate::dump) produces (`PROFILE_FORMAT`, a comma-separated list; default
    /// `text,json`): the text report on stderr and files next to the JSON profile, named by
    /// [`OutputFormat::path`]. Written in the order of [`OutputFormat::ALL`].
    pub formats: Vec<OutputFormat>,
    /// Cores to assume for the "spread over the cores" bound of recommendations; `None` asks
    /// [`std::thread::available_parallelism`] at analysis time. No variable: set it in code for
    /// reproducible reports.
    pub cores: Option<usize>,
    /// The program's name for the report header and the JSON; `None` uses the running
    /// executable's file name.
    pub program: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            sort: SortKey::Total,
            limit: None,
            threshold_ns: 0,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            compensate: false,
            output: None,
            output_dir: PathBuf::from(output::DEFAULT_DIR),
            formats: OutputFormat::DEFAULT.to_vec(),
            cores: None,
            program: None,
        }
    }
}

/// Environment variables read by [`ReportOptions::from_env`].
pub const SORT_VAR: &str = "PROFILE_SORT";
/// See [`ReportOptions::limit`].
pub const LIMIT_VAR: &str = "PROFILE_LIMIT";
/// See [`ReportOptions::threshold_ns`].
pub const THRESHOLD_VAR: &str = "PROFILE_THRESHOLD";
/// See [`ReportOptions::min_confidence`].
pub const MIN_CONFIDENCE_VAR: &str = "PROFILE_MIN_CONFIDENCE";
/// See [`ReportOptions::compensate`].
pub const COMPENSATE_VAR: &str = "PROFILE_COMPENSATE";
/// See [`ReportOptions::output`].
pub const OUTPUT_VAR: &str = "PROFILE_OUTPUT";
/// See [`ReportOptions::output_dir`].
pub const OUTPUT_DIR_VAR: &str = "PROFILE_OUTPUT_DIR";
/// See [`ReportOptions::formats`].
pub const FORMAT_VAR: &str = "PROFILE_FORMAT";

impl ReportOptions {
    /// The options from the `PROFILE_*` environment variables, printing one warning line on
    /// stderr for each value it cannot read (the default is then used).
    #[must_use]
    pub fn from_env() -> Self {
        let (options, warnings) = Self::from_vars(|name| std::env::var_os(name));
        // Not `eprintln!`, which panics when stderr cannot be written: a warning is not worth
        // stopping the observed program for.
        let mut stderr = std::io::stderr().lock();
        for warning in warnings {
            let _ = writeln!(stderr, "{warning}");
        }
        options
    }

    /// The options from variables looked up by `var` (for tests and embedding), with one
    /// warning line for each value that cannot be read.
    #[must_use]
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> (Self, Vec<String>) {
        let mut options = Self::default();
        let mut warnings = Vec::new();
        let text = |name: &str| var(name).map(|v| v.to_string_lossy().trim().to_owned()).filter(|v| !v.is_empty());
        let mut warn = |name: &str, value: &str, expected: &str, fallback: &str| {
            warnings.push(format!("profiler: {name}={value:?} is not understood ({expected}); {fallback}"));
        };
        if let Some(value) = text(SORT_VAR) {
            match value.parse() {
                Ok(key) => options.sort = key,
                Err(expected) => warn(SORT_VAR, &value, &expected, "sorting by total"),
            }
        }
        if let Some(value) = text(LIMIT_VAR) {
            match value.parse::<usize>() {
                Ok(0) => {}
                Ok(limit) => options.limit = Some(limit),
                Err(_) => warn(LIMIT_VAR, &value, "expected a whole number of rows, 0 for all", "showing every stage"),
            }
        }
        if let Some(value) = text(THRESHOLD_VAR) {
            match parse_duration_ns(&value) {
                Ok(ns) => options.threshold_ns = ns,
                Err(_) => warn(
                    THRESHOLD_VAR,
                    &value,
                    "expected a duration such as 500us, 2ms or plain nanoseconds",
                    "hiding no stage",
                ),
            }
        }
        if let Some(value) = text(MIN_CONFIDENCE_VAR) {
            match parse_confidence(&value) {
                Ok(confidence) => options.min_confidence = confidence,
                Err(expected) => warn(MIN_CONFIDENCE_VAR, &value, &expected, "using 0.6"),
            }
        }
        if let Some(value) = text(COMPENSATE_VAR) {
            match parse_switch(&value) {
                Some(on) => options.compensate = on,
                None => warn(COMPENSATE_VAR, &value, "use 1/true/on/yes or 0/false/off/no", "not compensating"),
            }
        }
        // Blank means unset; otherwise the path is kept as given (a file name may have blanks).
        let path = |name: &str| var(name).filter(|v| !v.to_string_lossy().trim().is_empty());
        options.output = path(OUTPUT_VAR).map(PathBuf::from);
        if let Some(dir) = path(OUTPUT_DIR_VAR) {
            options.output_dir = PathBuf::from(dir);
        }
        if let Some(value) = text(FORMAT_VAR) {
            let (formats, unknown) = OutputFormat::parse_list(&value);
            if !unknown.is_empty() {
                let names = unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
                let what = if unknown.len() == 1 { "unknown format" } else { "unknown formats" };
                let fallback = match (formats.is_empty(), unknown.len()) {
                    (true, _) => "using text,json",
                    (false, 1) => "ignoring it",
                    (false, _) => "ignoring them",
                };
                let expected = format!("{what} {names}; expected text, json, folded, svg, chrome, speedscope or html");
                warn(FORMAT_VAR, &value, &expected, fallback);
            }
            if !formats.is_empty() {
                options.formats = formats;
            }
        }
        (options, warnings)
    }

    /// Cores for the "spread over the cores" bound: [`cores`](Self::cores), or what the
    /// machine offers (1 when unknown).
    #[must_use]
    pub fn cores(&self) -> usize {
        self.cores.filter(|&c| c > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// The program name for reports: [`program`](Self::program), or the running executable's
    /// file name without extension (empty when unknown).
    #[must_use]
    pub fn program(&self) -> String {
        self.program.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default()
        })
    }

    /// Where the JSON profile goes: [`output`](Self::output), or
    /// `<output_dir>/profile-<UTC time>-<pid>.json`, e.g.
    /// `profiles/profile-20261121T171900Z-4242.json`.
    ///
    /// An `output` that names a directory (an existing one, or a path ending in `/`, or `.`)
    /// gets that default name inside it. A default name already taken (a second dump within
    /// the same second) gets `-2`, `-3`, … before `.json`, so no earlier profile is replaced.
    #[must_use]
    pub fn output_path(&self, created_at: SystemTime, pid: u32) -> PathBuf {
        let dir = match &self.output {
            Some(path) if !names_a_directory(path) => return path.clone(),
            Some(dir) => dir,
            None => &self.output_dir,
        };
        let stem = format!("profile-{}-{pid}", output::compact_utc(created_at));
        let first = dir.join(format!("{stem}.json"));
        // Bounded: past 1000 profiles in one second, the last name is replaced.
        std::iter::once(first.clone())
            .chain((2..1000).map(|n| dir.join(format!("{stem}-{n}.json"))))
            .find(|path| !path.exists())
            .unwrap_or(first)
    }
}

/// Whether `path` is meant as a directory: it ends with a separator, has no file name (`.`,
/// `..`, `/`), or is an existing directory.
fn names_a_directory(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) || path.file_name().is_none() || path.is_dir()
}

/// A confidence in `[0, 1]`.
///
/// # Errors
/// Not a number in `[0, 1]`; the message says what is expected.
pub(crate) fn parse_confidence(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err("expected a number from 0 to 1".to_owned()),
    }
}

/// `1`, `true`, `on`, `yes` → on; `0`, `false`, `off`, `no` → off (any case); else `None`.
fn parse_switch(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Some(true),
        "0" | "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn from(vars: &[(&str, &str)]) -> (ReportOptions, Vec<String>) {
        let map: HashMap<String, OsString> = vars.iter().map(|&(k, v)| (k.to_owned(), OsString::from(v))).collect();
        ReportOptions::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn no_variables_give_the_defaults() {
        let (options, warnings) = from(&[]);
        assert_eq!(options, ReportOptions::default());
        assert!(warnings.is_empty());
        assert_eq!(options.sort, SortKey::Total);
        assert_eq!(options.limit, None);
        assert_eq!(options.threshold_ns, 0);
        assert!((options.min_confidence - 0.6).abs() < f64::EPSILON);
        assert!(!options.compensate);
        assert_eq!(options.output_dir, PathBuf::from("profiles"));
    }

    #[test]
    fn every_variable_is_read() {
        let (options, warnings) = from(&[
            ("PROFILE_SORT", "p99"),
            ("PROFILE_LIMIT", "5"),
            ("PROFILE_THRESHOLD", "500us"),
            ("PROFILE_MIN_CONFIDENCE", "0.8"),
            ("PROFILE_COMPENSATE", "yes"),
            ("PROFILE_OUTPUT", "out/p.json"),
            ("PROFILE_OUTPUT_DIR", "elsewhere"),
            ("PROFILE_FORMAT", "json,html"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(options.formats, [OutputFormat::Json, OutputFormat::Html]);
        assert_eq!(options.sort, SortKey::P99);
        assert_eq!(options.limit, Some(5));
        assert_eq!(options.threshold_ns, 500_000);
        assert!((options.min_confidence - 0.8).abs() < f64::EPSILON);
        assert!(options.compensate);
        assert_eq!(options.output, Some(PathBuf::from("out/p.json")));
        assert_eq!(options.output_dir, PathBuf::from("elsewhere"));
    }

    #[test]
    fn sort_keys_accept_their_names_and_pstats_aliases() {
        for key in SortKey::ALL {
            assert_eq!(key.as_str().parse::<SortKey>(), Ok(key));
        }
        assert_eq!("cumulative".parse::<SortKey>(), Ok(SortKey::Total));
        assert_eq!("TOTTIME".parse::<SortKey>(), Ok(SortKey::SelfTime));
        assert_eq!("ncalls".parse::<SortKey>(), Ok(SortKey::Calls));
        assert!("fastest".parse::<SortKey>().is_err());
    }

    #[test]
    fn bad_values_warn_in_one_line_each_and_keep_the_default() {
        let (options, warnings) = from(&[
            ("PROFILE_SORT", "fastest"),
            ("PROFILE_LIMIT", "-3"),
            ("PROFILE_THRESHOLD", "2 hours"),
            ("PROFILE_MIN_CONFIDENCE", "1.5"),
            ("PROFILE_COMPENSATE", "maybe"),
        ]);
        assert_eq!(options, ReportOptions::default());
        assert_eq!(
            warnings,
            [
                "profiler: PROFILE_SORT=\"fastest\" is not understood (expected total, self, calls, mean, p95, p99 or name); sorting by total",
                "profiler: PROFILE_LIMIT=\"-3\" is not understood (expected a whole number of rows, 0 for all); showing every stage",
                "profiler: PROFILE_THRESHOLD=\"2 hours\" is not understood (expected a duration such as 500us, 2ms or plain nanoseconds); hiding no stage",
                "profiler: PROFILE_MIN_CONFIDENCE=\"1.5\" is not understood (expected a number from 0 to 1); using 0.6",
                "profiler: PROFILE_COMPENSATE=\"maybe\" is not understood (use 1/true/on/yes or 0/false/off/no); not compensating",
            ]
        );
    }

    #[test]
    fn empty_and_zero_values_mean_the_default() {
        let (options, warnings) = from(&[
            ("PROFILE_SORT", " "),
            ("PROFILE_LIMIT", "0"),
            ("PROFILE_OUTPUT", ""),
            ("PROFILE_OUTPUT_DIR", "  "),
        ]);
        assert!(warnings.is_empty());
        assert_eq!(options, ReportOptions::default());
        assert!(!from(&[("PROFILE_COMPENSATE", "off")]).0.compensate);
    }

    #[test]
    fn the_output_path_is_the_file_or_a_timestamped_name_in_the_directory() {
        let created = UNIX_EPOCH + Duration::from_secs(1_795_281_540);
        let mut options = ReportOptions::default();
        assert_eq!(options.output_path(created, 4242), PathBuf::from("profiles/profile-20261121T171900Z-4242.json"));
        options.output_dir = PathBuf::from("/tmp/runs");
        assert_eq!(options.output_path(created, 7), PathBuf::from("/tmp/runs/profile-20261121T171900Z-7.json"));
        options.output = Some(PathBuf::from("p.json"));
        assert_eq!(options.output_path(created, 7), PathBuf::from("p.json"));
    }

    #[test]
    fn an_output_naming_a_directory_gets_the_default_name_inside_it() {
        let created = UNIX_EPOCH + Duration::from_secs(1_795_281_540);
        let existing = std::env::temp_dir();
        for (output, expected) in [
            ("out/", PathBuf::from("out/profile-20261121T171900Z-7.json")),
            (".", PathBuf::from("./profile-20261121T171900Z-7.json")),
            ("/", PathBuf::from("/profile-20261121T171900Z-7.json")),
            ("runs/..", PathBuf::from("runs/../profile-20261121T171900Z-7.json")),
            (existing.to_str().unwrap(), existing.join("profile-20261121T171900Z-7.json")),
        ] {
            let options = ReportOptions { output: Some(PathBuf::from(output)), ..ReportOptions::default() };
            assert_eq!(options.output_path(created, 7), expected, "{output:?}");
        }
    }

    #[test]
    fn a_default_name_already_taken_gets_a_number() {
        let dir = std::env::temp_dir().join(format!("profiler-options-taken-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let created = UNIX_EPOCH + Duration::from_secs(1_795_281_540);
        let options = ReportOptions { output_dir: dir.clone(), ..ReportOptions::default() };
        let mut written = Vec::new();
        for _ in 0..3 {
            let path = options.output_path(created, 7);
            std::fs::write(&path, "{}").unwrap();
            written.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            written,
            [
                "profile-20261121T171900Z-7.json",
                "profile-20261121T171900Z-7-2.json",
                "profile-20261121T171900Z-7-3.json"
            ]
        );
        // A file path is used as given, even when it exists.
        let file = dir.join("given.json");
        std::fs::write(&file, "{}").unwrap();
        let given = ReportOptions { output: Some(file.clone()), ..ReportOptions::default() };
        assert_eq!(given.output_path(created, 7), file);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn formats_are_a_comma_list_in_any_case_with_blanks_ignored() {
        use OutputFormat::{Chrome, Html, Json, Text};
        assert_eq!(from(&[]).0.formats, [Text, Json], "default: text and JSON");
        let (options, warnings) = from(&[("PROFILE_FORMAT", " HTML, ,json,,Chrome ,json ")]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(options.formats, [Json, Chrome, Html], "deduplicated, in the order of ALL");
        let (options, _) = from(&[("PROFILE_FORMAT", "html,speedscope,chrome,svg,folded,json,text")]);
        assert_eq!(options.formats, OutputFormat::ALL);
        for blank in ["", " ", " , ,"] {
            let (options, warnings) = from(&[("PROFILE_FORMAT", blank)]);
            assert_eq!((options.formats, warnings), (vec![Text, Json], vec![]), "{blank:?}");
        }
    }

    #[test]
    fn unknown_formats_are_named_in_one_warning_line_and_the_rest_kept() {
        let expected = "expected text, json, folded, svg, chrome, speedscope or html";
        let (options, warnings) = from(&[("PROFILE_FORMAT", "bogus,json")]);
        assert_eq!(options.formats, [OutputFormat::Json]);
        assert_eq!(
            warnings,
            [format!(
                "profiler: PROFILE_FORMAT=\"bogus,json\" is not understood (unknown format \"bogus\"; {expected}); ignoring it"
            )]
        );
        let (options, warnings) = from(&[("PROFILE_FORMAT", "bogus, SVG,pdf")]);
        assert_eq!(options.formats, [OutputFormat::Svg]);
        assert_eq!(
            warnings,
            [format!(
                "profiler: PROFILE_FORMAT=\"bogus, SVG,pdf\" is not understood (unknown formats \"bogus\", \"pdf\"; {expected}); ignoring them"
            )]
        );
        let (options, warnings) = from(&[("PROFILE_FORMAT", "bogus")]);
        assert_eq!(options.formats, OutputFormat::DEFAULT);
        assert_eq!(
            warnings,
            [format!(
                "profiler: PROFILE_FORMAT=\"bogus\" is not understood (unknown format \"bogus\"; {expected}); using text,json"
            )]
        );
    }

    #[test]
    fn format_names_read_back_in_any_case() {
        for format in OutputFormat::ALL {
            assert_eq!(format.as_str().parse::<OutputFormat>(), Ok(format));
            assert_eq!(format.as_str().to_uppercase().parse::<OutputFormat>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert!("pdf".parse::<OutputFormat>().is_err());
        assert!("".parse::<OutputFormat>().is_err());
    }

    #[test]
    fn every_file_shares_the_stem_of_the_json_profile() {
        let paths = |json: &str| -> Vec<Option<PathBuf>> {
            OutputFormat::ALL.iter().map(|f| f.path(Path::new(json))).collect()
        };
        let some = |p: &str| Some(PathBuf::from(p));
        assert_eq!(
            paths("profiles/profile-20261121T171900Z-4242.json"),
            [
                None,
                some("profiles/profile-20261121T171900Z-4242.json"),
                some("profiles/profile-20261121T171900Z-4242.folded"),
                some("profiles/profile-20261121T171900Z-4242.svg"),
                some("profiles/profile-20261121T171900Z-4242.trace.json"),
                some("profiles/profile-20261121T171900Z-4242.speedscope.json"),
                some("profiles/profile-20261121T171900Z-4242.html"),
            ]
        );
        // Only a `.json` extension (any case) is taken off; the JSON goes exactly where asked.
        assert_eq!(OutputFormat::Html.path(Path::new("out/RUN.JSON")), some("out/RUN.html"));
        assert_eq!(OutputFormat::Json.path(Path::new("out/run")), some("out/run"));
        assert_eq!(OutputFormat::Svg.path(Path::new("out/run")), some("out/run.svg"));
        assert_eq!(OutputFormat::Folded.path(Path::new("run.v2.txt")), some("run.v2.txt.folded"));
        assert_eq!(OutputFormat::Chrome.path(Path::new("p.json")), some("p.trace.json"));
        // No two formats share a file, whatever the JSON's name.
        for json in ["p.json", "p", "p.trace.json", "p.speedscope.json", "p.html"] {
            let mut all: Vec<PathBuf> = paths(json).into_iter().flatten().collect();
            all.sort();
            all.dedup();
            assert_eq!(all.len(), 6, "{json}: {all:?}");
        }
    }

    #[test]
    fn cores_and_program_have_fallbacks() {
        let mut options = ReportOptions { cores: Some(6), program: Some("app".to_owned()), ..ReportOptions::default() };
        assert_eq!((options.cores(), options.program().as_str()), (6, "app"));
        options.cores = Some(0);
        assert!(options.cores() >= 1);
        options.program = None;
        assert!(!options.program().is_empty(), "the test binary has a name");
    }
}
