#!/usr/bin/env bash
# The .deb installs and runs from any directory (issue 28 item 5): CPack builds the package from
# this build tree, dpkg-deb unpacks it into a clean root (no root privileges needed), and the
# unpacked jcmreg, run from a directory with no data/ of a checkout, creates the demo registry
# from its own share/jcmreg/data, verifies it and serves it.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d /tmp/jcm-deb-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=
(cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; exit 1; }
deb=$(ls "$tmp"/pkg/*.deb)
echo "package: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
info=$(dpkg-deb -I "$deb")
grep -q '^ Depends: .*libsqlite3-0' <<<"$info" || { echo "no Depends in: $info"; exit 1; }
grep -q 'postinst' <<<"$info" || { echo "no postinst in: $info"; exit 1; }
root=$tmp/root
dpkg-deb -x "$deb" "$root"
for f in usr/bin/jcmreg usr/share/jcmreg/data/jcm/projects.csv \
         usr/share/jcmreg/data/nomenclature/sectors.csv usr/lib/systemd/system/jcmreg.service; do
  test -e "$root/$f" || { echo "missing $f"; exit 1; }
done
mkdir "$tmp/elsewhere" && cd "$tmp/elsewhere"
unset JCMREG_DATA JCMREG_DB
j=$root/usr/bin/jcmreg
$j --db r.db demo >demo.log || { cat demo.log; exit 1; }
grep -q "issuances applied" demo.log || { cat demo.log; exit 1; }
$j --db r.db verify | tee verify.log | tail -1
grep -q "^verify: ok" verify.log
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$j --db r.db serve --listen "127.0.0.1:$port" --quiet >serve.log 2>&1 &
pid=$!
for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >health.json 2>/dev/null; then break; fi
  sleep 0.1
done
grep -q '"status": "ok"' health.json || { cat serve.log; exit 1; }
projects=$(curl -fsS "http://127.0.0.1:$port/v1/projects")
grep -q TH014 <<<"$projects" || { echo "no TH014 in /v1/projects"; exit 1; }
echo "installed package: demo, verify and serve work from $tmp/elsewhere"
