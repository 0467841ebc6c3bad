#!/usr/bin/env bash
# Runs the core pipeline benchmarks side by side and prints a Markdown report.
#   bench/run.sh                 # default sizes
#   BENCH_EVENTS=400000 BENCH_SENDS=500 bench/run.sh
# Release build; numbers vary with the machine: compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench ingest -- "$@"
