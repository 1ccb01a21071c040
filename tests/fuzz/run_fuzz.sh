#!/usr/bin/env bash
# One harness's test: replays every input of its seed corpus (tests/fuzz/corpus/NAME) and
# regression corpus (tests/fuzz/regression/NAME: inputs that once crashed), then fuzzes it
# under ASan + UBSan from those corpora for RUNS executions with a fixed seed (bounded work;
# not reproducible across builds, see docs/reliability.md), capped at
# HPCAD_FUZZ_SECONDS (default 300). HPCAD_FUZZ_SEED changes the seed. A crash, leak,
# timeout or sanitizer report fails the test; libFuzzer saves the input under
# BUILD_DIR/fuzz/NAME/artifacts/. Exits 77 (skipped) only when the sanitized tree was built
# without libFuzzer because Clang is unavailable (sanitized_build.sh says why).
# Usage: run_fuzz.sh NAME BUILD_DIR SOURCE_DIR RUNS
set -euo pipefail
name=$1 build_dir=$2 source_dir=$3 runs=$4
seconds=${HPCAD_FUZZ_SECONDS:-300}
seed=${HPCAD_FUZZ_SEED:-20261201}
if [[ -f "$build_dir/fuzz-unavailable" ]]; then
  echo "fuzz.$name skipped: $(cat "$build_dir/fuzz-unavailable")"
  exit 77
fi
harness=$build_dir/tests/fuzz/fuzz_$name
corpora=()  # libFuzzer refuses a corpus directory that does not exist (git keeps no empty one)
for dir in "$source_dir/tests/fuzz/corpus/$name" "$source_dir/tests/fuzz/regression/$name"; do
  if [[ -d "$dir" ]]; then corpora+=("$dir"); fi
done
work=$build_dir/fuzz/$name
# A fresh working corpus each time: what earlier runs found would change what this one does.
rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts"
# malloc returning NULL for an impossible size (over 2 GiB here), as glibc does for sizes it
# cannot map: HDF5 then reports an error (a 4 GiB malloc from a crafted size was seen).
# (operator new still reports it: hpcad itself must never ask for such a size.)
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=2048 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$source_dir/tests/fuzz/lsan.supp
options=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/")

mapfile -t inputs < <(find "${corpora[@]}" -type f | sort)
echo "fuzz.$name: replaying ${#inputs[@]} corpus and regression inputs"
if [[ ${#inputs[@]} -gt 0 ]]; then  # with no file arguments libFuzzer would start fuzzing
  "$harness" "${options[@]}" "${inputs[@]}" 2>"$work/replay.log" ||
    { cat "$work/replay.log"; exit 1; }
fi

echo "fuzz.$name: fuzzing $runs runs, seed $seed (at most $seconds s)"
if ! "$harness" "${options[@]}" -seed="$seed" -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 \
     "$work/corpus" "${corpora[@]}" 2>"$work/fuzz.log"; then
  tail -n 80 "$work/fuzz.log"
  echo "fuzz.$name: FAILED; the input is in $work/artifacts/. Fix the cause, then add the" \
       "input to tests/fuzz/regression/$name/."
  exit 1
fi
grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
  "$work/fuzz.log" || tail -n 5 "$work/fuzz.log"
