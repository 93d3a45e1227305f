#!/usr/bin/env bash
# Benchmarks for the first release, printed as tables: signing throughput and latency (wrk from
# a second process), embedded-bucket ingest of 1 GiB against dd on the same disk with the
# server's peak RSS, and the page's compressed first-load weight. Loopback only; stops what it
# starts. Figures, not assertions: this machine is noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo leptos build --release --precompress
exec python3 bench/run.py "$@"
