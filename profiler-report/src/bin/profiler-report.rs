//! `profiler-report`: re-render, convert, compare and merge saved profiles of the stage
//! profiler.
//!
//! Run `profiler-report --help` for the usage. Exit codes: 0 on success, 1 when `compare
//! --fail-above` finds a regression, 2 for bad usage, a bad input file or an output that
//! cannot be written (one line on stderr naming the file and what is wrong), 141 without a
//! word when the reader of standard output went away (`| head`).

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use profiler_report::compare::{CompareOptions, Metric, compare, render_comparison};
use profiler_report::merge::merge_profiles;
use profiler_report::{
    OutputFormat, Rendered, Renderer, ReportOptions, SortKey, analyze, parse_duration_ns, read_profile,
    read_profile_text, render_report, write_atomically, write_profile,
};

/// The usage line of `convert`, also printed when the format is missing or unknown.
const CONVERT_USAGE: &str =
    "usage: profiler-report convert FILE.json --format text|json|folded|svg|chrome|speedscope|html [-o OUT]";

const USAGE: &str = "\
profiler-report: re-render, convert, compare and merge saved profiles of the stage profiler

usage:
  profiler-report show FILE.json [options]
      print the text report of a saved profile
      --sort KEY            total, self, calls, mean, p95, p99 or name (default: total)
      --limit N             show at most N stages in the table (0: all, the default)
      --threshold DURATION  hide stages whose mean is below DURATION (500us, 2ms, 750)
      --min-confidence X    hide recommendations below X, 0 to 1 (default: as saved)
      --compensate          subtract the profiler's calibrated cost (default: as saved)
      --cores N             cores for the \"spread over the cores\" bound (default: as saved)
      --colour WHEN         auto, always or never (default: auto; NO_COLOR disables auto)

  profiler-report compare BASE.json NEW.json [options]
      per stage the change of total, mean and p95; new and vanished stages
      --metric M            total, mean or p95: what makes a regression (default: mean)
      --fail-above PCT      exit with 1 when a stage that matters regressed by more than PCT %
      --min-share PCT       a stage matters from PCT % of profiled time (default: 1)
      --min-calls N         ... and N calls in both profiles (default: 10)

  profiler-report merge A.json B.json ... -o OUT.json [--cores N]
      merge profiles of several processes or machines into one (exact counts and
      percentiles from the merged histograms); `-o -`: standard output

  profiler-report convert FILE.json --format FORMAT [-o OUT]
      render a saved profile as PROFILE_FORMAT does at the end of a run; FORMAT is one of
        text        the text report, with the saved analysis settings, without colour
        json        the profile itself, unchanged
        folded      folded stacks (inferno-flamegraph, flamegraph.pl)
        svg         SVG flame graph (any browser)
        chrome      Chrome trace of the recorded calls (ui.perfetto.dev, chrome://tracing);
                    without events unless the run had PROFILE_TRACE=1
        speedscope  speedscope JSON (speedscope.app); timelines when calls were recorded
        html        self-contained HTML report (any browser, offline)
      -o, --output OUT      write to OUT through a temporary file, creating parent
                            directories (default, or `-o -`: standard output)

exit codes: 0 success, 1 compare --fail-above tripped, 2 bad usage, bad input or unwritable
output, 141 standard output closed early (| head)
";

/// Why a command stopped early.
enum Failure {
    /// Bad usage, a bad input or an output that cannot be written: one line on stderr, exit
    /// code 2.
    Error(String),
    /// The reader of standard output went away (`| head`): no message, exit code
    /// [`OUTPUT_CLOSED`].
    OutputClosed,
}

/// The exit code when the reader of standard output went away: 128 + SIGPIPE (13), the status
/// a shell shows for `cat` or `grep` stopped the same way.
const OUTPUT_CLOSED: u8 = 141;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Failure::Error(message)) => {
            // A stderr that cannot be written leaves nowhere to say so; the exit code remains.
            let _ = writeln!(std::io::stderr(), "profiler-report: {message}");
            ExitCode::from(2)
        }
        Err(Failure::OutputClosed) => ExitCode::from(OUTPUT_CLOSED),
    }
}

