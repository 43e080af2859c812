//! Every output format of one snapshot, rendered the same way whether [`dump`](crate::dump)
//! writes it at the end of a run or `profiler-report convert` re-renders a saved profile.

use std::cell::OnceCell;

use profiler_core::Snapshot;

use crate::analysis::{Analysis, analyze};
use crate::format::json::Profile;
use crate::format::text::render_report;
use crate::format::{chrome, flame, folded, html, speedscope};
use crate::options::{OutputFormat, ReportOptions};

/// What rendering one [`OutputFormat`] gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rendered {
    /// The output, and a remark for the line announcing it (for example that a Chrome trace
    /// holds no events because the run was not traced).
    Output {
        /// The text to print or write.
        contents: String,
        /// Said in parentheses after the line announcing the file, if any.
        remark: Option<String>,
    },
    /// Nothing worth writing, and why (a flame graph with nothing to draw).
    Skipped {
        /// Why, in a few words.
        reason: String,
    },
}

/// A snapshot ready to be rendered in any [`OutputFormat`]: analysed once, its JSON profile
/// rendered once, on first need.
///
/// ```no_run
/// use profiler_report::{OutputFormat, Rendered, Renderer, ReportOptions};
///
/// let snapshot = profiler_core::snapshot();
/// let options = ReportOptions::default();
/// let renderer = Renderer::new(&snapshot, &options);
/// if let Ok(Rendered::Output { contents, .. }) = renderer.render(OutputFormat::Folded, false) {
///     print!("{contents}");
/// }
/// ```
#[derive(Debug)]
pub struct Renderer<'a> {
    snapshot: &'a Snapshot,
    options: &'a ReportOptions,
    analysis: Analysis,
    json: OnceCell<String>,
}

impl<'a> Renderer<'a> {
    /// Analyses `snapshot` with `options`; the JSON profile will name `options`' program and
    /// the snapshot's clock.
    #[must_use]
    pub fn new(snapshot: &'a Snapshot, options: &'a ReportOptions) -> Self {
        Self { snapshot, options, analysis: analyze(snapshot, options), json: OnceCell::new() }
    }

    /// Uses `json` as the JSON profile, for the `json` format and the HTML report, instead of
    /// rendering it: a saved profile's own text, so that converting it keeps it exactly.
    #[must_use]
    pub fn with_profile_json(self, json: String) -> Self {
        Self { json: OnceCell::from(json), ..self }
    }

    /// The analysis every format shows.
    #[must_use]
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// The JSON profile (see [`with_profile_json`](Self::with_profile_json)).
    #[must_use]
    pub fn profile_json(&self) -> &str {
        self.json.get_or_init(|| Profile::new(self.snapshot, &self.analysis, &self.options.program()).to_json())
    }

    /// The title of the flame graph and the speedscope file: `stage profile of <program>`.
    fn title(&self) -> String {
        match self.options.program() {
            program if program.is_empty() => "stage profile".to_owned(),
            program => format!("stage profile of {program}"),
        }
    }

    /// Renders `format`; `colour` applies to the text report only.
    ///
    /// - `text`: the report [`render_report`](crate::render_report) prints.
    /// - `json`: the [JSON profile](Self::profile_json), events included when the run was traced.
    /// - `folded`: [`folded::render_folded`] of the call tree.
    /// - `svg`: [`flame::render_flame_svg`]; skipped when no stage has any self time.
    /// - `chrome`: [`chrome::render_chrome_trace`], with a remark when it holds no events (run
    ///   with `PROFILE_TRACE=1`) or when events were dropped.
    /// - `speedscope`: [`speedscope::render_snapshot`]: the call tree, and a timeline per
    ///   thread when the run was traced.
    /// - `html`: [`html::render_html`] of the JSON profile and the flame graph (left out when
    ///   empty).
    ///
    /// # Errors
    /// inferno failed to render the flame graph; the message says why.
    pub fn render(&self, format: OutputFormat, colour: bool) -> Result<Rendered, String> {
        let output = |contents: String| Rendered::Output { contents, remark: None };
        Ok(match format {
            OutputFormat::Text => output(render_report(self.snapshot, &self.analysis, self.options, colour)),
            OutputFormat::Json => output(self.profile_json().to_owned()),
            OutputFormat::Folded => output(folded::render_folded(&folded::stacks(self.snapshot))),
            OutputFormat::Svg => match self.flame_svg()? {
                Some(svg) => output(svg),
                None => Rendered::Skipped { reason: "nothing to draw, no stage has any self time".to_owned() },
            },
            OutputFormat::Chrome => {
                Rendered::Output { contents: chrome::render_chrome_trace(self.snapshot), remark: self.chrome_remark() }
            }
            OutputFormat::Speedscope => output(speedscope::render_snapshot(&self.title(), self.snapshot)),
            OutputFormat::Html => {
                // The page shows everything else without the flame graph.
                let svg = self.flame_svg().ok().flatten();
                output(html::render_html(self.profile_json(), svg.as_deref()))
            }
        })
    }

