//! The run-time switch and reset. One test: both act on the whole process.

use profiler_core::{increment_counter, is_enabled, reset, set_enabled, snapshot, start_stage, time_stage};

#[test]
fn set_enabled_and_reset_act_on_every_thread() {
    set_enabled(false);
    assert!(!is_enabled());
    let guard = start_stage("switch::off");
    assert!(!guard.is_recording(), "no clock is read while off");
    assert_eq!(guard.end(), std::time::Duration::ZERO);
    increment_counter("switch::counter_off", 1);
    assert!(snapshot().stage("switch::off").is_none());
    assert!(snapshot().counters.is_empty());

    set_enabled(true);
    assert!(is_enabled());
    time_stage("switch::on", || ());
    std::thread::spawn(|| time_stage("switch::on", || ())).join().unwrap();
    assert_eq!(snapshot().stage("switch::on").map(|s| (s.calls, s.threads)), Some((2, 2)));

    // A call in progress when profiling is switched off is still recorded.
    let in_flight = start_stage("switch::in_flight");
    set_enabled(false);
    drop(in_flight);
    set_enabled(true);
    assert_eq!(snapshot().stage("switch::in_flight").map(|s| s.calls), Some(1));

    // Reset: everything recorded so far disappears, on this thread and on a live worker.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        time_stage("switch::worker", || ());
        done_tx.send(()).unwrap();
        rx.recv().unwrap();
        time_stage("switch::worker", || ());
    });
    done_rx.recv().unwrap();
    increment_counter("switch::counter", 5);
    reset();
    let empty = snapshot();
    assert!(empty.stages.is_empty() && empty.counters.is_empty(), "{:?}", empty.stages);
    tx.send(()).unwrap();
    worker.join().unwrap();
    time_stage("switch::on", || ());
    let after = snapshot();
    assert_eq!(after.stage("switch::on").map(|s| s.calls), Some(1), "counts restart at zero");
    assert_eq!(after.stage("switch::worker").map(|s| s.calls), Some(1), "the worker's old call is gone");
}
