# Quick start: `make run` (install, build, create the demo registry, start it) and `make test`.
# Dependencies come from Debian packages via scripts/install-deps.sh, called whenever one is missing.
SHELL := /bin/bash
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
DB ?= data/registry.db
LISTEN ?= 127.0.0.1:8080
JCMREG := $(BUILD)/src/jcmreg

.PHONY: all deps build build-asan browser-deps test test-fast run clean bench bench-transport soak fuzz deb

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREGISTRY_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DREGISTRY_SANITIZE=ON -DREGISTRY_WERROR=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

# playwright-core for the portal's browser tests, pinned by test/browser/package-lock.json.
browser-deps: deps
	@cd test/browser && { [ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund --loglevel=error; }

# Every test: the release build, then the same tests under AddressSanitizer + UBSan (the browser
# and benchmark smoke tests, labelled no-asan, run once, in the release build).
test: build build-asan browser-deps
	@scripts/test-services.sh start
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 900
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) --timeout 1800 -LE no-asan
	@scripts/test-services.sh stop

# The release build's tests only.
test-fast: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# Starts the API on the demo data and prints the URL and a fresh administrator token (shown once).
run: build
	@if [ ! -f $(DB) ]; then $(JCMREG) --db $(DB) demo >/dev/null; fi
	@TOKEN=$$($(JCMREG) user add --db $(DB) --role administrator --scope '*' --quiet) || exit 3; \
	  echo "JCM registry portal: http://$(LISTEN)/   API: http://$(LISTEN)/v1   (OpenAPI: http://$(LISTEN)/v1/openapi.json)"; \
	  echo "administrator token (shown once): $$TOKEN"; \
	  echo "try: curl -H 'Authorization: Bearer '$$TOKEN http://$(LISTEN)/v1/accounts"; \
	  exec $(JCMREG) serve --db $(DB) --listen $(LISTEN)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# The throughput benchmark (issue 8; docs/benchmarks.md), on a Release build of its own. Long:
# not part of `make test` (CTest runs only a smoke run of it, label `bench`).
BENCH_BUILD ?= build-release
BENCH_DIR ?= $(BENCH_BUILD)
BENCH_BATCHES ?= 1,4,16,64,256
BENCH_OPS ?= 20000
BENCH_CLIENTS ?= 1,4,16,64,128,192,256
BENCH_HTTP_OPS ?= 20000
BENCH_BLOCKS ?= 1000000
BENCH_ENTRIES ?= 10000000
BENCH_ACTIONS ?= 1000000
# One run of everything (12 to 40 minutes on 2 cores at the default sizes, by host; needs ~12 GB of disk
# in BENCH_DIR and TMPDIR), its output in $(BENCH_BUILD)/bench-output.txt and the plot beside it.
bench: deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DREGISTRY_WERROR=ON >/dev/null
	@cmake --build $(BENCH_BUILD) -j$(JOBS) --target jcm_bench
	set -o pipefail; $(BENCH_BUILD)/bench/jcm_bench --dir $(BENCH_DIR) --batch $(BENCH_BATCHES) all \
	  --ops $(BENCH_OPS) --clients $(BENCH_CLIENTS) --http-ops $(BENCH_HTTP_OPS) \
	  --blocks $(BENCH_BLOCKS) --entries $(BENCH_ENTRIES) --checkpoints 0,100000,$(BENCH_BLOCKS) \
	  --actions $(BENCH_ACTIONS) | tee $(BENCH_BUILD)/bench-output.txt
	python3 bench/plot.py $(BENCH_BUILD)/bench-output.txt $(BENCH_BUILD)/bench-throughput.svg

# The soak (issue 33; docs/benchmarks.md): SOAK_SECONDS of writes, reads, slow clients and invalid
# bytes against the real `jcmreg serve`, killed with SIGKILL every 5-60 s, then the journal checked
# against every acknowledged write and `jcmreg verify`; on the same Release build as `make bench`.
# Its output in $(BENCH_BUILD)/soak-output.txt; SOAK_ARGS passes more (--seed N replays a run).
SOAK_SECONDS ?= 1800
SOAK_ARGS ?=
soak: deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DREGISTRY_WERROR=ON >/dev/null
	@cmake --build $(BENCH_BUILD) -j$(JOBS) --target jcmreg jcm_soak
	set -o pipefail; $(BENCH_BUILD)/bench/jcm_soak --dir $(BENCH_DIR) --seconds $(SOAK_SECONDS) \
	  $(SOAK_ARGS) | tee $(BENCH_BUILD)/soak-output.txt

# The HTTP transport against libmicrohttpd (issue 33 item 7; docs/benchmarks.md "The transport
# against libmicrohttpd"), on the same Release build; about 3 minutes. Output in
# $(BENCH_BUILD)/transport-ab.txt.
bench-transport: deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DREGISTRY_WERROR=ON >/dev/null
	@cmake --build $(BENCH_BUILD) -j$(JOBS) --target jcm_transport_ab
	set -o pipefail; $(BENCH_BUILD)/bench/jcm_transport_ab --clients 16,64,192 --seconds 5 \
	  | tee $(BENCH_BUILD)/transport-ab.txt

# libFuzzer targets (clang, ASan + UBSan), each run FUZZ_SECONDS from the saved corpus (test/fuzz/).
fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-60} JOBS=$(JOBS) test/fuzz/run.sh

# The Debian package (CPack): build/jcmreg_*.deb. docs/operations.md "Installing the .deb".
deb: build
	@cd $(BUILD) && cpack -G DEB
