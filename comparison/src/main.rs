//! Side-by-side per-call overhead of this workspace's profiler and Rust peer profilers.
//!
//! One process, one ~1 ns function instrumented once per profiler, timed in interleaved
//! rounds; after each scenario every profiler's own output is read back to check that it
//! recorded every call. See `README.md` beside `Cargo.toml` for what each row means.
//!
//! ```sh
//! cd comparison && cargo run --release                 # everything, about a minute
//! cd comparison && cargo run --release -- --quick      # a shorter, noisier run
//! cd comparison && cargo run --release -- --scenarios one,memory
//! ```
#![deny(unsafe_code)]

mod alloc;
mod cputime;
mod measure;
mod peers;
mod report;
mod work;

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use measure::{Contender, Plan, Timings};
use peers::fastrace::{Fastrace, Roots};
use peers::firestorm::Firestorm;
use peers::hotpath::Hotpath;
use peers::ours::Ours;
use peers::puffin::{self as puffin_peer, Puffin};
use peers::tracing::Tracing;
use report::{Check, MemoryRow, References, TimingRow};

#[global_allocator]
static ALLOCATOR: alloc::CountingAllocator = alloc::CountingAllocator;

/// The scenarios, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// Every profiler with a run-time switch switched off, one thread.
    Off,
    /// Every profiler on, one thread.
    One,
    /// Every profiler on, two threads calling at once.
    Two,
    /// Memory growth and background CPU over many calls.
    Memory,
}

/// Command-line options.
#[derive(Debug)]
struct Options {
    /// The scenarios to run (always run in declaration order of [`Scenario`]).
    scenarios: Vec<Scenario>,
    /// Timing plan of the timing scenarios.
    plan: Plan,
    /// Calls per contender in the memory scenario.
    memory_calls: u64,
    /// Keep only the peers whose name contains one of these (ours and the floors always stay).
    only: Vec<String>,
}

