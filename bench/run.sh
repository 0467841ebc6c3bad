#!/usr/bin/env bash
# Runs the core pipeline benchmarks side by side and prints a Markdown report.
#   bench/run.sh                 # default sizes
#   BENCH_EVENTS=400000 BENCH_SENDS=500 bench/run.sh
# Release build; numbers vary with the machine: compare the ratios.
#
# Part (d) compares ingest with this build against a build of the core
# pipeline from before the hourly rollup (BENCH_BASELINE_REV, default the
# last commit of issue 3), built once under bench/out/ (git-ignored).
# HOOKMETER_BASELINE_BIN=path skips that build and uses the given binary.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_BASELINE_REV=${BENCH_BASELINE_REV:-2d2797c}
if [ -z "${HOOKMETER_BASELINE_BIN:-}" ]; then
    src=bench/out/baseline-src
    if [ ! -d "$src" ]; then
        git worktree add --detach "$src" "$BENCH_BASELINE_REV" >&2
    fi
    git -C "$src" checkout -q --detach "$BENCH_BASELINE_REV"
    cargo build --release --manifest-path "$src/Cargo.toml" --target-dir bench/out/baseline-target >&2
    HOOKMETER_BASELINE_BIN=$PWD/bench/out/baseline-target/release/hookmeter
fi
export HOOKMETER_BASELINE_BIN
cargo bench --bench ingest -- "$@"
