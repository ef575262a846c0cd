#!/usr/bin/env bash
# Starts (or stops) the services the tests need, on loopback only: a throwaway PostgreSQL 15
# cluster in $JCM_PG_DIR (default /tmp/jcm-test-pg) on port $JCM_PG_PORT (default 54329). Its URL
# is written to $JCM_PG_DIR/url, where the tests find it (or in $JCM_TEST_POSTGRES_URL).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DIR=${JCM_PG_DIR:-/tmp/jcm-test-pg}
PORT=${JCM_PG_PORT:-54329}
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    if [ -f "$DIR/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      echo "PostgreSQL test server already running: $(cat "$DIR/url")"
      exit 0
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_pg "$PGBIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres jcm_test
    echo "postgresql://postgres@127.0.0.1:$PORT/jcm_test" > "$DIR/url"
    chmod 644 "$DIR/url"
    echo "PostgreSQL test server: $(cat "$DIR/url")"
    ;;
  stop)
    if [ -d "$DIR/data" ]; then as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
