//! A child made by `fork()` while other threads record and take snapshots: the profiler's locks
//! may be held by threads the child does not have, so profiling is off there for good and
//! nothing in it may wait for a lock. Its own binary: it forks.
#![cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_vendor = "apple"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use profiler_core::time_stage;

/// What the child does: everything that takes a lock in the parent. Returns its exit code.
fn in_child() -> i32 {
    time_stage("fork::child_work", || ());
    profiler_core::set_enabled(true);
    time_stage("fork::child_work", || ());
    profiler_core::increment_counter("fork::child_counter", 1);
    let snapshot = profiler_core::snapshot();
    profiler_core::reset();
    profiler_report::dump();
    let nothing = snapshot.stages.is_empty() && snapshot.counters.is_empty();
    if nothing && !profiler_core::is_enabled() { 0 } else { 3 }
}

#[test]
fn a_forked_child_never_waits_for_the_profilers_locks() {
    if std::env::var_os("PROFILER_TEST_RUNNER").is_some_and(|runner| !runner.is_empty()) {
        // Under qemu's user-mode emulation a fork() while other threads run can hang in qemu
        // itself (`scripts/aarch64-test.sh`), which is what this test does on purpose.
        eprintln!("skipped under an emulator: forks while threads run");
        return;
    }
    profiler_core::set_enabled(true);
    let stop = Arc::new(AtomicBool::new(false));
    // Threads that hold the thread-list lock often: snapshots, and threads that start and end.
    let busy: Vec<_> = (0..2)
        .map(|i| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Relaxed) {
                    if i == 0 {
                        drop(profiler_core::snapshot());
                    } else {
                        std::thread::spawn(|| time_stage("fork::short_lived", || ())).join().unwrap();
                    }
                }
            })
        })
        .collect();
    for round in 0..40 {
        time_stage("fork::parent_work", || ());
        // SAFETY: the child runs only `in_child` and leaves with `_exit`, without unwinding or
        // running the parent's exit handlers.
        #[allow(unsafe_code)]
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = in_child();
            // SAFETY: ends the child at once, as documented for a child of a threaded process.
            #[allow(unsafe_code)]
            unsafe {
                libc::_exit(code)
            };
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            let mut status = 0;
            // SAFETY: waits for our own child, without blocking.
            #[allow(unsafe_code)]
            let done = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
            if done == pid {
                break status;
            }
            if Instant::now() > deadline {
                // SAFETY: our own child.
                #[allow(unsafe_code)]
                unsafe {
                    libc::kill(pid, libc::SIGKILL)
                };
                panic!("round {round}: the child hung");
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "round {round}: status {status}");
    }
    stop.store(true, Relaxed);
    for thread in busy {
        thread.join().unwrap();
    }
    // The parent went on recording.
    let snapshot = profiler_core::snapshot();
    assert_eq!(snapshot.stage("fork::parent_work").map(|s| s.calls), Some(40));
    assert!(snapshot.stage("fork::child_work").is_none());
}
