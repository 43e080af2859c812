//! A nested call tree across a few layers and two threads: the report's call edges show which
//! caller reaches which callee, with calls and time.
//!
//! ```text
//! PROFILE=1 cargo run --release --example call_tree
//! ```

use std::thread;
use std::time::Duration;

use profiler_macros::instrument_stage;

/// A request handler whose steps wait on fake I/O for a configured time.
struct Service {
    io_latency: Duration,
}

impl Service {
    #[instrument_stage]
    fn handle(&self, request: u32) -> u32 {
        let user = self.authenticate(request);
        let rows = self.query(user);
        self.respond(rows)
    }

    #[instrument_stage]
    fn authenticate(&self, request: u32) -> u32 {
        thread::sleep(self.io_latency / 10);
        request % 10
    }

    #[instrument_stage]
    fn query(&self, user: u32) -> Vec<u32> {
        let rows = self.fetch(user);
        self.decode(&rows)
    }

    #[instrument_stage]
    fn fetch(&self, user: u32) -> Vec<u32> {
        thread::sleep(self.io_latency);
        (0..100).map(|i| i * user).collect()
    }

    #[instrument_stage]
    fn decode(&self, rows: &[u32]) -> Vec<u32> {
        let rounds = self.io_latency.subsec_micros() / 100;
        rows.iter().map(|r| (0..rounds).fold(*r, |h, _| h.wrapping_mul(2_654_435_761))).collect()
    }

    #[instrument_stage]
    fn respond(&self, rows: Vec<u32>) -> u32 {
        thread::sleep(self.io_latency / 7);
        rows.into_iter().fold(0, u32::wrapping_add)
    }
}

fn main() {
    let service = Service { io_latency: Duration::from_millis(2) };
    let checksum = thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                scope.spawn({
                    let service = &service;
                    move || (0..50).map(|r| service.handle(w * 50 + r)).fold(0, u32::wrapping_add)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).fold(0, u32::wrapping_add)
    });
    println!("handled 100 requests, checksum {checksum}");
    profiler_report::dump();
}
