#!/usr/bin/env bash
# Runs every test: lints (the specs' types too); unit and integration tests (real sockets, the embedded bucket, the
# local STS endpoint); the ledger tests again against a real PostgreSQL; the release build end
# to end in Debian's Chromium with Playwright (V4 + STS + callback, ledger in PostgreSQL); then
# the s3 target against a real Garage node (integration tests and the same browser tests).
# Between them, Alibaba's own SDKs (oss2, ali-oss) drive the embedded bucket.
# Every log of the run is searched for the configured secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh --browser
source scripts/garage.sh
source scripts/postgres.sh
source scripts/sdk.sh

# However the run ends, whatever it started is stopped and its scratch folder removed (each
# step is harmless when that part was never started).
work=
portal_pid=
cleanup() {
  if [ -n "$portal_pid" ]; then
    kill "$portal_pid" 2>/dev/null || true
  fi
  garage_stop || true
  pg_stop || true
  if [ -n "$work" ]; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# run_logged [--tail FILE] WHAT LOG CMD...: runs CMD, its output shown and kept in LOG. If CMD
# fails: the last 40 lines of FILE (a log CMD's own output does not hold), "WHAT failed", and
# the run ends with CMD's exit status.
run_logged() {
  local tail_file=
  if [ "$1" = --tail ]; then
    tail_file=$2
    shift 2
  fi
  local what=$1 log=$2
  shift 2
  local status=0
  "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ]; then
    if [ -n "$tail_file" ]; then
      tail -n 40 "$tail_file"
    fi
    echo "$what failed (exit $status)"
    exit "$status"
  fi
}

# secret_absent NAME RUN SECRET LOG...: ends the run if SECRET (called NAME) appears in any
# LOG of RUN, naming the logs it is in; otherwise says how many log lines were searched.
secret_absent() {
  local name=$1 run=$2 secret=$3
  shift 3
  local found=0
  grep -qF -e "$secret" -- "$@" || found=$?
  if [ "$found" -eq 0 ]; then
    echo "$name appeared in the logs of the $run:"
    grep -lF -e "$secret" -- "$@" || true
    exit 1
  fi
  if [ "$found" -ne 1 ]; then
    echo "secret check: the logs of the $run could not be read: $*"
    exit 1
  fi
  echo "secret check: $name is absent from $(cat -- "$@" | wc -l) log lines of the $run"
}

# passed_in LOG...: the sum, over the LOGs, of the last "N passed" Playwright printed in each.
passed_in() {
  local total=0 log count
  for log in "$@"; do
    count=$(sed -n 's/^ *\([0-9][0-9]*\) passed.*/\1/p' "$log" | tail -n 1)
    total=$((total + ${count:-0}))
  done
  echo "$total"
}

pg_install

echo "== lints: rustfmt, clippy on each side"
cargo fmt --check
cargo clippy --features ssr --tests -- -D warnings
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
# Playwright runs the specs without checking their types: a method calling a field its class
# lacks would only fail when it runs.
(cd end2end && npx tsc --noEmit -p .)

echo "== unit and integration tests"
# One test at a time: each #[tokio::test] runs a portal on a runtime of its own, and Leptos's
# rendering keeps process-wide state that several runtimes at once in one process (never the
# case in production, which runs one) can leave a page waiting forever (seen in CI: a 408
# after the portal's 30 s timeout). Concurrent pages on one runtime are tested by
# tests/portal.rs `pages_render_whole_under_concurrent_loads`.
cargo test --features ssr -- --test-threads=1

work=$(mktemp -d)
echo "== Alibaba's SDKs (oss2, ali-oss) against the embedded bucket: path-style and bucket-as-host, V1 and V4"
sdk_install
cargo build --features ssr --bin upload-portal
sdk_secret="sdk-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
env LEPTOS_SITE_ADDR=127.0.0.1:3220 PORTAL_BUCKET_ADDR=127.0.0.1:9320 PORTAL_DATA_DIR="$work/sdk" \
  OSS_ACCESS_KEY_ID=LTAIsdkrun OSS_ACCESS_KEY_SECRET="$sdk_secret" OSS_REGION=local RUST_LOG=info \
  LEPTOS_SITE_ROOT=target/site ./target/debug/upload-portal > "$work/sdk-portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:3220/healthz && break; sleep 0.2; done
run_logged --tail "$work/sdk-portal.log" "the SDK clients" "$work/sdk.log" \
  sdk_run http://127.0.0.1:9320 portal-dev LTAIsdkrun "$sdk_secret" local
kill "$portal_pid"; wait "$portal_pid" 2>/dev/null || true
portal_pid=
secret_absent "the SDK run's secret" "SDK run" "$sdk_secret" "$work/sdk-portal.log" "$work/sdk.log"

echo "== the ledger, the security probes and upload requests (live arrivals: LISTEN/NOTIFY) against PostgreSQL"
pg_start
LEDGER_DATABASE_URL="$PG_URL" cargo test --features ssr --test access --test security --test requests -- --test-threads=1

echo "== end-to-end tests (release build, Chromium)"
# Ports of their own, so a portal already running on 3000/9300 does not get in the way.
export LEPTOS_SITE_ADDR=127.0.0.1:3210
export PORTAL_URL=http://127.0.0.1:3210
export PORTAL_BUCKET_ADDR=127.0.0.1:9310
export PORTAL_DATA_DIR="$work/data"
# The browser run signs V4 policies with STS temporary credentials from the local STS endpoint.
export PORTAL_LOCAL_STS_ADDR=127.0.0.1:9311
export OSS_STS_ROLE_ARN=acs:ram::1234567890123456:role/uploader
# ...and every upload ends with the bucket's signed callback to the portal.
export OSS_CALLBACK_URL=http://127.0.0.1:3210/oss/callback
export OSS_ACCESS_KEY_ID=LTAItestrun$RANDOM
export OSS_ACCESS_KEY_SECRET="secret-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
export RUST_LOG=debug
# The portal under test keeps its ledger in PostgreSQL (the portals the specs start use SQLite).
psql -q "$PG_URL" -c "CREATE DATABASE e2e"
e2e_database="${PG_URL%/postgres}/e2e"
run_logged "end-to-end tests" "$work/e2e.log" \
  env DATABASE_URL="$e2e_database" cargo leptos end-to-end --release --precompress
grep -q "Upload Portal listening on" "$work/e2e.log" || { echo "the portal's log is missing from the run"; exit 1; }
grep -q "ledger: postgres" "$work/e2e.log" || { echo "the portal did not keep its ledger in PostgreSQL"; exit 1; }
secret_absent "the AccessKey secret" "test run" "$OSS_ACCESS_KEY_SECRET" "$work/e2e.log"

echo "== the s3 target against Garage $GARAGE_VERSION"
unset PORTAL_LOCAL_STS_ADDR OSS_STS_ROLE_ARN OSS_CALLBACK_URL
garage_install
garage_start "$work/garage" "$PORTAL_URL"
cargo test --features ssr --test garage -- --ignored --test-threads=1
# The release build again, now signing SigV4 for Garage; the same browser tests run on it.
env PORTAL_TARGET=s3 S3_ENDPOINT="$GARAGE_S3_ENDPOINT" S3_REGION="$GARAGE_REGION" \
  PORTAL_BUCKET="$GARAGE_BUCKET" OSS_ACCESS_KEY_ID="$GARAGE_KEY_ID" OSS_ACCESS_KEY_SECRET="$GARAGE_SECRET" \
  LEPTOS_SITE_ROOT=target/site ./target/release/upload-portal > "$work/s3-portal.log" 2>&1 &
portal_pid=$!
# Playwright from end2end/ (a subshell, so the cd stays in it), told the portal's S3 secret.
s3_browser_tests() (
  cd end2end && env PORTAL_TARGET=s3 OSS_ACCESS_KEY_SECRET="$GARAGE_SECRET" npx playwright test
)
run_logged --tail "$work/s3-portal.log" "end-to-end tests against Garage" "$work/s3-e2e.log" \
  s3_browser_tests
kill "$portal_pid"; wait "$portal_pid" 2>/dev/null || true
portal_pid=
garage_stop
secret_absent "the S3 secret" "Garage run" "$GARAGE_SECRET" "$work/s3-portal.log" "$work/s3-e2e.log"
echo "end-to-end: $(passed_in "$work/e2e.log" "$work/s3-e2e.log") passed, 0 failed"