    /// The flame graph, or `None` when there is nothing to draw.
    fn flame_svg(&self) -> Result<Option<String>, String> {
        let stacks = folded::stacks(self.snapshot);
        if stacks.iter().all(|s| s.self_ns == 0) {
            return Ok(None);
        }
        flame::render_flame_svg(&stacks, &self.title()).map(Some).map_err(|e| format!("inferno failed: {e}"))
    }

    fn chrome_remark(&self) -> Option<String> {
        let snapshot = self.snapshot;
        if snapshot.events.is_empty() {
            Some("no events: run with PROFILE_TRACE=1".to_owned())
        } else if snapshot.dropped_events > 0 {
            Some(format!("{} events dropped: raise PROFILE_TRACE_EVENTS to keep more", snapshot.dropped_events))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::test_data::{synthetic_snapshot, test_options, traced_snapshot};

    fn output(rendered: Result<Rendered, String>) -> (String, Option<String>) {
        match rendered {
            Ok(Rendered::Output { contents, remark }) => (contents, remark),
            other => panic!("not an output: {other:?}"),
        }
    }

    #[test]
    fn every_format_renders_what_its_renderer_does() {
        let snapshot = traced_snapshot();
        let options = test_options();
        let renderer = Renderer::new(&snapshot, &options);
        let analysis = analyze(&snapshot, &options);
        let json = Profile::new(&snapshot, &analysis, "pipeline-demo").to_json();
        let stacks = folded::stacks(&snapshot);
        let title = "stage profile of pipeline-demo";
        let svg = flame::render_flame_svg(&stacks, title).unwrap();
        let render = |format| output(renderer.render(format, false));
        assert_eq!(render(OutputFormat::Text), (render_report(&snapshot, &analysis, &options, false), None));
        assert_eq!(render(OutputFormat::Json), (json.clone(), None));
        assert_eq!(render(OutputFormat::Folded), (folded::render_folded(&stacks), None));
        assert_eq!(render(OutputFormat::Svg), (svg.clone(), None));
        assert_eq!(
            render(OutputFormat::Chrome),
            (
                chrome::render_chrome_trace(&snapshot),
                Some("7 events dropped: raise PROFILE_TRACE_EVENTS to keep more".to_owned())
            )
        );
        assert_eq!(render(OutputFormat::Speedscope), (speedscope::render_snapshot(title, &snapshot), None));
        assert_eq!(render(OutputFormat::Html), (html::render_html(&json, Some(&svg)), None));
        assert!(output(renderer.render(OutputFormat::Text, true)).0.contains("\x1b["), "colour on request");
        let events: Value = serde_json::from_str::<Value>(&json).unwrap()["events"].clone();
        assert_eq!(events["threads"].as_array().map(Vec::len), Some(2), "the JSON carries the events");
    }

    #[test]
    fn a_chrome_trace_without_events_says_how_to_record_them() {
        let snapshot = synthetic_snapshot();
        let options = test_options();
        let (_, remark) = output(Renderer::new(&snapshot, &options).render(OutputFormat::Chrome, false));
        assert_eq!(remark.as_deref(), Some("no events: run with PROFILE_TRACE=1"));
    }

    #[test]
    fn an_empty_flame_graph_is_skipped_and_the_page_goes_without() {
        let mut snapshot = synthetic_snapshot();
        for node in &mut snapshot.tree {
            node.self_ns = 0;
        }
        let options = test_options();
        let renderer = Renderer::new(&snapshot, &options);
        assert_eq!(
            renderer.render(OutputFormat::Svg, false),
            Ok(Rendered::Skipped { reason: "nothing to draw, no stage has any self time".to_owned() })
        );
        let (page, _) = output(renderer.render(OutputFormat::Html, false));
        assert!(page.contains("<script type=\"application/json\" id=\"flame-svg\">null</script>"));
        assert_eq!(output(renderer.render(OutputFormat::Folded, false)).0, "");
    }

    #[test]
    fn a_given_profile_json_is_written_and_embedded_as_it_is() {
        let snapshot = synthetic_snapshot();
        let options = test_options();
        let text = "{\"schema_version\": 2, \"future_field\": true}\n".to_owned();
        let renderer = Renderer::new(&snapshot, &options).with_profile_json(text.clone());
        assert_eq!(renderer.profile_json(), text);
        assert_eq!(output(renderer.render(OutputFormat::Json, false)).0, text);
        assert!(output(renderer.render(OutputFormat::Html, false)).0.contains("\"future_field\": true"));
    }
}
