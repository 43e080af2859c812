//! The human-readable report: header, stage table, call tree, bottlenecks, trends,
//! recommendations, counters and memory.
//!
//! Every line fits in 100 columns: long stage names are shortened from the front (the end of a
//! path says most), sentences are wrapped, and every time is shown with three significant
//! digits in the unit that suits it. Colour (ANSI escapes) is added only when the caller asks
//! for it: [`dump`](crate::dump) does when stderr is a terminal and `NO_COLOR` is unset or
//! empty.

use profiler_core::Snapshot;

use crate::analysis::{Analysis, StageAnalysis, analyze};
use crate::options::{ReportOptions, SortKey};
use crate::overhead::UNRELIABLE_FACTOR;
use crate::severity::Severity;
use crate::trend::Direction;
use crate::units::{
    ellipsize, format_bytes, format_change, format_ns, format_ns_f, format_percent, printable, visible_width, wrap,
};

/// Lines are at most this many columns wide.
pub(crate) const WIDTH: usize = 100;
/// Width of the stage-name column (markers included); a blank follows.
const NAME_WIDTH: usize = 25;
/// Call-tree nodes below this share of profiled time are not shown (nor their callees).
pub(crate) const TREE_MIN_SHARE: f64 = 0.01;
/// The call tree shows at most this many nodes.
pub(crate) const TREE_MAX_NODES: usize = 40;
/// Deeper call-tree nodes are not indented further; their depth is printed instead.
const TREE_MAX_INDENT: usize = 10;
/// Above this share of the time inside stages, the time that cannot have been computing gets a
/// line.
const WAITING_NOTE_ABOVE: f64 = 0.1;
/// Above this share of profiled time, the profiler's estimated cost gets a line of advice.
const LARGE_OVERHEAD_SHARE: f64 = 0.1;

/// Renders the text report of a snapshot with the default options and without colour:
/// [`analyze`] then [`render_report`].
#[must_use]
pub fn render_text(snapshot: &Snapshot) -> String {
    let options = ReportOptions::default();
    render_report(snapshot, &analyze(snapshot, &options), &options, false)
}

/// Renders the text report: what [`dump`](crate::dump) prints to stderr.
///
/// `analysis` must come from `snapshot` (with [`analyze`]); `options` chooses the table's order,
/// row limit and threshold and gives the program name; `colour` adds ANSI colours.
#[must_use]
pub fn render_report(snapshot: &Snapshot, analysis: &Analysis, options: &ReportOptions, colour: bool) -> String {
    let mut out = Report { text: String::new(), paint: Paint(colour) };
    header(&mut out, snapshot, analysis, options);
    if analysis.stages.is_empty() {
        out.line("no stages were recorded");
    } else {
        stage_table(&mut out, analysis, options);
        call_tree(&mut out, snapshot, analysis, options);
        bottlenecks(&mut out, analysis);
        trends(&mut out, analysis);
        recommendations(&mut out, analysis);
    }
    counter_table(&mut out, snapshot);
    memory_table(&mut out, snapshot);
    out.text
}

/// The report being written.
struct Report {
    text: String,
    paint: Paint,
}

impl Report {
    /// Appends one line without trailing blanks; a line wider than [`WIDTH`] (a table row with
    /// unusually large numbers) is wrapped rather than let through.
    fn line(&mut self, line: impl std::fmt::Display) {
        let line = line.to_string();
        let line = line.trim_end();
        if visible_width(line) <= WIDTH {
            self.text.push_str(line);
            self.text.push('\n');
        } else {
            for part in wrap("", "    ", line, WIDTH) {
                self.text.push_str(part.trim_end());
                self.text.push('\n');
            }
        }
    }

    /// A blank line and a section heading.
    fn heading(&mut self, title: &str) {
        self.text.push('\n');
        let title = self.paint.bold(title);
        self.line(title);
    }

    /// Appends `text` wrapped at spaces to [`WIDTH`] columns: the first line starts with
    /// `first`, the others with `rest` (same width, usually blanks).
    fn wrapped(&mut self, first: &str, rest: &str, text: &str) {
        for line in wrap(first, rest, text, WIDTH) {
            self.line(line);
        }
    }
}

