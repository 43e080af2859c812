//! [speedscope](https://www.speedscope.app) JSON, in its file format
//! (<https://www.speedscope.app/file-format-schema.json>).
//!
//! The file holds one `sampled` profile built from the call tree: every path with self time is
//! a "sample" whose weight is that self time in nanoseconds, so speedscope's left-heavy and
//! sandwich views show the same numbers as the flame graph. When calls were recorded one by
//! one, each thread adds an `evented` profile (open and close events in nanoseconds since the
//! profiler started) for speedscope's time-order view.

use std::collections::HashMap;

use profiler_core::Snapshot;
use serde::Serialize;

use crate::format::folded::{self, FoldedStack};

/// The `$schema` every speedscope file names.
pub const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

/// One recorded call: a stage, when it started and how long it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// Index into the `stage_names` given to [`render_speedscope`].
    pub stage: usize,
    /// Start, in nanoseconds since the profiler started.
    pub start_ns: u64,
    /// Duration in nanoseconds.
    pub duration_ns: u64,
}

/// The recorded calls of one thread, in any order.
#[derive(Clone, Copy, Debug)]
pub struct ThreadCalls<'a> {
    /// The profile's name in speedscope, e.g. `thread 2 (worker)`.
    pub name: &'a str,
    /// The calls.
    pub calls: &'a [Call],
}

#[derive(Serialize)]
struct File<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    shared: Shared<'a>,
    profiles: Vec<Profile<'a>>,
    name: &'a str,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: usize,
    exporter: String,
}

#[derive(Serialize)]
struct Shared<'a> {
    frames: Vec<Frame<'a>>,
}

#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Profile<'a> {
    Sampled {
        name: &'a str,
        unit: &'static str,
        #[serde(rename = "startValue")]
        start_value: u64,
        #[serde(rename = "endValue")]
        end_value: u64,
        samples: Vec<Vec<usize>>,
        weights: Vec<u64>,
    },
    Evented {
        name: &'a str,
        unit: &'static str,
        #[serde(rename = "startValue")]
        start_value: u64,
        #[serde(rename = "endValue")]
        end_value: u64,
        events: Vec<Event>,
    },
}

#[derive(Serialize)]
struct Event {
    #[serde(rename = "type")]
    kind: &'static str,
    frame: usize,
    at: u64,
}

/// Frame names, deduplicated, in order of first use.
#[derive(Default)]
struct Frames<'a> {
    names: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
}

impl<'a> Frames<'a> {
    fn get(&mut self, name: &'a str) -> usize {
        *self.index.entry(name).or_insert_with(|| {
            self.names.push(name);
            self.names.len() - 1
        })
    }
}