/// Writes `text` to standard output; `what` names it in the error (`the report`).
fn print(what: &str, text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(|error| {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::OutputClosed
        } else {
            Failure::Error(format!("cannot write {what} to standard output: {error}"))
        }
    })
}

/// Prints the line naming a file just written. The file is complete whatever happens to this
/// line, so a standard output that cannot take it does not turn the success into a failure.
fn confirm(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn run(args: &[String]) -> Result<ExitCode, Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::Error(
            "no command given; expected `show`, `compare`, `merge` or `convert` (see --help)".to_owned(),
        ));
    };
    match command.as_str() {
        "-h" | "--help" | "help" => {
            print("the usage", USAGE)?;
            Ok(ExitCode::SUCCESS)
        }
        "show" => show(rest),
        "compare" => compare_command(rest),
        "merge" => merge(rest),
        "convert" => convert(rest),
        other => Err(Failure::Error(format!(
            "unknown command `{other}`; expected `show`, `compare`, `merge` or `convert` (see --help)"
        ))),
    }
}

/// Command-line arguments split into positional ones and `--name value` options.
struct Args {
    command: &'static str,
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Args {
    /// Splits `args`; `flags` take no value, `valued` take one (`--name value` or `--name=value`).
    fn parse(command: &'static str, args: &[String], flags: &[&str], valued: &[&str]) -> Result<Self, Failure> {
        let mut parsed = Self { command, positional: Vec::new(), options: Vec::new() };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if arg == "-h" || arg == "--help" {
                return Err(Failure::Error(format!(
                    "`{command}` takes no --help of its own; run `profiler-report --help`"
                )));
            }
            if !arg.starts_with('-') || arg == "-" {
                parsed.positional.push(arg.clone());
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            if flags.contains(&name) && inline.is_none() {
                parsed.options.push((name.to_owned(), None));
            } else if valued.contains(&name) {
                let value = match inline {
                    Some(value) => value,
                    None => iter.next().cloned().ok_or_else(|| Failure::Error(format!("{name} needs a value")))?,
                };
                parsed.options.push((name.to_owned(), Some(value)));
            } else {
                return Err(Failure::Error(format!("unknown option `{arg}` for `{command}` (see --help)")));
            }
        }
        Ok(parsed)
    }

    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    /// The last value given for `name`, read by `read`.
    fn value<T>(&self, name: &str, read: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, Failure> {
        match self.options.iter().rev().find(|(n, _)| n == name) {
            Some((_, Some(value))) => {
                read(value).map(Some).map_err(|e| Failure::Error(format!("{name} {value:?}: {e}")))
            }
            _ => Ok(None),
        }
    }

    fn files(&self, count: std::ops::RangeInclusive<usize>, what: &str) -> Result<Vec<PathBuf>, Failure> {
        if count.contains(&self.positional.len()) {
            Ok(self.positional.iter().map(PathBuf::from).collect())
        } else {
            Err(Failure::Error(format!("`{}` needs {what} (see --help)", self.command)))
        }
    }
}

fn whole_number(text: &str) -> Result<usize, String> {
    text.parse().map_err(|_| "expected a whole number".to_owned())
}

fn positive(text: &str) -> Result<usize, String> {
    whole_number(text).and_then(|n| if n == 0 { Err("expected a number above 0".to_owned()) } else { Ok(n) })
}

/// A percentage (`10` or `10%`) as a fraction.
fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value / 100.0),
        _ => Err("expected a percentage such as 10 or 2.5%".to_owned()),
    }
}

fn confidence(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err("expected a number from 0 to 1".to_owned()),
    }
}

