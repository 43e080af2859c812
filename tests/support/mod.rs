//! Shared by the tests that need a fresh process per case (`PROFILE` and friends are read once
//! per process): each case runs its own test binary again as a child process (`<this binary>
//! --exact <test> --nocapture -q`), with its own environment and current directory. In the
//! child, an environment variable names the test it was started for, and the test body runs the
//! program under test instead of checking it.
//!
//! Each test binary uses only part of this module.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Some arithmetic that takes a little time, for stages to measure.
pub(crate) fn checksum(seed: u64) -> u64 {
    (0..20_000u64).fold(seed, |acc, x| std::hint::black_box(acc.wrapping_mul(31).wrapping_add(x)))
}

/// In a child started for `test` (the variable `marker` names it), runs `program`, which never
/// returns; in the parent, returns at once.
pub(crate) fn run_program_if_child(marker: &str, test: &str, program: fn() -> !) {
    match std::env::var(marker) {
        Ok(role) if role == test => program(),
        Ok(role) => panic!("child started for `{role}` is running `{test}`"),
        Err(_) => {}
    }
}

/// A child's outcome.
pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) pid: u32,
    /// The program's stdout, without the test harness's preamble.
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs the program in a child started for `test`, in `cwd`, with the variables `removed`
/// taken out of its environment and then `env` set.
pub(crate) fn run_child(marker: &str, test: &str, cwd: &Path, removed: &[&str], env: &[(&str, &OsStr)]) -> Run {
    run_child_with_stderr(marker, test, cwd, removed, env, Stdio::piped())
}

/// Like [`run_child`], with the child's stderr going to `stderr` (`Run::stderr` holds what
/// was read from it, nothing unless it is piped).
pub(crate) fn run_child_with_stderr(
    marker: &str,
    test: &str,
    cwd: &Path,
    removed: &[&str],
    env: &[(&str, &OsStr)],
    stderr: Stdio,
) -> Run {
    let mut command = command_for(std::env::current_exe().unwrap());
    command.args(["--exact", test, "--nocapture", "-q"]).current_dir(cwd).env(marker, test);
    for name in removed {
        command.env_remove(name);
    }
    for &(key, value) in env {
        command.env(key, value);
    }
    let child = command.stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    // The harness announces the test ("running 1 test"); everything after that is the program's.
    let (preamble, program_stdout) = stdout
        .split_once("running 1 test\n")
        .unwrap_or_else(|| panic!("unexpected child stdout: {stdout:?}\nstderr: {stderr}"));
    assert!(preamble.trim().is_empty(), "unexpected child stdout: {stdout:?}");
    Run { status: output.status, pid, stdout: program_stdout.to_owned(), stderr }
}

/// A command that runs `program`, through the emulator `PROFILER_TEST_RUNNER` names when set
/// (`qemu-aarch64 -L /usr/aarch64-linux-gnu`: `scripts/aarch64-test.sh` runs the tests built for
/// aarch64 on this x86_64 machine, and a child must be emulated too).
pub(crate) fn command_for(program: impl AsRef<OsStr>) -> Command {
    let runner = std::env::var("PROFILER_TEST_RUNNER").unwrap_or_default();
    let mut runner = runner.split_whitespace();
    let Some(emulator) = runner.next() else { return Command::new(program) };
    let mut command = Command::new(emulator);
    command.args(runner).arg(program);
    command
}

/// A fresh, empty directory for one case, removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    /// `<temp>/<prefix>-<pid>-<case>`, emptied.
    pub(crate) fn new(prefix: &str, case: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{case}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// `name` inside the scratch directory.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `contents` to `name` inside the scratch directory, and returns its path.
    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).unwrap();
        path
    }

    /// The names in `dir` (relative to the scratch directory), sorted.
    pub(crate) fn entries(&self, dir: impl AsRef<Path>) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.0.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
