#!/bin/sh
# Runs a DuckDB reference script for the Parquet tests.
# usage: run_node_fixture.sh SETUP_SCRIPT NODE_DIR OUT_DIR SCRIPT [ARGS...]
# When node or @duckdb/node-api cannot be installed, writes OUT_DIR/SKIPPED with the reason
# (the tests that need OUT_DIR then skip with that message) and exits 0. A failure of the
# script itself is a test failure.
set -u
setup=$1 node_dir=$2 out=$3 script=$4
shift 4
rm -rf "$out"
mkdir -p "$out"
if ! sh "$setup" "$node_dir" >"$out/setup.log" 2>&1; then
  {
    echo "node or @duckdb/node-api could not be installed (scripts/parquet-roundtrip-setup):"
    tail -n 5 "$out/setup.log"
  } >"$out/SKIPPED"
  cat "$out/SKIPPED"
  exit 0
fi
NODE_PATH="$node_dir/node_modules" exec node "$script" "$out" "$@"
