//! Chrome trace event JSON: opens in Perfetto (ui.perfetto.dev) and `chrome://tracing`.
//!
//! One track per thread, each recorded call a complete event (`"ph": "X"`) with its start
//! and duration in microseconds (fractions keep the nanoseconds). Events exist only when the
//! program ran with tracing on (`PROFILE_TRACE=1`); without them the trace holds the thread
//! tracks' names and says, in `otherData`, how to record events. Events the bounded rings
//! dropped are counted in `otherData.dropped_events` and in each thread's track name.
//!
//! The format: <https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU>.

use std::fmt::Write as _;

use profiler_core::Snapshot;

/// The process id written in every event: one profile is one process.
const PID: u32 = 1;

/// Renders the Chrome trace of a snapshot's events.
#[must_use]
pub fn render_chrome_trace(snapshot: &Snapshot) -> String {
    let names: Vec<String> = snapshot.stages.iter().map(|s| json_string(&s.name)).collect();
    let events: usize = snapshot.events.iter().map(|t| t.events.len()).sum();
    let mut out = String::with_capacity(256 + events * 96);
    out.push_str("{\"displayTimeUnit\":\"ns\",\"otherData\":{");
    let _ = write!(out, "\"producer\":\"profiler-report\",\"dropped_events\":{}", snapshot.dropped_events);
    if snapshot.events.is_empty() {
        out.push_str(",\"note\":\"no events were recorded: run with PROFILE_TRACE=1 to record a timeline\"");
    }
    out.push_str("},\"traceEvents\":[\n");
    let _ = write!(
        out,
        "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{PID},\"tid\":0,\"args\":{{\"name\":\"profile\"}}}}"
    );
    for thread in &snapshot.events {
        let label = if thread.dropped == 0 {
            format!("thread {}", thread.thread)
        } else {
            format!("thread {} ({} oldest events dropped)", thread.thread, thread.dropped)
        };
        let _ = write!(
            out,
            ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{PID},\"tid\":{},\"args\":{{\"name\":{}}}}}",
            thread.thread,
            json_string(&label)
        );
        for event in &thread.events {
            let Some(name) = names.get(event.stage) else { continue };
            let _ = write!(
                out,
                ",\n{{\"name\":{name},\"cat\":\"stage\",\"ph\":\"X\",\"pid\":{PID},\"tid\":{},\"ts\":{},\"dur\":{},\"args\":{{\"depth\":{}}}}}",
                thread.thread,
                micros(event.start_ns),
                micros(event.duration_ns),
                event.depth
            );
        }
    }
    out.push_str("\n]}\n");
    out
}

/// Nanoseconds as microseconds with three decimals: exact, and never in exponent notation.
fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"?\"".to_owned())
}

#[cfg(test)]
mod tests {
    use profiler_core::{Event, ThreadEvents};
    use serde_json::Value;

    use super::*;
    use crate::test_data::{synthetic_snapshot, traced_snapshot};

    #[test]
    fn chrome_trace_matches_the_golden_file() {
        crate::format::check_golden("chrome-trace.json", &render_chrome_trace(&traced_snapshot()));
    }

    /// Field names and types of the trace event format, checked on every event.
    #[test]
    fn every_event_has_the_fields_and_types_of_the_format() {
        let trace: Value = serde_json::from_str(&render_chrome_trace(&traced_snapshot())).unwrap();
        assert_eq!(trace["displayTimeUnit"], "ns");
        assert_eq!(trace["otherData"]["dropped_events"], 7);
        let events = trace["traceEvents"].as_array().unwrap();
        let (mut complete, mut metadata) = (0, 0);
        for event in events {
            assert!(event["name"].is_string(), "{event}");
            assert!(event["pid"].is_u64() && event["tid"].is_u64(), "{event}");
            match event["ph"].as_str().unwrap() {
                "X" => {
                    complete += 1;
                    assert!(event["ts"].as_f64().unwrap() >= 0.0, "{event}");
                    assert!(event["dur"].as_f64().unwrap() >= 0.0, "{event}");
                    assert!(event["cat"].is_string(), "{event}");
                }
                "M" => {
                    metadata += 1;
                    assert!(event["args"]["name"].is_string(), "{event}");
                }
                other => panic!("unexpected phase {other}"),
            }
        }
        assert_eq!((complete, metadata), (4, 3));
        let render = events.iter().find(|e| e["name"] == "render").unwrap();
        assert_eq!(
            (render["ts"].as_f64(), render["dur"].as_f64(), render["tid"].as_u64()),
            (Some(3.0), Some(150.0), Some(1))
        );
        let parse = events.iter().find(|e| e["tid"] == 2 && e["ph"] == "X").unwrap();
        assert_eq!(parse["dur"].as_f64(), Some(1.234));
        let thread_2 = events.iter().find(|e| e["ph"] == "M" && e["tid"] == 2).unwrap();
        assert_eq!(thread_2["args"]["name"], "thread 2 (7 oldest events dropped)");
    }

    #[test]
    fn without_events_the_trace_says_how_to_record_them() {
        let trace: Value = serde_json::from_str(&render_chrome_trace(&synthetic_snapshot())).unwrap();
        assert!(trace["otherData"]["note"].as_str().unwrap().contains("PROFILE_TRACE=1"));
        assert_eq!(trace["traceEvents"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_million_events_render_quickly_and_parse_back() {
        let mut snapshot = synthetic_snapshot();
        let events = (0..1_000_000u64)
            .map(|i| Event { stage: (i % 5) as usize, start_ns: i * 100, duration_ns: 90, depth: 1 })
            .collect();
        snapshot.events = vec![ThreadEvents { thread: 1, dropped: 0, events }];
        let start = std::time::Instant::now();
        let trace = render_chrome_trace(&snapshot);
        let took = start.elapsed();
        let parsed: Value = serde_json::from_str(&trace).unwrap();
        assert_eq!(parsed["traceEvents"].as_array().unwrap().len(), 1_000_002);
        // Generous bound for a debug build on a loaded machine; about 0.5 s in release here.
        assert!(took.as_secs() < 30, "{took:?}");
        assert!(trace.len() < 200 << 20, "{} bytes", trace.len());
    }
}
