# Garage 2.5.0, a real distributed S3-compatible store, for the s3 target's tests: built from
# crates.io once (cached in ~/.cargo/bin), started on 127.0.0.1 as a single node with one key,
# one bucket and a CORS rule for the portal's origin, and stopped by garage_stop.
# Sourced by scripts/test.sh.

GARAGE_VERSION=2.5.0
export GARAGE_S3_ENDPOINT=http://127.0.0.1:3950
export GARAGE_REGION=garage
export GARAGE_BUCKET=portal-e2e
export GARAGE_KEY_ID=GK0123456789abcdef01234567
export GARAGE_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

garage_install() {
  garage --version 2>/dev/null | grep -q "cargo:$GARAGE_VERSION" \
    || cargo install garage --version "$GARAGE_VERSION" --locked --no-default-features \
         --features bundled-libs,sqlite
}

# garage_start DIR ORIGIN...: starts the node and allows ORIGINs to POST to the bucket.
garage_start() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cat > "$dir/garage.toml" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3951"
rpc_public_addr = "127.0.0.1:3951"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "$GARAGE_REGION"
api_bind_addr = "127.0.0.1:3950"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:3953"
TOML
  GARAGE_DEFAULT_ACCESS_KEY=$GARAGE_KEY_ID GARAGE_DEFAULT_SECRET_KEY=$GARAGE_SECRET \
  GARAGE_DEFAULT_BUCKET=$GARAGE_BUCKET RUST_LOG=warn \
    garage -c "$dir/garage.toml" server --single-node --default-bucket > "$dir/garage.log" 2>&1 &
  GARAGE_PID=$!
  for _ in $(seq 1 120); do
    # The default bucket exists once the CORS call can be made; retry until then.
    if python3 scripts/s3_cors.py "$GARAGE_S3_ENDPOINT" "$GARAGE_REGION" "$GARAGE_BUCKET" \
         "$GARAGE_KEY_ID" "$GARAGE_SECRET" "$@" 2>/dev/null; then
      echo "garage $GARAGE_VERSION up at $GARAGE_S3_ENDPOINT (bucket $GARAGE_BUCKET, CORS for $*)"
      return 0
    fi
    if ! kill -0 "$GARAGE_PID" 2>/dev/null; then
      cat "$dir/garage.log"
      return 1
    fi
    sleep 0.5
  done
  echo "garage did not come up"; cat "$dir/garage.log"; return 1
}

garage_stop() {
  [ -n "${GARAGE_PID:-}" ] && kill "$GARAGE_PID" 2>/dev/null && wait "$GARAGE_PID" 2>/dev/null
  GARAGE_PID=
}