/// ANSI colours, or none.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn code(self, code: &str, text: &str) -> String {
        if self.0 && !text.is_empty() { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    fn bold(self, text: &str) -> String {
        self.code("1", text)
    }

    fn severity(self, severity: Severity, text: &str) -> String {
        match severity {
            Severity::Critical => self.code("1;31", text),
            Severity::High => self.code("31", text),
            Severity::Medium => self.code("33", text),
            Severity::Low => text.to_owned(),
        }
    }

    fn direction(self, direction: Direction, text: &str) -> String {
        match direction {
            Direction::Degrading => self.code("31", text),
            Direction::Improving => self.code("32", text),
            Direction::Stable => text.to_owned(),
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn header(out: &mut Report, snapshot: &Snapshot, analysis: &Analysis, options: &ReportOptions) {
    let program = options.program();
    let of_program = if program.is_empty() { String::new() } else { format!(" of `{}`", ellipsize(&program, 50)) };
    out.line(format_args!(
        "profile: wall {}{of_program}, {} on {}",
        format_ns(snapshot.wall_ns),
        plural(snapshot.stages.len() as u64, "stage", "stages"),
        plural(u64::from(snapshot.threads), "thread", "threads"),
    ));
    out.line(format_args!(
        "inside stages: {} of thread time, {} of the wall time (summed over threads)",
        format_ns(analysis.profiled_ns),
        format_percent(crate::stats::share(analysis.profiled_ns, snapshot.wall_ns)),
    ));
    if let (Some(waiting), Some(cpu)) = (analysis.waiting_ns, snapshot.cpu_ns) {
        let measured = snapshot.profiled_ns();
        if crate::stats::share(waiting, measured) > WAITING_NOTE_ABOVE {
            out.line(format_args!(
                "waiting: at least {} of it ({}) ran on no CPU: I/O, locks, sleeps (process CPU {})",
                format_ns(waiting),
                format_percent(crate::stats::share(waiting, measured)),
                format_ns(cpu),
            ));
        }
    }
    let overhead = &analysis.overhead;
    if overhead.calibrated {
        out.line(format_args!(
            "profiler overhead: about {}, {} of profiled time ({} per call, {} inside the stage)",
            format_ns(overhead.estimated_ns),
            format_percent(overhead.share),
            format_ns_f(overhead.per_call_ns),
            format_ns_f(overhead.in_stage_ns),
        ));
        if analysis.compensated {
            out.line("compensated: that cost is subtracted from the times below");
        } else if overhead.share > LARGE_OVERHEAD_SHARE {
            // Uncorrected, such a cost makes callers of cheap stages look slow in their own body.
            out.line("that cost is in the times below, mostly in the callers of the cheapest stages: run with");
            out.line("PROFILE_COMPENSATE=1 to subtract it, or remove `#[instrument_stage]` from those stages");
        }
    } else {
        out.line("profiler overhead: not calibrated");
    }
    if profiler_core::ClockMode::from_name(&snapshot.clock) == Some(profiler_core::ClockMode::Fast) {
        out.line("clock: fast (PROFILE_CLOCK=fast), end stamps unfenced: short and memory-bound stages read low");
    }
}

/// The stages the table shows, in its order, and how many the threshold and the limit hid.
fn table_rows<'a>(analysis: &'a Analysis, options: &ReportOptions) -> (Vec<&'a StageAnalysis>, usize, usize) {
    let mut rows: Vec<&StageAnalysis> = analysis.stages.iter().collect();
    let before = rows.len();
    if options.threshold_ns > 0 {
        rows.retain(|s| s.mean_ns >= options.threshold_ns as f64);
    }
    let below_threshold = before - rows.len();
    let by_name = |a: &&StageAnalysis, b: &&StageAnalysis| a.name.cmp(&b.name);
    match options.sort {
        SortKey::Total => rows.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| by_name(a, b))),
        SortKey::SelfTime => rows.sort_by(|a, b| b.self_ns.cmp(&a.self_ns).then_with(|| by_name(a, b))),
        SortKey::Calls => rows.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| by_name(a, b))),
        SortKey::Mean => rows.sort_by(|a, b| b.mean_ns.total_cmp(&a.mean_ns).then_with(|| by_name(a, b))),
        SortKey::P95 => rows.sort_by(|a, b| b.p95_ns.cmp(&a.p95_ns).then_with(|| by_name(a, b))),
        SortKey::P99 => rows.sort_by(|a, b| b.p99_ns.cmp(&a.p99_ns).then_with(|| by_name(a, b))),
        SortKey::Name => rows.sort_by(by_name),
    }
    let beyond_limit = options.limit.map_or(0, |limit| rows.len().saturating_sub(limit));
    rows.truncate(rows.len() - beyond_limit);
    (rows, below_threshold, beyond_limit)
}

