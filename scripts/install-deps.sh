#!/usr/bin/env bash
# Installs the Debian packages the registry needs to build, test and run.
# Idempotent: installs only what is missing. Needs root (or sudo) the first time.
set -euo pipefail
pkgs=(build-essential cmake pkg-config ccache
      libsqlite3-dev sqlite3 libsodium-dev libssl-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libboost-dev libmicrohttpd-dev
      libxlsxwriter-dev libzip-dev libxml2-dev libhpdf-dev libpq-dev libpqxx-dev postgresql
      libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev
      python3 python3-openpyxl poppler-utils curl
      chromium libreoffice-calc-nogui)
# libboost-dev: Boost.Beast's HTTP parser (headers only). libmicrohttpd-dev: only for the
# transport comparison in the benchmark (bench/transport_ab.cc), never linked into jcmreg.
# libgoogle-perftools-dev: tcmalloc, the allocator the programs link (CMakeLists.txt, REGISTRY_ALLOCATOR).
# The portal's browser tests run Debian's chromium through playwright-core (npm, test/browser).
# libreoffice-calc-nogui: the AEF workbook is opened by LibreOffice in test/reports (soffice
# --headless --convert-to csv); about 80 MB, measured at 55 s to install here (apt-get install, shared 2-core machine).
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
