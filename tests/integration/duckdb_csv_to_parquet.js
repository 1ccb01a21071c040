// Converts a CSV written by pandas into Parquet with DuckDB (an independent writer), for the
// text-key feature tests: `node` and `time` stay text (BYTE_ARRAY; DuckDB dictionary-encodes
// the few node names), the other columns become DOUBLE (empty fields: null).
// usage: node duckdb_csv_to_parquet.js CSV OUT ROW_GROUP_ROWS TIME
//   TIME = "text" keeps `time` as written; "epoch" stores DuckDB's own parse of it as BIGINT
//   seconds since 1970-01-01Z.
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const [csv, out, groupRows, time] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const timeColumn = time === 'epoch' ? 'CAST(epoch(CAST(time AS TIMESTAMPTZ)) AS BIGINT)' : 'time';
  await c.run(`SET TimeZone = 'UTC'`);
  await c.run(`COPY (SELECT ${timeColumn} AS time, node, CAST(cpu AS DOUBLE) AS cpu,
                      CAST(power AS DOUBLE) AS power
                 FROM read_csv('${csv}', all_varchar = true, header = true))
               TO '${out}' (FORMAT parquet, ROW_GROUP_SIZE ${Number(groupRows)})`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
