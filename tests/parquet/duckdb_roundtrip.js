// Writes random tables with DuckDB as Parquet files, next to the exact values they hold, for
// hpcad's round-trip property test.
// usage: node duckdb_roundtrip.js OUT_DIR [SEED] [TABLES]
// For each table i: OUT_DIR/t<i>.parquet and OUT_DIR/t<i>.expect: line 1 column names, line 2
// DuckDB types, then one line per row (tab-separated; NULL for null; doubles in JavaScript's
// shortest round-trip form, booleans as 1/0, integers in decimal). OUT_DIR/t<i>.options holds
// the COPY options used. Also writes multi/part-*.parquet (one table split over files with
// different codecs; expected values in multi.expect) and unsupported_brotli.parquet.
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

function rng(seed) {  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'BOOLEAN', 'SMALLINT', 'UINTEGER', 'UBIGINT',
  'DECIMAL(9,2)', 'DECIMAL(18,3)'];
const CODECS = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw'];

// Floating columns get -0 but never +0: DuckDB's dictionary writer treats them as one value
// and would store whichever came first for both.
// A value generator per column: returns {sql, text} pairs (SQL literal, expected text).
function makeColumn(r, type) {
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const lowCard = r() < 0.4;  // few distinct values: DuckDB uses a dictionary
  const nullRate = pick([0, 0, 0.1, 0.5, 1.0]);
  const pool = [];
  const bigU = (bits) => {  // uniform unsigned BigInt below 2^bits
    let v = 0n;
    for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(r() * 65536));
    return v & ((1n << BigInt(bits)) - 1n);
  };
  const raw = () => {
    switch (type) {
      case 'INTEGER': { const v = pick([() => Math.floor(r() * 200) - 100, () => Math.floor(r() * 4294967296) - 2147483648, () => pick([-2147483648, 2147483647, 0])])(); return [String(v), String(v)]; }
      case 'SMALLINT': { const v = Math.floor(r() * 65536) - 32768; return [String(v), String(v)]; }
      case 'UINTEGER': { const v = Math.floor(r() * 4294967296); return [String(v), String(v)]; }
      case 'BIGINT': { const v = pick([() => BigInt(Math.floor(r() * 2000) - 1000), () => bigU(64) - (1n << 63n), () => pick([-(1n << 63n), (1n << 63n) - 1n])])(); return [`'${v}'::BIGINT`, String(v)]; }
      case 'UBIGINT': { const v = pick([() => bigU(64), () => BigInt(Math.floor(r() * 1000))])(); return [`'${v}'::UBIGINT`, String(v)]; }
      case 'BOOLEAN': { const v = r() < 0.5; return [v ? 'true' : 'false', v ? '1' : '0']; }
      case 'FLOAT': {
        const v = pick([() => Math.fround((r() - 0.5) * 1e6), () => Math.fround(r()), () => pick([NaN, Infinity, -Infinity, -0, Math.fround(1e-40), Math.fround(3.4e38)])])();
        return [floatLit(v, 'FLOAT'), numText(v)];
      }
      case 'DOUBLE': {
        const v = pick([() => (r() - 0.5) * 1e12, () => r(), () => r() * 1e-300, () => pick([NaN, Infinity, -Infinity, -0, 5e-324, 1.7976931348623157e308])])();
        return [floatLit(v, 'DOUBLE'), numText(v)];
      }
      case 'DECIMAL(9,2)': { const u = Math.floor(r() * 1999999998) - 999999999; return [`'${decText(BigInt(u), 2)}'::DECIMAL(9,2)`, numText(u / 100)]; }
      case 'DECIMAL(18,3)': { const u = bigU(59) - (1n << 58n); return [`'${decText(u, 3)}'::DECIMAL(18,3)`, numText(Number(u) / 1000)]; }
    }
    throw new Error(type);
  };
  if (lowCard) for (let i = 0; i < 1 + Math.floor(r() * 20); ++i) pool.push(raw());
  return { type, next: () => (r() < nullRate ? ['NULL', 'NULL'] : lowCard ? pick(pool) : raw()) };
}
// Exact decimal text of unscaled / 10^scale.
function decText(u, scale) {
  const neg = u < 0n;
  const digits = (neg ? -u : u).toString().padStart(scale + 1, '0');
  return (neg ? '-' : '') + digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
}
function numText(v) { return Object.is(v, -0) ? '-0' : String(v); }
function floatLit(v, t) {
  if (Number.isNaN(v)) return `'nan'::${t}`;
  if (v === Infinity) return `'inf'::${t}`;
  if (v === -Infinity) return `'-inf'::${t}`;
  return `'${numText(v)}'::${t}`;
}