/// The name with its markers (`*` async, `~` unreliable), shortened to `width`.
fn marked_name(stage: &StageAnalysis, width: usize) -> String {
    let markers = format!("{}{}", if stage.is_async { "*" } else { "" }, if stage.unreliable { "~" } else { "" });
    format!("{}{markers}", ellipsize(&stage.name, width.saturating_sub(markers.len())))
}

fn stage_table(out: &mut Report, analysis: &Analysis, options: &ReportOptions) {
    out.heading(&format!("stages by {}", options.sort.describe()));
    out.line(format_args!(
        "{:<NAME_WIDTH$} {:>8}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7} {}",
        "stage", "calls", "total", "self", "mean", "p50", "p95", "p99", "max", "%prof", "severity"
    ));
    let (rows, below_threshold, beyond_limit) = table_rows(analysis, options);
    for s in &rows {
        let name = marked_name(s, NAME_WIDTH);
        out.line(format_args!(
            "{name:<NAME_WIDTH$} {:>8}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7}{:>7} {}",
            s.calls,
            format_ns(s.total_ns),
            format_ns(s.self_ns),
            format_ns_f(s.mean_ns),
            format_ns(s.p50_ns),
            format_ns(s.p95_ns),
            format_ns(s.p99_ns),
            format_ns(s.max_ns),
            format_percent(s.impact),
            out.paint.severity(s.severity, s.severity.as_str()),
        ));
    }
    let mut hidden = Vec::new();
    if below_threshold > 0 {
        hidden.push(format!(
            "{} with a mean below the threshold of {}",
            plural(below_threshold as u64, "stage", "stages"),
            format_ns(options.threshold_ns)
        ));
    }
    if beyond_limit > 0 {
        hidden.push(format!("{beyond_limit} more beyond the limit of {} rows", rows.len()));
    }
    if !hidden.is_empty() {
        out.wrapped("not shown: ", "  ", &hidden.join("; "));
    }
    out.line("%prof = inclusive time / profiled time; nested stages overlap, so the column can exceed 100%");
    if analysis.stages.iter().any(|s| s.is_async) {
        out.line("* async: total is wall time from first poll to completion; %prof uses busy time");
    }
    if analysis.stages.iter().any(|s| s.unreliable) {
        out.line(format_args!(
            "~ unreliable: mean below {}× the profiler's own {} inside each call",
            UNRELIABLE_FACTOR,
            format_ns_f(analysis.overhead.in_stage_ns)
        ));
    }
    if analysis.stages.iter().any(|s| s.calls == 0 && !s.is_async) {
        out.line("0 calls: in progress, the report was made from inside it; the call tree shows its callees");
    }
}

