// Logs in to a MySQL server with the npm mysql2 driver (an independent client implementation) and
// prints the first row of one query, for binlog-relay's interoperability tests.
//
// Usage: node mysql2_login.js HOST PORT USER PASSWORD CA_FILE|- QUERY
//   CA_FILE: TLS with the server certificate verified against this CA; "-" for no TLS.
// Output, one line: "OK<TAB>value<TAB>value..." (SQL NULL as "NULL"), or
// "ERROR<TAB>errno<TAB>sqlState<TAB>message" with exit status 1.
'use strict';

const fs = require('fs');
const mysql = require('mysql2/promise');

async function main() {
  const [host, port, user, password, caFile, query] = process.argv.slice(2);
  const config = { host, port: Number(port), user, password, connectTimeout: 10000 };
  if (caFile !== '-') {
    config.ssl = { ca: fs.readFileSync(caFile), rejectUnauthorized: true };
  }
  let connection;
  try {
    connection = await mysql.createConnection(config);
    const [rows] = await connection.query({ sql: query, rowsAsArray: true });
    const first = rows[0] || [];
    console.log(['OK', ...first.map((v) => (v === null ? 'NULL' : String(v)))].join('\t'));
  } catch (error) {
    console.log(['ERROR', error.errno ?? '', error.sqlState ?? '', error.message].join('\t'));
    process.exitCode = 1;
  } finally {
    if (connection) await connection.end().catch(() => {});
  }
}

main();
