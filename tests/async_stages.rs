//! `async fn` stages: wall time from first poll to completion, busy time inside polls, nesting,
//! and futures that move between threads. A tiny executor keeps the test free of runtimes.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use profiler_macros::instrument_stage;

/// Completes once `duration` has passed, woken by a timer thread (it really waits).
struct Sleep {
    deadline: Instant,
    timer_started: bool,
}

fn sleep(duration: Duration) -> Sleep {
    Sleep { deadline: Instant::now() + duration, timer_started: false }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.timer_started {
            self.timer_started = true;
            let (deadline, waker) = (self.deadline, cx.waker().clone());
            thread::spawn(move || {
                thread::sleep(deadline.saturating_duration_since(Instant::now()));
                waker.wake();
            });
        }
        Poll::Pending
    }
}

struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        thread::park();
    }
}

fn assert_send<T: Send>(_: &T) {}

#[instrument_stage(name = "async::parse")]
fn parse(text: &str) -> usize {
    text.split(',').count()
}

#[instrument_stage(name = "async::fetch")]
async fn fetch(wait: Duration) -> String {
    sleep(wait).await;
    "a,b,c".to_owned()
}

#[instrument_stage(name = "async::handle")]
async fn handle(wait: Duration) -> Result<usize, String> {
    let body = fetch(wait).await;
    let fields = parse(&body);
    if fields == 0 {
        return Err("empty".to_owned());
    }
    Ok(fields)
}

#[test]
fn async_stages_measure_wall_and_busy_time_and_nest() {
    profiler_core::set_enabled(true);
    let future = handle(Duration::from_millis(40));
    assert_send(&future);
    assert_eq!(block_on(future), Ok(3));

    let snap = profiler_core::snapshot();
    let handle = snap.stage("async::handle").expect("handle recorded").clone();
    let fetch = snap.stage("async::fetch").expect("fetch recorded").clone();
    assert_eq!((handle.calls, fetch.calls), (1, 1));
    assert!(handle.is_async && fetch.is_async);
    assert!(handle.total_ns >= 40_000_000, "wall time covers the wait: {}", handle.total_ns);
    assert!(fetch.total_ns >= 40_000_000 && fetch.total_ns <= handle.total_ns);
    assert!(handle.busy_ns < handle.total_ns / 2, "busy {} is time inside polls only, not waiting", handle.busy_ns);
    assert!(handle.self_ns <= handle.busy_ns);
    let index = |name: &str| snap.stages.iter().position(|s| s.name == name).unwrap();
    let edges = snap.edges();
    for child in ["async::fetch", "async::parse"] {
        let edge = edges.iter().find(|e| e.child == index(child)).unwrap();
        assert_eq!(edge.parent, Some(index("async::handle")), "{child} is called from handle");
    }
}

#[instrument_stage(name = "async::migrating")]
async fn migrating() -> u32 {
    sleep(Duration::from_millis(5)).await;
    7
}

#[test]
fn a_future_may_move_between_threads_between_polls() {
    profiler_core::set_enabled(true);
    let future = Arc::new(Mutex::new(Box::pin(migrating())));
    let noop = Waker::noop();
    // First poll on one thread...
    let first = {
        let future = Arc::clone(&future);
        thread::spawn(move || future.lock().unwrap().as_mut().poll(&mut Context::from_waker(noop)).is_pending())
            .join()
            .unwrap()
    };
    assert!(first);
    thread::sleep(Duration::from_millis(10));
    // ...completion on another.
    let value = thread::spawn(move || match future.lock().unwrap().as_mut().poll(&mut Context::from_waker(noop)) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the sleep is over"),
    })
    .join()
    .unwrap();
    assert_eq!(value, 7);
    let stage = profiler_core::snapshot().stage("async::migrating").unwrap().clone();
    assert_eq!((stage.calls, stage.threads), (1, 2));
    assert!(stage.total_ns >= 10_000_000, "wall time spans both polls: {}", stage.total_ns);
}
