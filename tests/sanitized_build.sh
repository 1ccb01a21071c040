#!/usr/bin/env bash
# Configures (once) and builds the sanitized tree shared by the sanitized.readers test and
# the fuzz.* tests: ASan + UBSan, and with Clang's libFuzzer available also HPCAD_FUZZ
# (coverage instrumentation and the tests/fuzz harnesses). Without a working clang++
# -fsanitize=fuzzer it builds with the default compiler and records why in
# BUILD_DIR/fuzz-unavailable, which run_fuzz.sh reports when it skips.
# Usage: sanitized_build.sh SOURCE_DIR BUILD_DIR SHARED_DIR
set -euo pipefail
source_dir=$1 build_dir=$2 shared_dir=$3
mkdir -p "$build_dir"
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe_dir/probe.cpp"
fuzz=OFF
configure_env=()
if ! command -v clang++ >/dev/null; then
  echo "clang++ not found (scripts/install-deps --test installs clang and libclang-rt-14-dev)" \
    >"$build_dir/fuzz-unavailable"
elif ! clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" \
       2>"$probe_dir/log"; then
  { echo "clang++ cannot link -fsanitize=fuzzer (is libclang-rt-14-dev installed?):";
    cat "$probe_dir/log"; } >"$build_dir/fuzz-unavailable"
else
  fuzz=ON
  configure_env=(CC=clang CXX=clang++)
  rm -f "$build_dir/fuzz-unavailable"
fi
# A tree configured the other way (another compiler) cannot be reconfigured in place.
if [[ -f "$build_dir/CMakeCache.txt" ]] && ! grep -q "^HPCAD_FUZZ:BOOL=$fuzz\$" "$build_dir/CMakeCache.txt"; then
  rm -rf "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
fi
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  env "${configure_env[@]}" cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHPCAD_SANITIZE=ON -DHPCAD_FUZZ=$fuzz -DHPCAD_SHARED_DIR="$shared_dir" "${launcher[@]}" >/dev/null
fi
targets=(hpcad_parquet_tests hpcad_csv_tests)
if [[ $fuzz == ON ]]; then targets+=(fuzz_config fuzz_model_file fuzz_parquet fuzz_csv); fi
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}" >/dev/null