const USAGE: &str = "\
usage: cargo run --release -- [--quick] [--scenarios LIST] [--rounds N] [--batch N] [--memory-calls N]

  --quick            21 rounds instead of 201, 1,000,000 calls instead of 10,000,000 for memory
                     (batches of 10,000 calls either way)
  --scenarios LIST   comma-separated subset of off,one,two,memory (default: all); they always
                     run in that order, because the tracing subscriber cannot be uninstalled
  --rounds N         timed rounds per scenario
  --batch N          calls per contender per round (per thread with two threads)
  --memory-calls N   calls per contender in the memory scenario
  --only LIST        comma-separated name fragments: keep only the peers whose row name contains
                     one (e.g. `puffin,tracing`); ours, the baseline and the floors always run";

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        scenarios: vec![Scenario::Off, Scenario::One, Scenario::Two, Scenario::Memory],
        plan: Plan { rounds: 201, batch: 10_000, warmup: 10_000, prewarm: 1_000 },
        memory_calls: 10_000_000,
        only: Vec::new(),
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            let text = iter.next().ok_or_else(|| format!("`{name}` needs a value"))?;
            text.replace('_', "")
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("`{name}` needs a positive integer, got `{text}`"))
        };
        match arg.as_str() {
            "--quick" => {
                options.plan.rounds = 21;
                options.memory_calls = 1_000_000;
            }
            "--rounds" => options.plan.rounds = usize::try_from(value("--rounds")?).map_err(|e| e.to_string())?,
            "--batch" => {
                options.plan.batch = value("--batch")?;
                options.plan.prewarm = (options.plan.batch / 10).max(1);
            }
            "--memory-calls" => options.memory_calls = value("--memory-calls")?,
            "--scenarios" => {
                let list = iter.next().ok_or("`--scenarios` needs a value")?;
                options.scenarios.clear();
                for name in list.split(',') {
                    options.scenarios.push(match name.trim() {
                        "off" => Scenario::Off,
                        "one" => Scenario::One,
                        "two" => Scenario::Two,
                        "memory" => Scenario::Memory,
                        other => {
                            return Err(format!(
                                "unknown scenario `{other}`, expected `off`, `one`, `two` or `memory`"
                            ));
                        }
                    });
                }
            }
            "--only" => {
                let list = iter.next().ok_or("`--only` needs a value")?;
                options.only =
                    list.split(',').map(|name| name.trim().to_owned()).filter(|name| !name.is_empty()).collect();
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// Turns hotpath's HTTP metrics server off (it otherwise listens on port 6770 while a guard is
/// alive), before any thread exists.
#[allow(unsafe_code)]
fn disable_hotpath_metrics_server() {
    // SAFETY: called first thing in `main`, while the process has a single thread, so nothing
    // can read the environment concurrently.
    unsafe { std::env::set_var("HOTPATH_METRICS_SERVER_OFF", "1") };
}

/// The baseline and the clock floors, first in every timing table.
fn floors() -> (Vec<Box<dyn Contender>>, References) {
    let mut list: Vec<Box<dyn Contender>> = vec![Box::new(work::Baseline)];
    #[cfg(target_arch = "x86_64")]
    list.push(Box::new(work::TwoTsc { fenced: false }));
    #[cfg(target_arch = "x86_64")]
    list.push(Box::new(work::TwoTsc { fenced: true }));
    let tsc = cfg!(target_arch = "x86_64").then_some(1);
    list.push(Box::new(work::TwoQuanta));
    list.push(Box::new(work::TwoInstant));
    let ours = list.len(); // the caller pushes ours next
    (list, References { baseline: 0, ours, tsc })
}

/// The contenders with every profiler on, ours first.
fn profilers_on() -> Vec<Box<dyn Contender>> {
    vec![
        Box::new(Ours { enabled: true, fast_clock: false }),
        Box::new(Ours { enabled: true, fast_clock: true }),
        Box::new(Hotpath::new(true)),
        Box::new(Tracing { subscriber: true }),
        Box::new(Fastrace { roots: Roots::Every(1_000) }),
        Box::new(Fastrace { roots: Roots::Long(100_000) }),
        Box::new(Puffin { mode: puffin_peer::Mode::Enclosed }),
        Box::new(Puffin { mode: puffin_peer::Mode::Bare }),
        Box::new(Firestorm),
    ]
}

/// The contenders with every profiler that has a run-time switch switched off, ours first.
fn profilers_off() -> Vec<Box<dyn Contender>> {
    vec![
        Box::new(Ours { enabled: false, fast_clock: false }),
        Box::new(Hotpath::new(false)),
        Box::new(Tracing { subscriber: false }),
        Box::new(Fastrace { roots: Roots::None }),
        Box::new(Puffin { mode: puffin_peer::Mode::Off }),
    ]
}

/// Keeps ours (the first entry) and the peers whose name contains one of `only` (all when empty).
fn select(profilers: Vec<Box<dyn Contender>>, only: &[String]) -> Vec<Box<dyn Contender>> {
    profilers
        .into_iter()
        .enumerate()
        .filter(|(index, contender)| {
            *index == 0 || only.is_empty() || only.iter().any(|part| contender.name().contains(part.as_str()))
        })
        .map(|(_, contender)| contender)
        .collect()
}

/// Which timing loop a scenario uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threads {
    /// [`measure::one_thread`].
    One,
    /// [`measure::two_threads`].
    Two,
}

/// Runs one timing scenario, verifies the records and prints the table. Returns the medians.
fn timing_scenario(
    title: &str,
    profilers: Vec<Box<dyn Contender>>,
    threads: Threads,
    plan: Plan,
    one_thread: Option<&HashMap<&'static str, f64>>,
) -> HashMap<&'static str, f64> {
    let started = Instant::now();
    let load_before = report::load_average();
    let (mut owned, refs) = floors();
    owned.extend(profilers);
    let contenders: Vec<&dyn Contender> = owned.iter().map(AsRef::as_ref).collect();

    let before: Vec<Option<u64>> = contenders.iter().map(|c| c.recorded()).collect();
    for contender in &contenders {
        contender.begin_scenario();
    }
    let timings: Timings = match threads {
        Threads::One => measure::one_thread(&contenders, plan),
        Threads::Two => measure::two_threads(&contenders, plan),
    };
    for contender in &contenders {
        contender.end_scenario();
    }

    let rows: Vec<TimingRow> = contenders
        .iter()
        .zip(timings.samples)
        .zip(timings.calls)
        .zip(before)
        .map(|(((contender, samples), calls), before)| TimingRow {
            name: contender.name(),
            samples,
            check: Check::of(*contender, before, contender.recorded(), calls),
            one_thread_median: one_thread.and_then(|medians| medians.get(contender.name()).copied()),
        })
        .collect();

    println!("## {title}\n");
    println!(
        "{} rounds × {} timed calls per contender{}, each batch preceded by {} untimed calls, \
         contenders in a different random order each round (+ {} warm-up calls); {:.1} s; \
         load average {} before, {} after.\n",
        plan.rounds,
        plan.batch,
        if threads == Threads::Two { " per thread" } else { "" },
        plan.prewarm,
        plan.warmup,
        started.elapsed().as_secs_f64(),
        load_before,
        report::load_average()
    );
    println!("{}", report::timing_table(&rows, &refs));
    println!("Verification (each profiler's own records, read back after the scenario):");
    for row in &rows {
        if let Some(line) = row.check.line(row.name) {
            println!("{line}");
        }
    }
    print_notes();
    println!();
    rows.iter().map(|row| (row.name, row.samples.median())).collect()
}

