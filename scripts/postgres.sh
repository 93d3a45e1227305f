# A throwaway PostgreSQL server for the tests, from Debian's package, on 127.0.0.1 only.
# Source it, then: pg_install (once; fast when installed), pg_start <dir>, pg_stop.
# pg_start exports PG_URL (the server's `postgres` database, trust auth for the test user).

PG_PORT=${PG_PORT:-55432}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
  if [ -z "$(pg_bin)" ]; then
    echo "== installing PostgreSQL (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

# initdb and postgres refuse to run as root: run them as the package's postgres user.
pg_run() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  PG_DIR=$(mktemp -d /tmp/portal-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  local bin
  bin=$(pg_bin)
  pg_run "$bin/initdb" -D "$PG_DIR/data" -U portal --auth=trust -E UTF8 --no-instructions >/dev/null
  pg_run "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off" start >/dev/null
  export PG_URL="postgres://portal@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_run "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  PG_DIR=
}