/// Renders a speedscope file named `name`: the call tree's `stacks` (see
/// [`folded::stacks`](crate::format::folded::stacks)) as a sampled profile weighted by self
/// time, then one evented profile per entry of `threads`, whose calls name their stage by
/// index into `stage_names`. Compact JSON with a final newline.
///
/// Calls of one thread are nested by time; a call that outlives the call enclosing it (an
/// `async` stage polled across other work) is cut at the end of the enclosing call, so that
/// the events stay balanced as the format requires. Calls naming a stage outside
/// `stage_names` are skipped.
#[must_use]
pub fn render_speedscope(
    name: &str,
    stacks: &[FoldedStack],
    stage_names: &[&str],
    threads: &[ThreadCalls<'_>],
) -> String {
    let mut frames = Frames::default();
    let mut samples = Vec::with_capacity(stacks.len());
    let mut weights = Vec::with_capacity(stacks.len());
    for stack in stacks.iter().filter(|s| s.self_ns > 0) {
        samples.push(stack.frames.iter().map(|f| frames.get(f)).collect());
        weights.push(stack.self_ns);
    }
    let mut profiles = vec![Profile::Sampled {
        name: "call tree (self time)",
        unit: "nanoseconds",
        start_value: 0,
        end_value: weights.iter().fold(0, |total: u64, &w| total.saturating_add(w)),
        samples,
        weights,
    }];
    let stage_frames: Vec<usize> = stage_names.iter().map(|n| frames.get(n)).collect();
    for thread in threads {
        profiles.push(evented(thread, &stage_frames));
    }
    let file = File {
        schema: SCHEMA,
        shared: Shared { frames: frames.names.into_iter().map(|name| Frame { name }).collect() },
        profiles,
        name,
        active_profile_index: 0,
        exporter: format!("profiler-report {}", env!("CARGO_PKG_VERSION")),
    };
    let mut out = serde_json::to_string(&file).unwrap_or_else(|e| {
        debug_assert!(false, "serializing a speedscope file failed: {e}");
        String::new()
    });
    out.push('\n');
    out
}

/// Renders the speedscope file of a snapshot named `name`: its call tree as the sampled
/// profile and, when the run was traced (`PROFILE_TRACE=1`), each thread's recorded calls as
/// an evented profile named `thread <n>` (with the number of events its ring dropped, if any).
#[must_use]
pub fn render_snapshot(name: &str, snapshot: &Snapshot) -> String {
    let stage_names: Vec<&str> = snapshot.stages.iter().map(|s| s.name.as_str()).collect();
    let labels: Vec<String> = snapshot
        .events
        .iter()
        .map(|t| match t.dropped {
            0 => format!("thread {}", t.thread),
            dropped => format!("thread {} ({dropped} oldest events dropped)", t.thread),
        })
        .collect();
    let calls: Vec<Vec<Call>> = snapshot
        .events
        .iter()
        .map(|t| {
            t.events.iter().map(|e| Call { stage: e.stage, start_ns: e.start_ns, duration_ns: e.duration_ns }).collect()
        })
        .collect();
    let threads: Vec<ThreadCalls<'_>> =
        labels.iter().zip(&calls).map(|(name, calls)| ThreadCalls { name, calls }).collect();
    render_speedscope(name, &folded::stacks(snapshot), &stage_names, &threads)
}

/// The open/close events of one thread's calls.
fn evented<'a>(thread: &ThreadCalls<'a>, stage_frames: &[usize]) -> Profile<'a> {
    let mut calls: Vec<(u64, u64, usize)> = thread
        .calls
        .iter()
        .filter_map(|c| Some((c.start_ns, c.start_ns.saturating_add(c.duration_ns), *stage_frames.get(c.stage)?)))
        .collect();
    // By start, the longer (enclosing) call first.
    calls.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut events = Vec::with_capacity(calls.len() * 2);
    // Open calls: (end, frame), innermost last.
    let mut open: Vec<(u64, usize)> = Vec::new();
    for (start, end, frame) in calls {
        while let Some(&(top_end, top_frame)) = open.last().filter(|(e, _)| *e <= start) {
            events.push(Event { kind: "C", frame: top_frame, at: top_end });
            open.pop();
        }
        let end = open.last().map_or(end, |&(outer_end, _)| end.min(outer_end));
        events.push(Event { kind: "O", frame, at: start });
        open.push((end, frame));
    }
    while let Some((end, frame)) = open.pop() {
        events.push(Event { kind: "C", frame, at: end });
    }
    Profile::Evented {
        name: thread.name,
        unit: "nanoseconds",
        start_value: events.first().map_or(0, |e| e.at),
        end_value: events.last().map_or(0, |e| e.at),
        events,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::format::check_golden;
    use crate::format::folded::stacks;
    use crate::test_data::synthetic_snapshot;

    fn check_type(value: &Value, ty: &str, at: &str) {
        let ok = match ty {
            "string" => value.is_string(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => unreachable!(),
        };
        assert!(ok, "{at}: expected {ty}, got {value}");
    }

    /// Checks an object's required fields (with their JSON types) and the types of the
    /// optional ones that are present.
    fn check_fields(object: &Value, required: &[(&str, &str)], optional: &[(&str, &str)], at: &str) {
        check_type(object, "object", at);
        for &(field, ty) in required {
            let value = object.get(field).unwrap_or_else(|| panic!("{at}: missing required `{field}`"));
            check_type(value, ty, &format!("{at}.{field}"));
        }
        for &(field, ty) in optional {
            if let Some(value) = object.get(field) {
                check_type(value, ty, &format!("{at}.{field}"));
            }
        }
    }

    /// A hand-written check against the definitions of speedscope's file-format-schema.json
    /// (draft-07): `FileFormat.File`, `Frame`, `SampledProfile`, `EventedProfile`, the two
    /// event types and `ValueUnit`, plus the rules the schema states in prose (indices in
    /// range, one weight per sample, balanced events in time order).
    fn validate(file: &Value) {
        check_fields(
            file,
            &[("$schema", "string"), ("shared", "object"), ("profiles", "array")],
            &[("name", "string"), ("activeProfileIndex", "number"), ("exporter", "string")],
            "file",
        );
        assert_eq!(file["$schema"], SCHEMA);
        check_fields(&file["shared"], &[("frames", "array")], &[], "shared");
        let frames = file["shared"]["frames"].as_array().unwrap();
        for (i, frame) in frames.iter().enumerate() {
            check_fields(
                frame,
                &[("name", "string")],
                &[("file", "string"), ("line", "number"), ("col", "number")],
                &format!("frames[{i}]"),
            );
        }
        let units = ["bytes", "microseconds", "milliseconds", "nanoseconds", "none", "seconds"];
        let frame_index = |v: &Value, at: &str| {
            let i = v.as_u64().unwrap_or_else(|| panic!("{at}: frame index {v}"));
            assert!((i as usize) < frames.len(), "{at}: frame {i} out of range");
        };
        let profiles = file["profiles"].as_array().unwrap();
        if let Some(active) = file.get("activeProfileIndex") {
            assert!(active.as_u64().unwrap() < profiles.len() as u64);
        }
        for (p, profile) in profiles.iter().enumerate() {
            let at = format!("profiles[{p}]");
            let common = [
                ("type", "string"),
                ("name", "string"),
                ("unit", "string"),
                ("startValue", "number"),
                ("endValue", "number"),
            ];
            check_fields(profile, &common, &[], &at);
            assert!(units.contains(&profile["unit"].as_str().unwrap()), "{at}: unit");
            assert!(profile["startValue"].as_f64() <= profile["endValue"].as_f64(), "{at}: start after end");
            match profile["type"].as_str().unwrap() {
                "sampled" => {
                    check_fields(profile, &[("samples", "array"), ("weights", "array")], &[], &at);
                    let samples = profile["samples"].as_array().unwrap();
                    let weights = profile["weights"].as_array().unwrap();
                    assert_eq!(samples.len(), weights.len(), "{at}: one weight per sample");
                    for (s, sample) in samples.iter().enumerate() {
                        check_type(sample, "array", &format!("{at}.samples[{s}]"));
                        sample.as_array().unwrap().iter().for_each(|f| frame_index(f, &at));
                        check_type(&weights[s], "number", &format!("{at}.weights[{s}]"));
                    }
                }
                "evented" => {
                    check_fields(profile, &[("events", "array")], &[], &at);
                    let mut open = Vec::new();
                    let mut last = f64::MIN;
                    for (e, event) in profile["events"].as_array().unwrap().iter().enumerate() {
                        let at = format!("{at}.events[{e}]");
                        check_fields(event, &[("type", "string"), ("at", "number"), ("frame", "number")], &[], &at);
                        frame_index(&event["frame"], &at);
                        let time = event["at"].as_f64().unwrap();
                        assert!(time >= last, "{at}: `at` decreases");
                        last = time;
                        match event["type"].as_str().unwrap() {
                            "O" => open.push(event["frame"].as_u64()),
                            "C" => assert_eq!(open.pop(), Some(event["frame"].as_u64()), "{at}: unbalanced close"),
                            other => panic!("{at}: event type {other}"),
                        }
                    }
                    assert!(open.is_empty(), "{at}: frames left open");
                }
                other => panic!("{at}: profile type {other}"),
            }
        }
    }

    fn calls(list: &[(usize, u64, u64)]) -> Vec<Call> {
        list.iter().map(|&(stage, start_ns, duration_ns)| Call { stage, start_ns, duration_ns }).collect()
    }

    #[test]
    fn speedscope_of_a_synthetic_snapshot_matches_the_golden_file_and_the_schema() {
        let snapshot = synthetic_snapshot();
        let names: Vec<&str> = snapshot.stages.iter().map(|s| s.name.as_str()).collect();
        // main 0..1000 { parse 100..400 { render 150..350 }, fetch 500..900 }, and a worker.
        let main = calls(&[(3, 500, 400), (0, 0, 1000), (2, 150, 200), (1, 100, 300)]);
        let worker = calls(&[(1, 50, 20), (1, 80, 20)]);
        let threads =
            [ThreadCalls { name: "thread 1 (main)", calls: &main }, ThreadCalls { name: "thread 2", calls: &worker }];
        let json = render_speedscope("synthetic profile", &stacks(&snapshot), &names, &threads);
        check_golden("speedscope.json", &json);
        let file: Value = serde_json::from_str(&json).unwrap();
        validate(&file);
        assert_eq!(file["profiles"].as_array().unwrap().len(), 3);
        let sampled = &file["profiles"][0];
        assert_eq!(sampled["type"], "sampled");
        assert_eq!(sampled["unit"], "nanoseconds");
        let weights: u64 = sampled["weights"].as_array().unwrap().iter().map(|w| w.as_u64().unwrap()).sum();
        assert_eq!(weights, snapshot.profiled_ns());
        assert_eq!(sampled["endValue"], snapshot.profiled_ns());
        let frame =
            |i: &Value| file["shared"]["frames"][i.as_u64().unwrap() as usize]["name"].as_str().unwrap().to_owned();
        let events: Vec<(String, String, u64)> = file["profiles"][1]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["type"].as_str().unwrap().to_owned(), frame(&e["frame"]), e["at"].as_u64().unwrap()))
            .collect();
        let expected = [
            ("O", "main", 0),
            ("O", "app::pipeline::parse_document", 100),
            ("O", "render", 150),
            ("C", "render", 350),
            ("C", "app::pipeline::parse_document", 400),
            ("O", "app::net::fetch", 500),
            ("C", "app::net::fetch", 900),
            ("C", "main", 1000),
        ];
        let expected: Vec<(String, String, u64)> =
            expected.iter().map(|&(t, f, a)| (t.to_owned(), f.to_owned(), a)).collect();
        assert_eq!(events, expected);
        assert_eq!(
            (&file["profiles"][1]["startValue"], &file["profiles"][1]["endValue"]),
            (&Value::from(0), &Value::from(1000))
        );
    }

    #[test]
    fn the_sampled_end_value_saturates_at_u64_max() {
        let stacks = [
            FoldedStack { frames: vec!["a".into()], self_ns: u64::MAX },
            FoldedStack { frames: vec!["b".into()], self_ns: 1 },
        ];
        let file: Value = serde_json::from_str(&render_speedscope("huge", &stacks, &[], &[])).unwrap();
        assert_eq!(file["profiles"][0]["endValue"], u64::MAX);
    }

    #[test]
    fn a_traced_snapshot_gets_one_evented_profile_per_thread() {
        let snapshot = crate::test_data::traced_snapshot();
        let file: Value = serde_json::from_str(&render_snapshot("traced", &snapshot)).unwrap();
        validate(&file);
        let profiles = file["profiles"].as_array().unwrap();
        let kinds: Vec<(&str, &str)> =
            profiles.iter().map(|p| (p["type"].as_str().unwrap(), p["name"].as_str().unwrap())).collect();
        assert_eq!(
            kinds,
            [
                ("sampled", "call tree (self time)"),
                ("evented", "thread 1"),
                ("evented", "thread 2 (7 oldest events dropped)")
            ]
        );
        let frame = |e: &Value| file["shared"]["frames"][e["frame"].as_u64().unwrap() as usize]["name"].clone();
        let events: Vec<(Value, Value, Value)> = profiles[1]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["type"].clone(), frame(e), e["at"].clone()))
            .collect();
        let expected: Vec<(Value, Value, Value)> = [
            ("O", "main", 1_000),
            ("O", "app::pipeline::parse_document", 2_500),
            ("O", "render", 3_000),
            ("C", "render", 153_000),
            ("C", "app::pipeline::parse_document", 302_750),
            ("C", "main", 901_000),
        ]
        .iter()
        .map(|&(t, f, a)| (t.into(), f.into(), a.into()))
        .collect();
        assert_eq!(events, expected);
        // Without recorded calls, the call tree only.
        let plain: Value = serde_json::from_str(&render_snapshot("plain", &synthetic_snapshot())).unwrap();
        assert_eq!(plain["profiles"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn calls_that_outlive_their_caller_are_cut_to_keep_events_balanced() {
        // An async stage (1) polled inside stage 0 finishes after 0 returns; equal starts nest
        // the longer call outside; a call to an unknown stage is skipped.
        let list = calls(&[(0, 10, 10), (1, 15, 30), (0, 40, 5), (1, 40, 10), (7, 0, 100), (0, 60, 0)]);
        let json = render_speedscope("t", &[], &["a", "b"], &[ThreadCalls { name: "t", calls: &list }]);
        let file: Value = serde_json::from_str(&json).unwrap();
        validate(&file);
        let events: Vec<(&str, u64, u64)> = file["profiles"][1]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["type"].as_str().unwrap(), e["frame"].as_u64().unwrap(), e["at"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            events,
            [
                ("O", 0, 10),
                ("O", 1, 15),
                ("C", 1, 20),
                ("C", 0, 20),
                ("O", 1, 40),
                ("O", 0, 40),
                ("C", 0, 45),
                ("C", 1, 50),
                ("O", 0, 60),
                ("C", 0, 60)
            ]
        );
        // Without calls or stacks the file is still valid.
        let empty: Value = serde_json::from_str(&render_speedscope("empty", &[], &[], &[])).unwrap();
        validate(&empty);
    }
}