/// Memory and background CPU of each profiler over `calls` calls after a warm-up.
fn memory_scenario(profilers: Vec<Box<dyn Contender>>, plan: Plan, calls: u64) {
    let started = Instant::now();
    let load_before = report::load_average();
    alloc::start_counting();
    let mut rows = Vec::new();
    for contender in profilers {
        let contender: &dyn Contender = contender.as_ref();
        if contender.name().contains("root per 100k") {
            continue; // drops most calls by design: its memory says nothing
        }
        settle_process();
        let before_records = contender.recorded();
        contender.begin_scenario();
        black_box(contender.run(plan.warmup));
        contender.harvest_thread();
        contender.end_frame();

        let held_before = alloc::allocated_bytes();
        let cpu = cputime::Mark::now();
        let mut caller = Duration::ZERO;
        let mut done = 0;
        while done < calls {
            let n = plan.batch.min(calls - done);
            let start = Instant::now();
            black_box(contender.run(n));
            caller += start.elapsed();
            contender.end_frame();
            done += n;
        }
        let held_after = alloc::allocated_bytes();
        contender.harvest_thread();
        contender.end_thread();
        contender.end_scenario();
        settle_process(); // threads a profiler stopped may still be freeing memory
        let background = cpu.others_since();
        let held_flushed = alloc::allocated_bytes();

        rows.push(MemoryRow {
            name: contender.name(),
            calls,
            growth: held_after - held_before,
            retained: held_flushed - held_before,
            caller_ns: caller.as_nanos() as f64 / calls as f64,
            background_ns: background.as_nanos() as f64 / calls as f64,
            check: Check::of(contender, before_records, contender.recorded(), plan.warmup + calls),
        });
    }

    println!("## Memory growth and background CPU\n");
    println!(
        "Per profiler, one after the other: {} warm-up calls, then {} calls in batches of {} (puffin: a frame per batch); \
         bytes allocated by the whole process (counting allocator) right before and right after the calls, \
         and again after the profiler flushed (hotpath guard dropped, fastrace flushed, firestorm's events counted and cleared); \
         CPU time of threads other than the caller from the first call until flushed; {:.1} s; \
         load average {} before, {} after.\n",
        plan.warmup,
        calls,
        plan.batch,
        started.elapsed().as_secs_f64(),
        load_before,
        report::load_average()
    );
    println!("{}", report::memory_table(&rows));
    println!("Verification:");
    for row in &rows {
        if let Some(line) = row.check.line(row.name) {
            println!("{line}");
        }
    }
    print_notes();
    println!();
}

/// Waits for the threads other than this one to go idle, so that one profiler's exiting or
/// flushing threads neither free nor allocate during the next measurement.
fn settle_process() {
    std::thread::sleep(Duration::from_millis(100));
    measure::wait_for_quiet();
}

/// Prints what the contenders noticed while flushing.
fn print_notes() {
    for text in report::take_notes() {
        println!("- note: {text}");
    }
}

fn main() {
    disable_hotpath_metrics_server();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}\n");
            }
            eprintln!("{USAGE}");
            std::process::exit(if message.is_empty() { 0 } else { 2 });
        }
    };

    let started = Instant::now();
    let command = if args.is_empty() {
        "cd comparison && cargo run --release".to_owned()
    } else {
        format!("cd comparison && cargo run --release -- {}", args.join(" "))
    };
    println!("# Per-call overhead: stage profiler vs Rust peer profilers\n");
    println!("- machine: {}", report::machine());
    println!("- date: {}", report::utc_now());
    println!("- toolchain: {}", report::rustc_version());
    println!("- load average at start (1, 5, 15 min): {}", report::load_average());
    println!("- command: `{command}`");
    println!(
        "- work function: `black_box(x).wrapping_mul(3)`, `#[inline(never)]`; overhead = median − baseline median\n"
    );

    if options.scenarios.contains(&Scenario::Off) {
        timing_scenario(
            "Run-time off (one thread)",
            select(profilers_off(), &options.only),
            Threads::One,
            options.plan,
            None,
        );
        println!("firestorm has no run-time switch (only its compile-time feature), so it has no off row.\n");
    }
    let mut one_thread = HashMap::new();
    if options.scenarios.contains(&Scenario::One) {
        one_thread = timing_scenario(
            "One thread, profiling on",
            select(profilers_on(), &options.only),
            Threads::One,
            options.plan,
            None,
        );
    }
    if options.scenarios.contains(&Scenario::Two) {
        let title = format!("{} threads calling the same function, profiling on", measure::THREADS);
        let medians = (!one_thread.is_empty()).then_some(&one_thread);
        timing_scenario(&title, select(profilers_on(), &options.only), Threads::Two, options.plan, medians);
    }
    if options.scenarios.contains(&Scenario::Memory) {
        memory_scenario(select(profilers_on(), &options.only), options.plan, options.memory_calls);
    }
    println!("Total run time: {:.1} s.", started.elapsed().as_secs_f64());
}
