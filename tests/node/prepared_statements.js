// Runs statements as server-side prepared statements with the npm mysql2 driver (COM_STMT_PREPARE,
// COM_STMT_EXECUTE with binary result rows, COM_STMT_CLOSE) and prints what it read, for
// binlog-relay's test that the relay answers them as the source does.
//
// Usage: node prepared_statements.js HOST PORT USER PASSWORD compare|limit|digest [SQL]
//   compare: one JSON line per statement (columns, typed row values, or the error), then "END".
//   limit: prepares distinct statements until one fails; prints "LIMIT<TAB>count<TAB>errno".
//   digest: executes SQL; prints "ROWS<TAB>count<TAB>sha256 of the rows as JSON lines", then the
//     first and the last row as JSON.
'use strict';

const crypto = require('crypto');
const mysql = require('mysql2/promise');

const statements = [
  ['SELECT VERSION() AS v', []],
  ['SELECT @@binlog_row_image', []],
  ['SHOW MASTER STATUS', []],
  ['SELECT COLUMN_NAME, ORDINAL_POSITION, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION FROM ' +
   'information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
   ['sbtest', 'cdc']],
  ['SELECT TABLE_NAME, CREATE_TIME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ' +
   'AND TABLE_NAME LIKE ? ORDER BY TABLE_NAME', ['sbtest', 'c%']],
  ['SHOW FULL COLUMNS FROM cdc FROM sbtest', []],
  ['SHOW INDEX FROM sbtest.sbtest1 WHERE Key_name = ?', ['k_c']],
];

function plain(value) {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { hex: value.toString('hex') };
  if (value instanceof Date) return { date: isNaN(value) ? 'invalid' : value.toISOString() };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

async function main() {
  const [host, port, user, password, mode, digestSql] = process.argv.slice(2);
  const connection = await mysql.createConnection({ host, port: Number(port), user, password,
    connectTimeout: 10000, supportBigNumbers: true });
  try {
    if (mode === 'digest') {
      const [rows] = await connection.execute({ sql: digestSql, rowsAsArray: true });
      const hash = crypto.createHash('sha256');
      for (const row of rows) hash.update(JSON.stringify(row.map(plain)) + '\n');
      console.log(['ROWS', rows.length, hash.digest('hex')].join('\t'));
      if (rows.length > 0) {
        console.log(JSON.stringify(rows[0].map(plain)));
        console.log(JSON.stringify(rows[rows.length - 1].map(plain)));
      }
      return;
    }
    if (mode === 'limit') {
      for (let i = 1; i <= 1000; i++) {
        try {
          await connection.prepare(`SELECT ${i} AS n${i}`);
        } catch (error) {
          console.log(['LIMIT', i - 1, error.errno].join('\t'));
          return;
        }
      }
      console.log('LIMIT\tnone');
      return;
    }
    for (const [sql, values] of statements) {
      try {
        const [rows, fields] = await connection.execute({ sql, values, rowsAsArray: true });
        console.log(JSON.stringify({ sql, columns: fields.map((f) => [f.name, f.columnType]),
          rows: rows.map((row) => row.map(plain)) }));
        // Again after closing: a new statement id.
        connection.unprepare(sql);
        const [again] = await connection.execute({ sql, values, rowsAsArray: true });
        if (again.length !== rows.length) console.log(JSON.stringify({ sql, rerun: again.length }));
      } catch (error) {
        console.log(JSON.stringify({ sql, errno: error.errno, message: error.message }));
      }
    }
    console.log('END');
  } finally {
    await connection.end().catch(() => {});
  }
}

main().catch((error) => {
  console.log(['ERROR', error.errno ?? '', error.message].join('\t'));
  process.exitCode = 1;
});
