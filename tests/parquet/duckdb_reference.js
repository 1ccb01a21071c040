// Writes DuckDB's reading of Parquet files as reference values for hpcad's reader.
// usage: node duckdb_reference.js OUT_DIR FILE...
// For each FILE, OUT_DIR/<basename>.ref holds: line 1 the numeric columns (tab-separated),
// then one line per row with each value cast to DOUBLE and printed by DuckDB (shortest
// round-trip form; NULL for null). A file DuckDB cannot read gets <basename>.duckdb-error.
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

const NUMERIC = /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;

function quoteIdent(s) { return '"' + s.replace(/"/g, '""') + '"'; }
function quoteStr(s) { return "'" + s.replace(/'/g, "''") + "'"; }

async function main() {
  const [outDir, ...files] = process.argv.slice(2);
  fs.mkdirSync(outDir, { recursive: true });
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  for (const file of files) {
    const base = path.basename(file);
    const src = `read_parquet(${quoteStr(file)})`;
    try {
      const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRows();
      const cols = desc.filter((r) => NUMERIC.test(String(r[1]))).map((r) => String(r[0]));
      let lines = [cols.join('\t')];
      if (cols.length > 0) {
        const sel = cols.map((c) => `CAST(CAST(${quoteIdent(c)} AS DOUBLE) AS VARCHAR)`).join(', ');
        const rows = (await con.runAndReadAll(`SELECT ${sel} FROM ${src}`)).getRows();
        for (const row of rows) lines.push(row.map((v) => (v === null ? 'NULL' : String(v))).join('\t'));
      }
      fs.writeFileSync(path.join(outDir, base + '.ref'), lines.join('\n') + '\n');
    } catch (e) {
      fs.writeFileSync(path.join(outDir, base + '.duckdb-error'), String(e.message || e) + '\n');
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
