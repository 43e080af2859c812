//! Calls made from thread-local destructors while a thread shuts down.

use std::cell::RefCell;

struct CallsOnDrop(&'static str);

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        profiler_core::time_stage(self.0, || ());
    }
}

thread_local! {
    static EARLY: RefCell<Option<CallsOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn calls_from_thread_local_destructors_never_crash_and_are_kept_when_recorded() {
    profiler_core::set_enabled(true);
    for _ in 0..50 {
        std::thread::spawn(|| {
            // Registered before the profiler's own thread state: its destructor runs after
            // (destructors run in reverse order), when recording is no longer possible.
            EARLY.with(|slot| *slot.borrow_mut() = Some(CallsOnDrop("shutdown::late")));
            profiler_core::time_stage("shutdown::body", || ());
            // Registered after: runs first, while the profiler's state is still alive.
            thread_local! { static LATE: RefCell<Option<CallsOnDrop>> = const { RefCell::new(None) }; }
            LATE.with(|slot| *slot.borrow_mut() = Some(CallsOnDrop("shutdown::early")));
        })
        .join()
        .unwrap();
    }
    let snap = profiler_core::snapshot();
    assert_eq!(snap.stage("shutdown::body").map(|s| (s.calls, s.threads)), Some((50, 50)));
    let early = snap.stage("shutdown::early").map_or(0, |s| s.calls);
    let late = snap.stage("shutdown::late").map_or(0, |s| s.calls);
    // No call crashed. On Linux, thread-local destructors run in reverse order of registration:
    // calls from destructors that run before the profiler's own are recorded and kept; calls
    // from those that run after it pass unrecorded.
    if cfg!(target_os = "linux") {
        assert_eq!((early, late), (50, 0));
    } else {
        assert!(early <= 50 && late <= 50, "early {early}, late {late}");
    }
}
