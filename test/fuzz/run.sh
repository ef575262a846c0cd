#!/bin/bash
# The longer fuzz run (`make fuzz`): builds the libFuzzer targets with clang (ASan + UBSan) in
# $FUZZ_BUILD and runs each for $FUZZ_SECONDS seconds, starting from the saved corpus. New
# interesting inputs go to $FUZZ_BUILD/corpus/<target> (copy the useful ones into
# test/fuzz/corpus/<target>/); a crash is saved as $FUZZ_BUILD/<target>-crash-* and fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}
TARGETS=(itmo_id serial_range csv command xlsx http_head http_request)

cmake -S . -B "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DREGISTRY_FUZZ=ON -DREGISTRY_WERROR=OFF >/dev/null
cmake --build "$FUZZ_BUILD" -j"$JOBS" --target "${TARGETS[@]/%/_fuzzer}"

status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$FUZZ_BUILD/corpus/$t"
  log="$FUZZ_BUILD/$t.log"
  if "$FUZZ_BUILD/test/fuzz/${t}_fuzzer" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
      -artifact_prefix="$FUZZ_BUILD/$t-" "$FUZZ_BUILD/corpus/$t" "test/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "$t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') executions, no crash"
  else
    echo "$t: CRASH, see $log and $FUZZ_BUILD/$t-crash-*"
    status=1
  fi
done
exit $status
