//! A single self-contained HTML report: everything in one file, no network access.
//!
//! The page embeds the JSON profile (exactly what [`render_json`](crate::render_json) writes)
//! and, optionally, the SVG flame graph from [`flame`](crate::format::flame), and renders them
//! with plain JavaScript (no framework, no CDN, no external font): a summary, the sortable
//! stage table, the collapsible call tree, the flame graph, bottlenecks and recommendations,
//! each stage's latency distribution drawn from its histogram, counters and memory records,
//! and a timeline when the profile has an `events` field.
//!
//! A Content-Security-Policy meta tag forbids every network request, so a page that tried one
//! would show it as an error. Errors (uncaught exceptions, rejected promises, policy
//! violations, `console.error`) are listed in the element `#errors` at the top of the page,
//! which stays empty and hidden when the page rendered cleanly; the page then sets
//! `data-rendered="true"` on `<body>`. `scripts/browser-test.sh` checks both in headless
//! Chromium.

use std::fmt::Write as _;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Installed before anything else, so that even a syntax error in the main script is shown.
const ERROR_HANDLERS: &str = r#"(function () {
  var list = document.getElementById("errors");
  function record(message) {
    list.hidden = false;
    list.textContent += message + "\n";
  }
  window.__recordProfileError = record;
  window.onerror = function (message, source, line, column) {
    record("error: " + message + " (line " + line + ":" + column + ")");
  };
  window.addEventListener("unhandledrejection", function (event) {
    record("unhandled rejection: " + event.reason);
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    record("blocked by the page's policy: " + event.blockedURI + " (" + event.violatedDirective + ")");
  });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };
})();"#;

/// No network at all: inline scripts and styles, data: images, the flame graph in a blob: frame.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                      img-src data: blob:; frame-src blob:; child-src blob:";

/// Buckets whose bounds the page checks its JavaScript port of
/// [`bucket_lower`](profiler_core::bucket_lower) against: each group's first and last, and
/// the last bucket of all.
fn bucket_check() -> String {
    let mut indices: Vec<usize> = (0..profiler_core::BUCKETS).step_by(64).flat_map(|i| [i, i + 1, i + 63]).collect();
    indices.extend([127, 128, 129, 841, 1315, profiler_core::BUCKETS - 1]);
    indices.sort_unstable();
    indices.dedup();
    let mut out = String::from("[");
    for (n, i) in indices.into_iter().enumerate() {
        let sep = if n == 0 { "" } else { "," };
        // Writing to a String cannot fail.
        let _ = write!(out, "{sep}[{i},{},{}]", profiler_core::bucket_lower(i), profiler_core::bucket_width(i));
    }
    out.push(']');
    out
}

