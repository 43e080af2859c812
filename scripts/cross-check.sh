#!/usr/bin/env bash
# Type-checks and lints the three library crates for targets this machine cannot run: the
# platform-specific paths (the fallback clock's `clock_gettime` on Apple and 32-bit Linux, the
# `Instant` fallback on Windows, the aarch64 counter on macOS and its SIGILL probe on Android)
# must at least compile there.
# (aarch64 Linux also runs, under qemu: scripts/aarch64-test.sh.)
# Installs each target's standard library with rustup; a target that cannot be installed (no
# network) is named and skipped, since it says nothing about the code.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(aarch64-apple-darwin aarch64-unknown-linux-gnu aarch64-linux-android x86_64-pc-windows-msvc i686-unknown-linux-gnu)
for target in "${targets[@]}"; do
    if ! rustup target list --installed | grep -qx "$target" && ! rustup target add "$target" >/dev/null 2>&1; then
        echo "skipped $target: its standard library could not be installed"
        continue
    fi
    echo "-- $target"
    cargo clippy --quiet -p profiler-core -p profiler-report -p profiler-macros --target "$target" -- -D warnings
done
