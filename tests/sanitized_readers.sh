#!/usr/bin/env bash
# Runs the Parquet and CSV reader tests built with AddressSanitizer +
# UndefinedBehaviorSanitizer by sanitized_build.sh (the sanitized.build fixture): the tests
# that feed the readers hostile or tricky input: bad_data files, truncations, byte flips,
# hand-made pages, CSV edge cases and random files.
# Usage: sanitized_readers.sh BUILD_DIR
set -euo pipefail
build_dir=$1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Fewer random flips than the Release run: the sanitizers make each one ~5x slower.
HPCAD_PQ_FUZZ_ITERATIONS=${HPCAD_PQ_FUZZ_ITERATIONS:-4000} "$build_dir/tests/parquet/hpcad_parquet_tests" \
  --gtest_filter='Robustness.*:Thrift.*:RleHybrid.*:SyntheticFile.*:Codecs.*:Plain.*:Dictionary.*:DeltaBinaryPacked.*' \
  --gtest_brief=1
"$build_dir/tests/csv/hpcad_csv_tests" --gtest_filter='CsvReader.*:CsvRandom.*:CsvSlab.*:CsvMultiFile.*' --gtest_brief=1
