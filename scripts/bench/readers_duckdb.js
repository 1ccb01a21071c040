// DuckDB side of scripts/bench/readers (run with NODE_PATH pointing at a node_modules that
// holds @duckdb/node-api; scripts/parquet-roundtrip-setup installs it).
//
//   node readers_duckdb.js write CSV OUT_PREFIX ROW_GROUP_SIZE
//       Loads CSV (header; f0..fN DOUBLE, label INTEGER) and writes OUT_PREFIX.<codec>.parquet
//       for codec in uncompressed, snappy, zstd (FORMAT parquet, ROW_GROUP_SIZE given). Prints
//       one JSON line: per file its size, row groups and the column chunks' encodings/codecs.
//   node readers_duckdb.js read FILE THREADS MODE
//       A fresh in-memory database with SET threads = THREADS; times one query with
//       process.hrtime (the caller times the whole process). MODE:
//         ctas  CREATE TABLE m AS SELECT * FROM read_parquet|read_csv(FILE): the values end up
//               materialised in DuckDB's memory (in-memory tables are not compressed), like
//               hpcad's slab;
//         scan  SELECT sum(c) for every column c FROM read_parquet|read_csv(FILE): every value is
//               decoded into DuckDB's vectors, nothing is kept (sum cannot be answered from the
//               Parquet statistics, unlike min/max or count).
//       Prints one JSON line {query_s, rows, cols, mode, version}.
'use strict';
const fs = require('fs');
const { DuckDBInstance, version } = require('@duckdb/node-api');

const sq = (s) => `'${String(s).replace(/'/g, "''")}'`;

async function write(csv, prefix, rowGroupSize) {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv(${sq(csv)}, header = true)`);
  // Features as DOUBLE and the label as INTEGER whatever the sniffer guessed.
  const cols = (await con.runAndReadAll(`SELECT column_name FROM (DESCRIBE t)`)).getRows().map((r) => r[0]);
  const sel = cols.map((c) => (c === 'label' ? `CAST("label" AS INTEGER) AS "label"` : `CAST("${c}" AS DOUBLE) AS "${c}"`));
  const out = { duckdb: version(), files: {} };
  for (const codec of ['uncompressed', 'snappy', 'zstd']) {
    const file = `${prefix}.${codec}.parquet`;
    await con.run(`COPY (SELECT ${sel.join(', ')} FROM t ORDER BY rowid) TO ${sq(file + '.partial')} ` +
      `(FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroupSize})`);
    fs.renameSync(file + '.partial', file);
    const meta = (await con.runAndReadAll(
      `SELECT count(DISTINCT row_group_id)::INTEGER, string_agg(DISTINCT path_in_schema || ':' || encodings, '; ' ORDER BY path_in_schema || ':' || encodings), ` +
      `string_agg(DISTINCT compression, ','), sum(total_compressed_size)::BIGINT, sum(total_uncompressed_size)::BIGINT ` +
      `FROM parquet_metadata(${sq(file)})`)).getRows()[0];
    out.files[codec] = {
      path: file, bytes: fs.statSync(file).size, row_groups: meta[0], encodings: meta[1], codecs: meta[2],
      compressed: Number(meta[3]), uncompressed: Number(meta[4]),
    };
  }
  console.log(JSON.stringify(out));
}

async function read(file, threads, mode) {
  const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await inst.connect();
  const fn = file.endsWith('.csv') ? `read_csv(${sq(file)}, header = true)` : `read_parquet(${sq(file)})`;
  const cols = (await con.runAndReadAll(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${fn})`)).getRows().map((r) => r[0]);
  let rows;
  const t0 = process.hrtime.bigint();
  if (mode === 'ctas') {
    await con.run(`CREATE TABLE m AS SELECT * FROM ${fn}`);
  } else if (mode === 'scan') {
    const r = await con.runAndReadAll(`SELECT count(*)::BIGINT, ${cols.map((c) => `sum("${c}")`).join(', ')} FROM ${fn}`);
    rows = Number(r.getRows()[0][0]);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const t1 = process.hrtime.bigint();
  if (mode === 'ctas') rows = Number((await con.runAndReadAll(`SELECT count(*)::BIGINT FROM m`)).getRows()[0][0]);
  console.log(JSON.stringify({ query_s: Number(t1 - t0) / 1e9, rows, cols: cols.length, mode, version: version() }));
}

const [mode, ...args] = process.argv.slice(2);
(mode === 'write' ? write(args[0], args[1], Number(args[2] || 65536))
  : mode === 'read' ? read(args[0], Number(args[1] || 1), args[2] || 'ctas')
  : Promise.reject(new Error('usage: readers_duckdb.js write CSV PREFIX RGSIZE | read FILE THREADS ctas|scan')))
  .catch((e) => { console.error(e); process.exit(1); });