async function writeTable(con, r, name, cols, nrows) {
  const defs = cols.map((c, j) => `c${j} ${c.type}`).join(', ');
  await con.run(`CREATE OR REPLACE TABLE ${name} (${defs})`);
  const lines = [cols.map((c, j) => `c${j}`).join('\t'), cols.map((c) => c.type).join('\t')];
  for (let start = 0; start < nrows; start += 500) {
    const tuples = [];
    for (let i = start; i < Math.min(nrows, start + 500); ++i) {
      const vals = cols.map((c) => c.next());
      // Decimal literals are built from their unscaled integers, so the stored value is exact.
      tuples.push('(' + vals.map((v, j) => (v[0] === 'NULL' ? 'NULL' : `CAST(${v[0]} AS ${cols[j].type})`)).join(', ') + ')');
      lines.push(vals.map((v) => v[1]).join('\t'));
    }
    await con.run(`INSERT INTO ${name} VALUES ${tuples.join(', ')}`);
  }
  return lines;
}

async function main() {
  const outDir = process.argv[2];
  const seed = Number(process.argv[3] || 20261124);
  const tables = Number(process.argv[4] || 40);
  fs.mkdirSync(path.join(outDir, 'multi'), { recursive: true });
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  for (let t = 0; t < tables; ++t) {
    const ncols = 1 + Math.floor(r() * 6);
    const cols = [];
    for (let j = 0; j < ncols; ++j) cols.push(makeColumn(r, pick(TYPES)));
    const nrows = t === 0 ? 0 : pick([1, 7, 100, 1000, 2049, 5000]);
    const lines = await writeTable(con, r, 't', cols, nrows);
    const opts = [`FORMAT parquet`, `COMPRESSION ${pick(CODECS)}`,
      `ROW_GROUP_SIZE ${pick([1, 100, 1000, 2048, 100000])}`, `PARQUET_VERSION ${pick(['v1', 'v2'])}`];
    if (r() < 0.3) opts.push('DICTIONARY_SIZE_LIMIT 0');
    const file = path.join(outDir, `t${t}.parquet`);
    await con.run(`COPY (SELECT * FROM t ORDER BY rowid) TO '${file}' (${opts.join(', ')})`);
    fs.writeFileSync(path.join(outDir, `t${t}.expect`), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(outDir, `t${t}.options`), opts.join(', ') + '\n');
  }
  // One table over several files with the same schema; file names sort in row order.
  const cols = [makeColumn(r, 'DOUBLE'), makeColumn(r, 'BIGINT'), makeColumn(r, 'FLOAT')];
  const lines = await writeTable(con, r, 'm', cols, 3000);
  const cuts = [0, 700, 701, 2000, 3000];
  for (let p = 0; p + 1 < cuts.length; ++p) {
    const file = path.join(outDir, 'multi', `part-${p}.parquet`);
    await con.run(`COPY (SELECT * FROM m ORDER BY rowid LIMIT ${cuts[p + 1] - cuts[p]} OFFSET ${cuts[p]}) TO '${file}' (FORMAT parquet, COMPRESSION ${CODECS[p % CODECS.length]}, ROW_GROUP_SIZE 512)`);
  }
  fs.writeFileSync(path.join(outDir, 'multi.expect'), lines.join('\n') + '\n');
  await con.run(`COPY (SELECT range::DOUBLE AS x FROM range(10)) TO '${path.join(outDir, 'unsupported_brotli.parquet')}' (FORMAT parquet, COMPRESSION brotli)`);
}

main().catch((e) => { console.error(e); process.exit(1); });
