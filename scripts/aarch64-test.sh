#!/usr/bin/env bash
# Runs the workspace's tests built for aarch64 Linux under qemu's user-mode emulation, so that
# the aarch64 clock (the CPU's virtual count read with `mrs cntvct_el0`) runs somewhere, not
# only type-checks: its reads, the calibration, the modes, and every test that does not time
# the machine itself. Timing is not checked: emulated code has no meaningful speed.
#
# Installs Debian's qemu-user and the aarch64 cross linker when missing (apt-get, through sudo
# when not root), and the target's standard library with rustup. Where either cannot be
# installed, says so and skips: it says nothing about the code.
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
skip() {
  echo "skipped the aarch64 tests: $*"
  exit 0
}

if [[ "$(uname -m)" == aarch64 || "$(uname -m)" == arm64 ]]; then
  skip "this machine is aarch64, where the README's test command already ran them natively"
fi
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  echo "== installing Debian's qemu-user and gcc-aarch64-linux-gnu"
  source scripts/apt-install.sh
  apt_install qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross || skip "qemu-user or the cross linker is missing"
fi
if ! rustup target list --installed | grep -qx "$target" && ! rustup target add "$target" >/dev/null 2>&1; then
  skip "the $target standard library could not be installed"
fi

runner="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$runner"
# Child processes the tests start themselves go through the emulator too (tests/support).
export PROFILER_TEST_RUNNER="$runner"
# One test at a time: qemu's user-mode emulation of fork() can deadlock the child when another
# thread of the emulated process is running (seen once, in the fourth CI run of a day: a child
# of the CLI tests hung before exec, on a lock qemu itself took in another thread). Tests that
# start programs then fork with no other test thread running.
export RUST_TEST_THREADS=1
# In a debug build the accuracy tests are ignored, as on x86_64.
cargo test --quiet --workspace --target "$target"