/// JSON text made safe inside `<script type="application/json">`: every `<` becomes `\u003c`,
/// which JSON allows only inside strings, where it means the same character. So neither
/// `</script>` nor `<!--` can appear.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// Renders the HTML report of a JSON profile (the text [`render_json`](crate::render_json)
/// writes, or a saved profile file), with the SVG flame graph from
/// [`render_flame_svg`](crate::format::flame::render_flame_svg) if given.
///
/// The JSON is embedded as it is and read by the page; fields the page does not know are
/// ignored and the newer optional fields (`overhead`, `trends`, richer `bottlenecks` and
/// `recommendations`, a stage's `severity_reason`, `events`) are shown when present. Text that
/// is not valid JSON makes the page show a parse error instead of the report.
#[must_use]
pub fn render_html(profile_json: &str, flame_svg: Option<&str>) -> String {
    let svg = match flame_svg {
        Some(svg) => script_safe(&serde_json::Value::from(svg).to_string()),
        None => "null".to_owned(),
    };
    let data = script_safe(profile_json.trim());
    let mut html = String::with_capacity(data.len() + svg.len() + CSS.len() + JS.len() + 4096);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Writing to a String cannot fail.
    let _ = writeln!(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str("<meta name=\"generator\" content=\"profiler-report\">\n<title>Stage profile</title>\n");
    let _ = write!(html, "<style>\n{CSS}</style>\n</head>\n<body>\n");
    html.push_str("<pre id=\"errors\" class=\"errors\" hidden></pre>\n");
    let _ = writeln!(html, "<script>\n{ERROR_HANDLERS}\n</script>");
    html.push_str(
        "<main id=\"report\"><noscript>This report is drawn by JavaScript; please enable it.</noscript></main>\n",
    );
    let _ = writeln!(html, "<script type=\"application/json\" id=\"profile-data\">{data}</script>");
    let _ = writeln!(html, "<script type=\"application/json\" id=\"flame-svg\">{svg}</script>");
    let _ = writeln!(html, "<script type=\"application/json\" id=\"bucket-check\">{}</script>", bucket_check());
    let _ = write!(html, "<script>\n{JS}</script>\n</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::format::flame::render_flame_svg;
    use crate::format::folded::stacks;
    use crate::format::json::{Profile, to_pretty};
    use crate::test_data::synthetic_snapshot;

    /// The text of `<script type="application/json" id="{id}">`.
    fn embedded<'a>(html: &'a str, id: &str) -> &'a str {
        let open = format!("<script type=\"application/json\" id=\"{id}\">");
        let start = html.find(&open).unwrap() + open.len();
        &html[start..start + html[start..].find("</script>").unwrap()]
    }

    fn report() -> (String, String, String) {
        let snapshot = synthetic_snapshot();
        let json = to_pretty(&Profile::from_snapshot(&snapshot));
        let svg = render_flame_svg(&stacks(&snapshot), "synthetic profile").unwrap();
        (render_html(&json, Some(&svg)), json, svg)
    }

    #[test]
    fn the_profile_and_the_flame_graph_are_embedded_exactly() {
        let (html, json, svg) = report();
        let data: Value = serde_json::from_str(embedded(&html, "profile-data")).unwrap();
        assert_eq!(data, serde_json::from_str::<Value>(&json).unwrap());
        let flame: Value = serde_json::from_str(embedded(&html, "flame-svg")).unwrap();
        assert_eq!(flame.as_str(), Some(svg.as_str()));
        assert!(html.starts_with("<!DOCTYPE html>\n") && html.ends_with("</html>\n"));
        assert_eq!(embedded(&render_html(&json, None), "flame-svg"), "null");
    }

    #[test]
    fn script_and_comment_openers_in_names_cannot_escape_the_data_block() {
        let mut snapshot = synthetic_snapshot();
        snapshot.stages[4].name = "</script><script>alert(1)</script><!--".to_owned();
        let json = to_pretty(&Profile::from_snapshot(&snapshot));
        let svg = render_flame_svg(&stacks(&snapshot), "x</script>").unwrap();
        let html = render_html(&json, Some(&svg));
        // Only the page's own five script elements close.
        assert_eq!(html.matches("</script").count(), 5);
        assert!(!html.contains("<!--"));
        let data: Value = serde_json::from_str(embedded(&html, "profile-data")).unwrap();
        assert!(data["stages"].as_array().unwrap().iter().any(|s| s["name"] == snapshot.stages[4].name.as_str()));
    }

    #[test]
    fn the_page_needs_no_network() {
        let (html, _, _) = report();
        assert!(html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
        for pattern in ["src=\"http", "href=\"http", "url(http", "@import", "//cdn", "fonts.googleapis"] {
            assert!(!html.contains(pattern), "{pattern}");
        }
        for asset in [CSS, JS, ERROR_HANDLERS] {
            // The SVG namespace is a name, not an address the page loads.
            let asset = asset.replace("http://www.w3.org/2000/svg", "");
            assert!(!asset.contains("</script") && !asset.contains("<!--") && !asset.contains("http"));
        }
    }

    #[test]
    fn the_bucket_bounds_the_page_checks_come_from_the_histogram() {
        let check: Vec<(usize, u64, u64)> = serde_json::from_str(&bucket_check()).unwrap();
        assert!(check.len() > 100);
        for (index, lower, width) in check {
            assert_eq!(profiler_core::bucket_of(lower), index);
            assert_eq!(profiler_core::bucket_of(lower + (width - 1)), index);
        }
        // The JavaScript port the page checks against them.
        assert!(JS.contains("function bucketLower(index)"));
    }

    fn browser_test_out() -> std::path::PathBuf {
        std::env::var_os("BROWSER_TEST_OUT").map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/browser-test/report.html"),
            std::path::PathBuf::from,
        )
    }

    /// Writes the report of the synthetic snapshot for `scripts/browser-test.sh`, to
    /// `$BROWSER_TEST_OUT` (default `target/browser-test/report.html`), plus the same report
    /// with recorded events (`report-events.html`).
    #[test]
    #[ignore = "run by scripts/browser-test.sh"]
    fn write_browser_test_report() {
        let out = browser_test_out();
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let (html, json, svg) = report();
        std::fs::write(&out, html).unwrap();
        let mut profile: Value = serde_json::from_str(&json).unwrap();
        profile["events"] = synthetic_events();
        std::fs::write(out.with_file_name("report-events.html"), render_html(&profile.to_string(), Some(&svg)))
            .unwrap();
    }

    /// A synthetic profile of `stages` stages, each on one node of a call tree: a 4-ary tree in
    /// which every hundredth node starts a chain of 20 nested calls (paths up to 27 deep).
    fn large_snapshot(stages: usize) -> profiler_core::Snapshot {
        tree_snapshot(stages, |i| match i {
            _ if (1..=20).contains(&(i % 100)) => i - 1,
            _ => (i - 1) / 4,
        })
    }

    /// A synthetic profile of `stages` stages on one node each, node `i > 0` under `parent(i)`.
    fn tree_snapshot(stages: usize, parent: impl Fn(usize) -> usize) -> profiler_core::Snapshot {
        let template = synthetic_snapshot();
        let mut tree: Vec<profiler_core::TreeNode> = Vec::with_capacity(stages);
        for i in 0..stages {
            let parent = (i > 0).then(|| parent(i));
            let self_ns = 1_000 + (i as u64 * 7_919) % 100_000;
            tree.push(profiler_core::TreeNode {
                stage: i,
                parent,
                calls: 1 + i as u64 % 50,
                total_ns: self_ns,
                self_ns,
                busy_ns: 0,
            });
        }
        for i in (1..stages).rev() {
            let parent = tree[i].parent.unwrap();
            tree[parent].total_ns += tree[i].total_ns;
        }
        let stages = tree
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let mean = node.total_ns / node.calls;
                let mut histogram = profiler_core::Histogram::default();
                histogram.record_n(mean * 3 / 4, node.calls.div_ceil(2));
                histogram.record_n(mean * 5 / 4, node.calls / 2);
                profiler_core::StageSnapshot {
                    name: if i == 0 { "main".to_owned() } else { format!("stage_{i:05}") },
                    calls: node.calls,
                    total_ns: node.total_ns,
                    self_ns: node.self_ns,
                    busy_ns: 0,
                    is_async: false,
                    sum_ns: mean * 3 / 4 * node.calls.div_ceil(2) + mean * 5 / 4 * (node.calls / 2),
                    min_ns: mean * 3 / 4,
                    max_ns: mean * 5 / 4,
                    threads: 1,
                    histogram,
                    ..template.stages[1].clone()
                }
            })
            .collect();
        profiler_core::Snapshot { stages, tree, ..template }
    }

    /// `"events"` as the JSON profile writes them (`docs/json-schema.md`), with `threads` threads
    /// of `per_thread` calls each: groups of one call with three nested ones, 5 µs apart, stages
    /// cycling through `stages`.
    fn events_json(threads: usize, per_thread: usize, stages: usize) -> String {
        let mut out = String::with_capacity(threads * per_thread * 24 + 256);
        out.push_str("{\"dropped\": 0, \"threads\": [");
        for t in 0..threads {
            let sep = if t == 0 { "" } else { "," };
            let _ = write!(out, "{sep}\n{{\"id\": {}, \"name\": \"worker-{t}\", \"dropped\": 0, \"events\": [", t + 1);
            for g in 0..per_thread / 4 {
                let start = g as u64 * 5_000 + t as u64 * 700;
                let stage = (g * 4 + t) % stages;
                let sep = if g == 0 { "" } else { "," };
                let _ = write!(out, "{sep}[{stage},{start},4000,1]");
                for c in 0..3u64 {
                    let _ = write!(out, ",[{},{},1000,2]", (stage + 1 + c as usize) % stages, start + 100 + c * 1_200);
                }
            }
            out.push_str("]}");
        }
        out.push_str("]}");
        out
    }

    /// The profile JSON of `snapshot` with `"events": events` added as the last field.
    fn with_events(json: &str, events: &str) -> String {
        let end = json.trim_end().strip_suffix('}').unwrap().trim_end();
        format!("{end},\n  \"events\": {events}\n}}\n")
    }

    fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let value = f();
        eprintln!("{what}: {:.2} s", start.elapsed().as_secs_f64());
        value
    }

    /// 10,000 stages (and a timeline of 1,000,000 calls): every format renders in bounded time
    /// and size. Measured in release mode on the reference VM, see the README's "Visual formats".
    #[test]
    #[ignore = "large: 15 s in a debug build, 3 s in release"]
    fn large_profiles_render_within_bounds() {
        let snapshot = timed("snapshot of 10,000 stages", || large_snapshot(10_000));
        let stacks = timed("stacks", || stacks(&snapshot));
        let folded = timed("folded", || crate::format::folded::render_folded(&stacks));
        let svg = timed("svg", || render_flame_svg(&stacks, "10,000 stages").unwrap());
        let names: Vec<&str> = snapshot.stages.iter().map(|s| s.name.as_str()).collect();
        let speedscope = timed("speedscope (call tree)", || {
            crate::format::speedscope::render_speedscope("large", &stacks, &names, &[])
        });
        let calls: Vec<crate::format::speedscope::Call> = (0..250_000u64)
            .map(|i| crate::format::speedscope::Call {
                stage: (i as usize * 7) % names.len(),
                start_ns: (i / 4) * 5_000 + if i % 4 == 0 { 0 } else { 100 + (i % 4 - 1) * 1_200 },
                duration_ns: if i % 4 == 0 { 4_000 } else { 1_000 },
            })
            .collect();
        let threads: Vec<String> = (1..=4).map(|t| format!("thread {t}")).collect();
        let per_thread: Vec<crate::format::speedscope::ThreadCalls<'_>> =
            threads.iter().map(|name| crate::format::speedscope::ThreadCalls { name, calls: &calls }).collect();
        let speedscope_events = timed("speedscope (call tree + 1,000,000 calls)", || {
            crate::format::speedscope::render_speedscope("large", &stacks, &names, &per_thread)
        });
        let json = timed("profile JSON", || to_pretty(&Profile::from_snapshot(&snapshot)));
        let html = timed("html", || render_html(&json, Some(&svg)));
        let events = timed("events JSON (1,000,000 calls)", || events_json(4, 250_000, 10_000));
        let html_events = timed("html with events", || render_html(&with_events(&json, &events), Some(&svg)));
        let mib = |s: &str| s.len() as f64 / f64::from(1 << 20);
        eprintln!(
            "sizes (MiB): folded {:.2}, svg {:.2}, speedscope {:.2} / with calls {:.2}, json {:.2}, html {:.2} / with calls {:.2}",
            mib(&folded),
            mib(&svg),
            mib(&speedscope),
            mib(&speedscope_events),
            mib(&json),
            mib(&html),
            mib(&html_events)
        );
        assert_eq!(crate::format::folded::parse_folded(&folded).unwrap().len(), 10_000);
        assert!(mib(&folded) < 5.0 && mib(&svg) < 20.0 && mib(&speedscope) < 5.0 && mib(&html) < 40.0);
        assert!(mib(&speedscope_events) < 150.0 && mib(&html_events) < 80.0);
        // 4 threads of 250,000 calls: 1,000,000 opening events (parsing 78 MiB in a debug build
        // would take longer than the rest of the test).
        assert_eq!(speedscope_events.matches("{\"type\":\"O\"").count(), 1_000_000);
        assert_eq!(speedscope_events.matches("\"type\":\"evented\"").count(), 4);
        assert_eq!(
            serde_json::from_str::<Value>(&speedscope).unwrap()["profiles"][0]["samples"].as_array().unwrap().len(),
            10_000
        );
    }

    /// Writes `report-large.html` (10,000 stages, 1,000,000 recorded calls) next to the
    /// browser test's report, for `scripts/browser-test.sh --large`.
    #[test]
    #[ignore = "run by scripts/browser-test.sh --large"]
    fn write_large_browser_test_report() {
        let out = browser_test_out().with_file_name("report-large.html");
        let snapshot = large_snapshot(10_000);
        let svg = render_flame_svg(&stacks(&snapshot), "10,000 stages").unwrap();
        let json = with_events(&to_pretty(&Profile::from_snapshot(&snapshot)), &events_json(4, 250_000, 10_000));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(out, render_html(&json, Some(&svg))).unwrap();
    }

    /// Writes the report of a 40-deep chain of calls to `report-deep.html` beside
    /// `$BROWSER_TEST_OUT`, for `scripts/browser-test.sh` to expand to the bottom.
    #[test]
    #[ignore = "run by scripts/browser-test.sh"]
    fn write_deep_browser_test_report() {
        let out = browser_test_out().with_file_name("report-deep.html");
        let snapshot = tree_snapshot(40, |i| i - 1);
        let svg = render_flame_svg(&stacks(&snapshot), "40 levels").unwrap();
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(out, render_html(&to_pretty(&Profile::from_snapshot(&snapshot)), Some(&svg))).unwrap();
    }

    /// Events as the JSON profile writes them: per thread, `[stage index into "stages",
    /// start_ns, duration_ns, depth]`.
    fn synthetic_events() -> Value {
        // JSON stage order: main, parse_document, fetch, render, tiny.
        let mut main = vec![serde_json::json!([0, 0, 820_000_000, 1])];
        for i in 0..20u64 {
            let start = 10_000_000 + i * 15_000_000;
            main.push(serde_json::json!([1, start, 12_000_000, 2]));
            main.push(serde_json::json!([3, start + 2_000_000, 6_000_000, 3]));
        }
        main.push(serde_json::json!([2, 400_000_000, 200_000_000, 2]));
        main.push(serde_json::json!([4, 450_000_000, 300, 3]));
        let worker: Vec<Value> =
            (0..40u64).map(|i| serde_json::json!([1, 5_000_000 + i * 20_000_000, 9_000_000, 1])).collect();
        serde_json::json!({"dropped": 1250, "threads": [
            {"id": 1, "name": "main", "dropped": 0, "events": main},
            {"id": 2, "name": "worker-1", "dropped": 1250, "events": worker},
        ]})
    }
}
