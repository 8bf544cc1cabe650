// Reads a binlog with the npm @vlasky/zongji CDC reader (mysql2 underneath: table metadata through
// prepared information_schema.COLUMNS queries on its control connection) and prints the decoded
// events, for binlog-relay's test that zongji decodes the same through the relay as from the source.
//
// Usage: node zongji_events.mjs HOST PORT USER PASSWORD MODE START STOP_MARKER
//   MODE position: START is FILE:POSITION; MODE gtid: START is a GTID position ('' = all).
//   Reading stops after the Query event whose text contains STOP_MARKER.
// Output: one JSON line per event (heartbeats left out; no timestamps), then "END". On an error:
// "ERROR<TAB>message" with exit status 1.
import ZongJi from '@vlasky/zongji';

const [host, port, user, password, mode, start, marker] = process.argv.slice(2);

function plain(value) {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return { hex: value.toString('hex') };
  if (value instanceof Date) return { date: isNaN(value) ? 'invalid' : value.toISOString() };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = plain(value[key]);
    return out;
  }
  return value;
}

function describe(event) {
  const name = event.getTypeName();
  const out = { type: name, next: event.nextPosition };
  switch (name) {
    case 'Rotate': Object.assign(out, { file: event.binlogName, position: String(event.position) }); break;
    case 'Query': Object.assign(out, { schema: event.schema, query: event.query }); break;
    case 'Xid': out.xid = String(event.xid); break;
    case 'TableMap': Object.assign(out, { schema: event.schemaName, table: event.tableName }); break;
    case 'WriteRows': case 'UpdateRows': case 'DeleteRows': {
      const table = event.tableMap[event.tableId];
      Object.assign(out, { schema: table && table.parentSchema, table: table && table.tableName,
        rows: plain(event.rows) });
      break;
    }
    case 'MariadbGtid':
      Object.assign(out, { domain: event.domainId, server: event.serverId, seq: String(event.seqNo) });
      break;
    default: break;
  }
  return out;
}

const zongji = new ZongJi({ host, port: Number(port), user, password, connectTimeout: 10000 });
const timer = setTimeout(() => fail(new Error('no stop marker within 60 s')), 60000);
let done = false;

function finish(code) {
  if (done) return;
  done = true;
  clearTimeout(timer);
  zongji.stop();
  setTimeout(() => process.exit(code), 200);
}

function fail(error) {
  console.log(['ERROR', String(error && error.message).replace(/\s+/g, ' ')].join('\t'));
  finish(1);
}

zongji.on('error', fail);
zongji.on('binlog', (event) => {
  if (done) return;
  if (event.getTypeName() === 'Heartbeat') return;
  console.log(JSON.stringify(describe(event)));
  if (event.getTypeName() === 'Query' && event.query.includes(marker)) {
    console.log('END');
    finish(0);
  }
});

const options = { serverId: 9000 + Math.floor(Math.random() * 1000) };
if (mode === 'gtid') {
  options.gtidSet = start;
} else {
  const at = start.lastIndexOf(':');
  options.filename = start.slice(0, at);
  options.position = Number(start.slice(at + 1));
}
zongji.start(options);
