#!/usr/bin/env bash
# Builds the Parquet and CSV reader tests with AddressSanitizer + UndefinedBehaviorSanitizer
# in a separate build tree and runs the tests that feed them hostile or tricky input:
# bad_data files, truncations, byte flips, hand-made pages, CSV edge cases and random files.
# Usage: sanitized_readers.sh SOURCE_DIR BUILD_DIR SHARED_DIR
set -euo pipefail
source_dir=$1 build_dir=$2 shared_dir=$3
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPCAD_SANITIZE=ON \
    -DHPCAD_SHARED_DIR="$shared_dir" >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)" --target hpcad_parquet_tests hpcad_csv_tests >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Fewer random flips than the Release run: the sanitizers make each one ~5x slower.
HPCAD_PQ_FUZZ_ITERATIONS=${HPCAD_PQ_FUZZ_ITERATIONS:-4000} "$build_dir/tests/parquet/hpcad_parquet_tests" \
  --gtest_filter='Robustness.*:Thrift.*:RleHybrid.*:SyntheticFile.*:Codecs.*:Plain.*:Dictionary.*:DeltaBinaryPacked.*' \
  --gtest_brief=1
"$build_dir/tests/csv/hpcad_csv_tests" --gtest_filter='CsvReader.*:CsvRandom.*:CsvSlab.*:CsvMultiFile.*' --gtest_brief=1