fn load(path: &Path) -> Result<(profiler_report::json::Profile, profiler_core::Snapshot), Failure> {
    read_profile(path).map_err(|error| Failure::Error(error.to_string()))
}

fn show(args: &[String]) -> Result<ExitCode, Failure> {
    let args = Args::parse(
        "show",
        args,
        &["--compensate"],
        &["--sort", "--limit", "--threshold", "--min-confidence", "--cores", "--colour", "--color"],
    )?;
    let files = args.files(1..=1, "one profile: FILE.json")?;
    let colour = match args.value("--colour", |s| Ok(s.to_owned()))?.or(args.value("--color", |s| Ok(s.to_owned()))?) {
        None => None,
        Some(when) => match when.as_str() {
            "auto" => None,
            "always" => Some(true),
            "never" => Some(false),
            _ => return Err(Failure::Error(format!("--colour {when:?}: expected auto, always or never"))),
        },
    };
    let (profile, snapshot) = load(&files[0])?;
    let options = ReportOptions {
        sort: args.value("--sort", str::parse::<SortKey>)?.unwrap_or_default(),
        // 0 shows every stage, as `PROFILE_LIMIT=0` does.
        limit: args.value("--limit", whole_number)?.filter(|&n| n > 0),
        threshold_ns: args.value("--threshold", parse_duration_ns)?.unwrap_or(0),
        min_confidence: args.value("--min-confidence", confidence)?.unwrap_or(profile.analysis.min_confidence),
        compensate: args.flag("--compensate") || profile.analysis.compensated,
        cores: Some(args.value("--cores", positive)?.unwrap_or(profile.analysis.cores.max(1))),
        ..saved_options(&profile)
    };
    let colour = colour.unwrap_or_else(|| {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
    });
    let analysis = analyze(&snapshot, &options);
    print("the report", &render_report(&snapshot, &analysis, &options, colour))?;
    Ok(ExitCode::SUCCESS)
}