fn call_tree(out: &mut Report, snapshot: &Snapshot, analysis: &Analysis, options: &ReportOptions) {
    let tree = &analysis.tree;
    if tree.is_empty() {
        return;
    }
    // Depth-first order, children by time descending; a hidden node hides its subtree.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); tree.len()];
    let mut roots = Vec::new();
    for (i, node) in tree.iter().enumerate() {
        match node.parent.filter(|&p| p < i) {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    // A node with no completed call is in progress (the report is made from inside it, say
    // `dump()` at the end of an instrumented `main`): its time so far is at least its children's.
    let in_progress = |i: usize| tree[i].calls == 0;
    let mut times = vec![0u64; tree.len()];
    for i in (0..tree.len()).rev() {
        let node = &tree[i];
        let own =
            if snapshot.stages.get(node.stage).is_some_and(|s| s.is_async) { node.busy_ns } else { node.total_ns };
        times[i] = if in_progress(i) {
            own.max(children[i].iter().map(|&c| times[c]).fold(0, u64::saturating_add))
        } else {
            own
        };
    }
    let time = |i: usize| times[i];
    // Below a recursive node (its stage is also an ancestor's) comes more of the same pattern,
    // which would fill the tree's lines: it is summed up in one line instead.
    let recursive = profiler_core::recursive_nodes(tree);
    let by_time = |list: &mut Vec<usize>| list.sort_by(|&a, &b| time(b).cmp(&time(a)).then(a.cmp(&b)));
    by_time(&mut roots);
    for list in &mut children {
        by_time(list);
    }
    let visible = |i: usize| {
        let Some(stage) = analysis.stage_at(tree[i].stage) else { return false };
        crate::stats::share(time(i), analysis.profiled_ns) >= TREE_MIN_SHARE
            && (options.threshold_ns == 0 || in_progress(i) || stage.mean_ns >= options.threshold_ns as f64)
    };
    out.heading("call tree (time and share of the caller's time; roots: of profiled time)");
    if snapshot.threads > 1 {
        // Trees are per thread, merged by path: a call on another thread has no caller here.
        out.line("calls made on other threads are roots of their own, not children of what started them");
    }
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    let (mut shown, mut hidden) = (0usize, 0usize);
    while let Some((i, depth)) = stack.pop() {
        if !visible(i) || shown == TREE_MAX_NODES {
            hidden += subtree_size(&children, i);
            continue;
        }
        shown += 1;
        let node = &tree[i];
        let Some(stage) = analysis.stage_at(node.stage) else { continue };
        let indent = "  ".repeat(depth.min(TREE_MAX_INDENT));
        let depth_mark = if depth > TREE_MAX_INDENT { format!("[{depth}] ") } else { String::new() };
        let width = 66 - indent.len() - depth_mark.len();
        let whole = node.parent.filter(|&p| p < i).map_or(analysis.profiled_ns, time);
        let calls = if in_progress(i) { "in progress".to_owned() } else { node.calls.to_string() };
        out.line(format_args!(
            "{indent}{depth_mark}{:<width$} {calls:>12} {:>7} {:>7}",
            marked_name(stage, width),
            format_ns(time(i)),
            format_percent(crate::stats::share(time(i), whole)),
        ));
        if recursive[i] && !children[i].is_empty() {
            let below = subtree_size(&children, i) - 1;
            let indent = "  ".repeat((depth + 1).min(TREE_MAX_INDENT));
            out.line(format_args!("{indent}… the recursion goes on: {} below", plural(below as u64, "node", "nodes")));
            continue;
        }
        stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
    }
    if hidden > 0 {
        out.line(format_args!(
            "not shown: {} (below {} of profiled time, under the threshold, or beyond {} lines)",
            plural(hidden as u64, "node", "nodes"),
            format_percent(TREE_MIN_SHARE),
            TREE_MAX_NODES
        ));
    }
}

fn subtree_size(children: &[Vec<usize>], root: usize) -> usize {
    let mut stack = vec![root];
    let mut count = 0;
    while let Some(i) = stack.pop() {
        count += 1;
        stack.extend(&children[i]);
    }
    count
}

fn bottlenecks(out: &mut Report, analysis: &Analysis) {
    out.heading("bottlenecks (severity medium or worse, by share of profiled time)");
    if analysis.bottlenecks.is_empty() {
        out.line("none: no stage is of severity medium or worse");
        return;
    }
    for (n, b) in analysis.bottlenecks.iter().enumerate() {
        let severity = out.paint.severity(b.severity, b.severity.as_str());
        let text = format!("{}: {severity}, {} of profiled time", printable(&b.stage), format_percent(b.impact));
        out.wrapped(&format!("{:>2}. ", n + 1), "      ", &text);
        if !matches!(b.reason, crate::severity::SeverityReason::Impact { .. }) {
            out.wrapped("      why: ", "           ", &b.reason.to_string());
        }
        let mut parts = vec![format!("own body {}", format_percent(b.self_share))];
        parts.extend(b.children.iter().take(4).map(|p| format!("{} {}", printable(&p.stage), format_percent(p.share))));
        if b.children.len() > 4 {
            let rest: f64 = b.children[4..].iter().map(|p| p.share).sum();
            parts.push(format!("{} more {}", b.children.len() - 4, format_percent(rest)));
        }
        out.wrapped("      time in: ", "               ", &parts.join(", "));
    }
}

fn trends(out: &mut Report, analysis: &Analysis) {
    out.heading("trends (mean of the early calls → the late ones, and how many calls each window holds)");
    if analysis.trends.is_empty() {
        out.line(format_args!(
            "none: no stage has {} calls in each of its early and late windows",
            crate::trend::MIN_CALLS_PER_WINDOW
        ));
        return;
    }
    let mut stable = Vec::new();
    for t in &analysis.trends {
        if t.direction == Direction::Stable {
            stable.push(t.stage.as_str());
            continue;
        }
        let name = ellipsize(&t.stage, 40);
        let direction = out.paint.direction(t.direction, &format!("{:<9}", t.direction.as_str()));
        out.line(format_args!(
            "{name:<40} {direction} {:>8}  {} → {} ({} → {} calls)",
            format_change(t.change),
            format_ns_f(t.early_mean_ns),
            format_ns_f(t.late_mean_ns),
            t.early_calls,
            t.late_calls,
        ));
    }
    if !stable.is_empty() {
        let threshold = format_percent(crate::trend::CHANGE_THRESHOLD);
        out.wrapped("stable within ±", "  ", &format!("{threshold}: {}", printable(&stable.join(", "))));
    }
}

fn recommendations(out: &mut Report, analysis: &Analysis) {
    out.heading(&format!("recommendations (confidence {} or more, most important first)", analysis.min_confidence));
    if analysis.recommendations.is_empty() {
        out.line("none");
    }
    for (n, r) in analysis.recommendations.iter().enumerate() {
        let priority = out.paint.severity(r.priority, r.priority.as_str());
        out.wrapped(
            &format!("{:>2}. ", n + 1),
            "      ",
            &format!("{} [{priority} priority, confidence {:.2}]", printable(&r.stage), r.confidence),
        );
        // The texts quote stage names.
        out.wrapped("      issue:  ", "              ", &printable(&r.issue));
        out.wrapped("      action: ", "              ", &printable(&r.action));
        out.wrapped("      gain:   ", "              ", &printable(&r.expected_improvement));
    }
    if analysis.hidden_recommendations > 0 {
        out.line(format_args!(
            "not shown: {} below confidence {}",
            plural(analysis.hidden_recommendations as u64, "recommendation", "recommendations"),
            analysis.min_confidence
        ));
    }
}

fn counter_table(out: &mut Report, snapshot: &Snapshot) {
    if snapshot.counters.is_empty() {
        return;
    }
    out.text.push('\n');
    out.line(format_args!("{:<NAME_WIDTH$} {:>20}", "counter", "value"));
    for counter in &snapshot.counters {
        out.line(format_args!("{:<NAME_WIDTH$} {:>20}", ellipsize(&counter.name, NAME_WIDTH), counter.value));
    }
}

fn memory_table(out: &mut Report, snapshot: &Snapshot) {
    if snapshot.memory.is_empty() {
        return;
    }
    out.text.push('\n');
    out.line(format_args!(
        "{:<NAME_WIDTH$} {:>8}{:>10}{:>10}{:>10}{:>10}",
        "memory", "samples", "last", "min", "peak", "mean"
    ));
    for m in &snapshot.memory {
        let mean = if m.samples == 0 { 0 } else { (m.sum_bytes / u128::from(m.samples)) as u64 };
        out.line(format_args!(
            "{:<NAME_WIDTH$} {:>8}{:>10}{:>10}{:>10}{:>10}",
            ellipsize(&m.name, NAME_WIDTH),
            m.samples,
            format_bytes(m.last_bytes),
            format_bytes(m.min_bytes),
            format_bytes(m.peak_bytes),
            format_bytes(mean),
        ));
    }
}

#[cfg(test)]
mod tests {
    use profiler_core::{Overhead, StageSnapshot};

    use super::*;
    use crate::test_data::{full_snapshot, test_options};

    fn render(snapshot: &Snapshot, options: &ReportOptions) -> String {
        render_report(snapshot, &analyze(snapshot, options), options, false)
    }

    /// The call tree's lines, without its heading and the note about threads.
    fn tree_lines(report: &str) -> Vec<&str> {
        report
            .lines()
            .skip_while(|l| !l.starts_with("call tree"))
            .skip(1)
            .filter(|l| !l.starts_with("calls made on other threads"))
            .take_while(|l| !l.is_empty())
            .collect()
    }

    fn check_width(report: &str) {
        for line in report.lines() {
            assert!(visible_width(line) <= WIDTH, "{} columns: {line}", visible_width(line));
        }
    }

    #[test]
    fn text_report_of_a_full_snapshot() {
        let report = render(&full_snapshot(), &test_options());
        check_width(&report);
        insta::assert_snapshot!(report);
    }

    #[test]
    fn the_report_fits_in_100_columns() {
        let mut snapshot = full_snapshot();
        let long = "a::very::long::stage::name::that::keeps::going::on::and::on::without::any::end::in::sight";
        snapshot.stages[4].name = long.to_owned();
        snapshot.stages[1].name = format!("{long}::parse");
        let report = render(&snapshot, &ReportOptions { min_confidence: 0.0, ..test_options() });
        check_width(&report);
        assert!(report.lines().any(|l| l.starts_with('…') && l.contains("::parse ")), "{report}");
    }

    #[test]
    fn empty_snapshot_says_so() {
        let mut snapshot = full_snapshot();
        snapshot.stages.clear();
        snapshot.tree.clear();
        snapshot.counters.clear();
        snapshot.memory.clear();
        snapshot.threads = 0;
        insta::assert_snapshot!(render(&snapshot, &test_options()), @r"
        profile: wall 900ms of `pipeline-demo`, 0 stages on 0 threads
        inside stages: 0ns of thread time, 0.0% of the wall time (summed over threads)
        profiler overhead: about 0ns, 0.0% of profiled time (25ns per call, 9ns inside the stage)
        no stages were recorded
        ");
    }

    #[test]
    fn sort_limit_and_threshold_shape_the_table() {
        let options = ReportOptions { sort: SortKey::Calls, limit: Some(2), threshold_ns: 1000, ..test_options() };
        let report = render(&full_snapshot(), &options);
        let table: Vec<&str> = report
            .lines()
            .skip_while(|l| !l.starts_with("stages by calls"))
            .skip(2)
            .take_while(|l| !l.starts_with('%'))
            .collect();
        insta::assert_snapshot!(table.join("\n"), @r"
        …pipeline::parse_document     1000  300ms  150ms  300µs  200µs 1.00ms 1.00ms 3.00ms  36.6% high
        render                          50  150ms  150ms 3.00ms 3.00ms 3.00ms 3.00ms 3.10ms  18.3% medium
        not shown: 1 stage with a mean below the threshold of 1.00µs; 2 more beyond the limit of 2 rows
        ");
        // The threshold also prunes the call tree; the analysis keeps every stage.
        assert!(!report.lines().any(|l| l.trim_start().starts_with("tiny")), "{report}");
        assert!(report.contains("tiny [low priority"), "{report}");
    }

    #[test]
    fn every_sort_key_orders_the_table() {
        let snapshot = full_snapshot();
        let first_row = |sort| {
            let report = render(&snapshot, &ReportOptions { sort, ..test_options() });
            let mut lines = report.lines().skip_while(|l| !l.starts_with("stages by"));
            lines.nth(2).unwrap().split_whitespace().next().unwrap().to_owned()
        };
        assert_eq!(first_row(SortKey::Total), "main");
        assert_eq!(first_row(SortKey::SelfTime), "main");
        assert_eq!(first_row(SortKey::Calls), "tiny~");
        assert_eq!(first_row(SortKey::Mean), "main");
        assert_eq!(first_row(SortKey::P95), "main");
        assert_eq!(first_row(SortKey::P99), "main");
        assert_eq!(first_row(SortKey::Name), "app::net::fetch*");
    }

    #[test]
    fn no_recommendations_and_hidden_ones_are_said() {
        let report = render(&full_snapshot(), &ReportOptions { min_confidence: 1.0, ..test_options() });
        let section: Vec<&str> = report.lines().skip_while(|l| !l.starts_with("recommendations")).take(3).collect();
        insta::assert_snapshot!(section.join("\n"), @r"
        recommendations (confidence 1 or more, most important first)
        none
        not shown: 5 recommendations below confidence 1
        ");
    }

    #[test]
    fn the_header_warns_when_end_stamps_were_not_fenced() {
        // On x86_64 and on aarch64, whichever machine renders the profile.
        for clock in ["tsc-fast", "cntvct-fast"] {
            let mut snapshot = full_snapshot();
            snapshot.clock = clock.to_owned();
            let report = render(&snapshot, &test_options());
            check_width(&report);
            let header: Vec<&str> = report.lines().take_while(|l| !l.is_empty()).collect();
            assert_eq!(
                header.last().copied(),
                Some("clock: fast (PROFILE_CLOCK=fast), end stamps unfenced: short and memory-bound stages read low"),
                "{report}"
            );
        }
    }

    #[test]
    fn without_segments_or_calibration_the_report_says_so() {
        let mut snapshot = full_snapshot();
        snapshot.overhead = Overhead::default();
        for stage in &mut snapshot.stages {
            stage.segments.clear();
        }
        let report = render(&snapshot, &test_options());
        check_width(&report);
        assert!(report.contains("\nprofiler overhead: not calibrated\n"), "{report}");
        assert!(!report.contains("clock: fast"), "{report}");
        let trends: Vec<&str> = report.lines().skip_while(|l| !l.starts_with("trends")).take(2).collect();
        insta::assert_snapshot!(trends.join("\n"), @r"
        trends (mean of the early calls → the late ones, and how many calls each window holds)
        none: no stage has 8 calls in each of its early and late windows
        ");
        assert!(!report.contains('~'), "nothing is unreliable without calibration");
    }

    #[test]
    fn no_bottlenecks_are_said() {
        // Ten alike stages of 10 % of profiled time each: none above 10 %, none standing out.
        let mut snapshot = full_snapshot();
        let leaf = snapshot.stages[2].clone();
        snapshot.stages =
            (0..10).map(|i| StageSnapshot { name: format!("leaf{i}"), segments: Vec::new(), ..leaf.clone() }).collect();
        snapshot.tree.clear();
        let report = render(&snapshot, &test_options());
        let section: Vec<&str> = report.lines().skip_while(|l| !l.starts_with("bottlenecks")).take(2).collect();
        assert_eq!(
            section,
            [
                "bottlenecks (severity medium or worse, by share of profiled time)",
                "none: no stage is of severity medium or worse"
            ]
        );
        assert!(!report.contains("call tree"), "no tree without nodes");
    }

    #[test]
    fn compensated_reports_say_so() {
        let report = render(&full_snapshot(), &ReportOptions { compensate: true, ..test_options() });
        check_width(&report);
        assert!(
            report.contains("inside the stage)\ncompensated: that cost is subtracted from the times below"),
            "{report}"
        );
    }

    #[test]
    fn a_call_in_progress_shows_in_the_tree_with_its_callees() {
        // A report made from inside `main`: main has no completed call, its callees have.
        let mut snapshot = full_snapshot();
        snapshot.tree[0].calls = 0;
        (snapshot.tree[0].total_ns, snapshot.tree[0].self_ns) = (0, 0);
        snapshot.stages[0].calls = 0;
        (snapshot.stages[0].total_ns, snapshot.stages[0].self_ns, snapshot.stages[0].sum_ns) = (0, 0, 0);
        snapshot.stages[0].histogram = profiler_core::Histogram::default();
        let report = render(&snapshot, &test_options());
        check_width(&report);
        let tree: Vec<&str> = tree_lines(&report).into_iter().take(2).collect();
        assert!(tree[0].starts_with("main ") && tree[0].contains(" in progress "), "{report}");
        assert!(tree[0].ends_with(" 420ms  100.0%"), "its callees' 300ms and 120ms: {report}");
        assert!(tree[1].trim_start().starts_with("app::pipeline::parse_document"), "{report}");
        assert!(report.contains("\n0 calls: in progress, the report was made from inside it;"), "{report}");
    }

    #[test]
    fn time_inside_stages_beyond_the_cpu_time_is_said_to_be_waiting() {
        let line = |cpu_ns| {
            let snapshot = Snapshot { cpu_ns, ..full_snapshot() };
            let report = render(&snapshot, &test_options());
            check_width(&report);
            report.lines().find(|l| l.starts_with("waiting:")).map(str::to_owned)
        };
        // 820ms inside stages, 100ms of CPU: at least 720ms waited.
        assert_eq!(
            line(Some(100_000_000)).as_deref(),
            Some("waiting: at least 720ms of it (87.8%) ran on no CPU: I/O, locks, sleeps (process CPU 100ms)")
        );
        assert_eq!(line(Some(800_000_000)), None, "20ms, 2.4 %: not worth a line");
        assert_eq!(line(None), None);
    }

    #[test]
    fn a_large_overhead_comes_with_what_to_do_about_it() {
        let advice = "PROFILE_COMPENSATE=1 to subtract it";
        assert!(!render(&full_snapshot(), &test_options()).contains(advice), "0.6 % of profiled time");
        let mut snapshot = full_snapshot();
        snapshot.overhead.per_call_ns = 500.0; // 201,071 calls: 100ms, 12.3 % of 820ms
        let report = render(&snapshot, &test_options());
        check_width(&report);
        assert!(report.contains(advice), "{report}");
        let compensated = render(&snapshot, &ReportOptions { compensate: true, ..test_options() });
        assert!(!compensated.contains(advice), "{compensated}");
    }

    #[test]
    fn deep_trees_stop_indenting_and_stop_at_40_nodes() {
        // A chain of 60 distinct stages.
        let mut snapshot = full_snapshot();
        let template = snapshot.tree[0].clone();
        let stage = snapshot.stages[0].clone();
        snapshot.stages = (0..60).map(|i| StageSnapshot { name: format!("s{i}"), ..stage.clone() }).collect();
        snapshot.tree = (0..60)
            .map(|depth: usize| profiler_core::TreeNode {
                stage: depth,
                parent: depth.checked_sub(1),
                total_ns: 820_000_000 - depth as u64,
                ..template.clone()
            })
            .collect();
        let report = render(&snapshot, &test_options());
        check_width(&report);
        let tree: Vec<&str> = tree_lines(&report);
        assert_eq!(tree.len(), TREE_MAX_NODES + 1, "{report}");
        assert!(tree[11].starts_with("                    [11] s11"), "{}", tree[11]);
        assert_eq!(
            *tree.last().unwrap(),
            "not shown: 20 nodes (below 1.0% of profiled time, under the threshold, or beyond 40 lines)"
        );
    }

    #[test]
    fn the_tree_says_other_threads_start_their_own_roots_when_there_are_some() {
        let note = "calls made on other threads are roots of their own";
        assert!(render(&full_snapshot(), &test_options()).contains(note));
        let one_thread = Snapshot { threads: 1, ..full_snapshot() };
        assert!(!render(&one_thread, &test_options()).contains(note));
    }

    #[test]
    fn a_recursion_shows_its_pattern_once_then_one_line() {
        // main → main → main … 30 deep, then render under the deepest.
        let mut snapshot = full_snapshot();
        let template = snapshot.tree[0].clone();
        snapshot.tree = (0..30)
            .map(|depth: usize| profiler_core::TreeNode {
                parent: depth.checked_sub(1),
                total_ns: 820_000_000 - depth as u64,
                ..template.clone()
            })
            .collect();
        snapshot.tree.push(profiler_core::TreeNode { stage: 2, parent: Some(29), ..snapshot.tree[29].clone() });
        let report = render(&snapshot, &test_options());
        check_width(&report);
        let tree: Vec<&str> = tree_lines(&report);
        assert_eq!(tree.len(), 3, "{report}");
        assert!(tree[0].starts_with("main ") && tree[1].starts_with("  main "), "{report}");
        assert_eq!(tree[2], "    … the recursion goes on: 29 nodes below");
    }

    #[test]
    fn colour_only_when_asked() {
        let snapshot = full_snapshot();
        let analysis = analyze(&snapshot, &test_options());
        let plain = render_report(&snapshot, &analysis, &test_options(), false);
        let coloured = render_report(&snapshot, &analysis, &test_options(), true);
        assert!(!plain.contains('\x1b'));
        assert!(coloured.contains("\x1b[1;31mcritical\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[31mdegrading"), "{coloured}");
        check_width(&coloured);
        let stripped: String = {
            let mut s = String::new();
            let mut escape = false;
            for c in coloured.chars() {
                match (escape, c) {
                    (false, '\x1b') => escape = true,
                    (true, 'm') => escape = false,
                    (true, _) => {}
                    (false, c) => s.push(c),
                }
            }
            s
        };
        assert_eq!(stripped, plain, "colour changes nothing but the escapes");
    }

    #[test]
    fn lines_wider_than_the_report_are_wrapped() {
        let mut out = Report { text: String::new(), paint: Paint(false) };
        let row = format!("{} {}", "x".repeat(60), "y".repeat(60));
        out.line(&row);
        check_width(&out.text);
        assert_eq!(out.text.lines().count(), 2, "{}", out.text);
        let mut out = Report { text: String::new(), paint: Paint(false) };
        out.line("fits   ");
        assert_eq!(out.text, "fits\n");
    }

    #[test]
    fn control_characters_from_the_file_are_escaped() {
        // Any name from a file: the report shows it as if it held the escapes themselves.
        const RAW: &str = "\n\x1b[2J\u{9b}";
        const SHOWN: &str = "\\n\\u{1b}[2J\\u{9b}";
        let named = |suffix: &str| {
            let mut snapshot = full_snapshot();
            for stage in &mut snapshot.stages {
                stage.name.push_str(suffix);
            }
            for counter in &mut snapshot.counters {
                counter.name.push_str(suffix);
            }
            for record in &mut snapshot.memory {
                record.name.push_str(suffix);
            }
            let options =
                ReportOptions { min_confidence: 0.0, program: Some(format!("demo{suffix}")), ..test_options() };
            (snapshot, options)
        };
        let ((raw, raw_options), (shown, shown_options)) = (named(RAW), named(SHOWN));
        for colour in [false, true] {
            let report = render_report(&raw, &analyze(&raw, &raw_options), &raw_options, colour);
            check_width(&report);
            assert_eq!(report, render_report(&shown, &analyze(&shown, &shown_options), &shown_options, colour));
        }
        let report = render(&raw, &raw_options);
        assert!(!report.chars().any(|c| c.is_control() && c != '\n'), "{report}");
        for expected in [
            format!("of `demo{SHOWN}`"),
            format!("\nrender{SHOWN} "),
            format!("main{SHOWN}: critical"),
            format!("`render{SHOWN}`"),
            format!("\ncache{SHOWN}"),
        ] {
            assert!(report.contains(&expected), "{expected:?} not in {report}");
        }
    }

    #[test]
    fn render_text_uses_the_defaults() {
        let report = render_text(&full_snapshot());
        assert!(report.starts_with("profile: wall 900ms of `"), "{report}");
        assert!(!report.contains('\x1b'));
    }
}
