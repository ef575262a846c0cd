#!/usr/bin/env bash
# Starts (or stops) the services the tests need on loopback. For now: nothing beyond SQLite.
# The PostgreSQL engine's tests add a throwaway server here.
set -euo pipefail
case "${1:-}" in
  start|stop) exit 0 ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