fn compare_command(args: &[String]) -> Result<ExitCode, Failure> {
    let args = Args::parse("compare", args, &[], &["--metric", "--fail-above", "--min-share", "--min-calls"])?;
    let files = args.files(2..=2, "two profiles: BASE.json NEW.json")?;
    let defaults = CompareOptions::default();
    let options = CompareOptions {
        metric: args.value("--metric", str::parse::<Metric>)?.unwrap_or(defaults.metric),
        fail_above: args.value("--fail-above", percent)?,
        min_share: args.value("--min-share", percent)?.unwrap_or(defaults.min_share),
        min_calls: args.value("--min-calls", whole_number)?.map_or(defaults.min_calls, |n| n as u64),
    };
    let (_, base) = load(&files[0])?;
    let (_, new) = load(&files[1])?;
    let comparison = compare(&base, &new, &options);
    let text = render_comparison(&comparison, &files[0].display().to_string(), &files[1].display().to_string());
    print("the comparison", &text)?;
    Ok(if comparison.failed() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn merge(args: &[String]) -> Result<ExitCode, Failure> {
    let args = Args::parse("merge", args, &[], &["-o", "--output", "--cores"])?;
    let inputs = args.files(1..=usize::MAX, "at least one profile and -o OUT.json")?;
    let output = args
        .value("-o", |s| Ok(PathBuf::from(s)))?
        .or(args.value("--output", |s| Ok(PathBuf::from(s)))?)
        .ok_or_else(|| Failure::Error("`merge` needs -o OUT.json (see --help)".to_owned()))?;
    refuse_input_as_output(&output, &inputs)?;
    let loaded = inputs.iter().map(|path| load(path)).collect::<Result<Vec<_>, _>>()?;
    let cores = match args.value("--cores", positive)? {
        Some(cores) => cores,
        None => loaded.iter().map(|(p, _)| p.analysis.cores).max().unwrap_or(1).max(1),
    };
    let options = ReportOptions { cores: Some(cores), ..ReportOptions::default() };
    let merged = merge_profiles(&loaded, &options).map_err(|error| Failure::Error(format!("cannot merge: {error}")))?;
    if output.as_os_str() == "-" {
        // Standard output, as for `convert`: the profile alone, no line about it.
        return print("the merged profile", &merged.to_json()).map(|()| ExitCode::SUCCESS);
    }
    write_profile(&merged, &output)
        .map_err(|error| Failure::Error(format!("{}: cannot write the merged profile: {error}", output.display())))?;
    let calls = merged.stages.iter().map(|s| s.calls).fold(0, u64::saturating_add);
    confirm(&format!(
        "merged {} profiles ({} stages, {calls} calls) into {}",
        loaded.len(),
        merged.stages.len(),
        output.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Refuses an `output` that is one of the `inputs` (the same path, or another name for the same
/// file): writing it would destroy a profile the command was given to read.
fn refuse_input_as_output(output: &Path, inputs: &[PathBuf]) -> Result<(), Failure> {
    match inputs.iter().find(|input| same_file(output, input)) {
        Some(input) => Err(Failure::Error(format!(
            "{}: the output would overwrite the input {}; choose another -o",
            output.display(),
            input.display()
        ))),
        None => Ok(()),
    }
}

/// Whether `a` and `b` are the same existing file, whatever links or paths lead to it. A file
/// not created yet is no input.
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The options a profile was analysed with: its program, minimum confidence, compensation and
/// cores.
fn saved_options(profile: &profiler_report::json::Profile) -> ReportOptions {
    ReportOptions {
        min_confidence: profile.analysis.min_confidence,
        compensate: profile.analysis.compensated,
        cores: Some(profile.analysis.cores.max(1)),
        program: Some(profile.program.clone()),
        ..ReportOptions::default()
    }
}

fn convert(args: &[String]) -> Result<ExitCode, Failure> {
    let args = Args::parse("convert", args, &[], &["--format", "-o", "--output"])?;
    let files = args.files(1..=1, "one profile: FILE.json")?;
    let format = match args.value("--format", |s| Ok(s.to_owned()))? {
        None => return Err(Failure::Error(format!("`convert` needs --format; {CONVERT_USAGE}"))),
        Some(name) => name
            .parse::<OutputFormat>()
            .map_err(|_| Failure::Error(format!("unknown format `{name}`; {CONVERT_USAGE}")))?,
    };
    let output = args
        .value("-o", |s| Ok(PathBuf::from(s)))?
        .or(args.value("--output", |s| Ok(PathBuf::from(s)))?)
        .filter(|path| path.as_os_str() != "-");
    if let Some(path) = &output {
        refuse_input_as_output(path, &files)?;
    }
    let (text, profile, snapshot) = read_profile_text(&files[0]).map_err(|error| Failure::Error(error.to_string()))?;
    let options = saved_options(&profile);
    let renderer = Renderer::new(&snapshot, &options).with_profile_json(text);
    let what = format.describe();
    let (contents, remark) = match renderer.render(format, false) {
        Ok(Rendered::Output { contents, remark }) => (contents, remark),
        Ok(Rendered::Skipped { reason }) => {
            return Err(Failure::Error(format!("{}: no {what} to write: {reason}", files[0].display())));
        }
        Err(error) => return Err(Failure::Error(format!("{}: cannot render the {what}: {error}", files[0].display()))),
    };
    if let Some(path) = output {
        write_atomically(&path, contents.as_bytes())
            .map_err(|error| Failure::Error(format!("{}: cannot write the {what}: {error}", path.display())))?;
        match remark {
            Some(remark) => confirm(&format!("wrote {what} to {} ({remark})", path.display())),
            None => confirm(&format!("wrote {what} to {}", path.display())),
        }
    } else {
        print(&format!("the {what}"), &contents)?;
        if let Some(remark) = remark {
            let _ = writeln!(std::io::stderr(), "profiler-report: {what}: {remark}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
