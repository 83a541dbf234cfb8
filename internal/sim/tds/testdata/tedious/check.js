// A second SQL Server client for the simulator's TDS endpoint: tedious logs
// in and runs parameterised reads, so the endpoint is tested against the
// protocol rather than one driver's habits. The Go test runs it as
//   node check.js '{"host":…,"port":…,"user":…,"password":…,"database":…,"encrypt":false}'
// and reads one JSON object from stdout.
'use strict';

// tedious 20.3.9 calls Promise.withResolvers, which Node 20 lacks.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const { Connection, Request, TYPES } = require('tedious');

const cfg = JSON.parse(process.argv[2]);

function connect(encrypt) {
  return new Promise((resolve, reject) => {
    const conn = new Connection({
      server: cfg.host,
      authentication: { type: 'default', options: { userName: cfg.user, password: cfg.password } },
      options: {
        port: cfg.port,
        database: cfg.database,
        encrypt: encrypt,
        trustServerCertificate: true,
        connectTimeout: 10000,
        requestTimeout: 20000,
        rowCollectionOnRequestCompletion: true,
        useColumnNames: false,
      },
    });
    conn.on('connect', (err) => (err ? reject(err) : resolve(conn)));
    conn.connect();
  });
}

// run executes a request and resolves with its rows as plain values.
function run(conn, sql, params, how) {
  return new Promise((resolve, reject) => {
    const req = new Request(sql, (err, rowCount, rows) => {
      if (err) return reject(err);
      resolve((rows || []).map((r) => r.map((c) => plain(c.value))));
    });
    for (const p of params || []) req.addParameter(p[0], p[1], p[2], p[3]);
    if (how === 'batch') conn.execSqlBatch(req);
    else conn.execSql(req);
  });
}

function plain(v) {
  if (v instanceof Date) return v.toISOString();
  if (v === null || v === undefined) return null;
  return String(v);
}

function errInfo(err) {
  return { number: err.number, state: err.state, class: err.class, message: err.message, code: err.code };
}

async function main() {
  const out = {};
  const conn = await connect(cfg.encrypt);
  out.version = (await run(conn, 'SELECT @@VERSION, @@SPID, DB_NAME()', [], 'batch'))[0];
  out.stock = await run(conn,
    'SELECT TOP (@n) ItemCode, WhsCode, OnHand FROM OITW WITH (NOLOCK) WHERE ItemCode > @item OR (ItemCode = @item AND WhsCode > @whs) ORDER BY ItemCode, WhsCode',
    [['n', TYPES.Int, 4], ['item', TYPES.NVarChar, 'A-001'], ['whs', TYPES.NVarChar, '01']]);
  out.typed = await run(conn,
    'SELECT w.ItemCode, w.OnHand, i.UpdateDate FROM OITW w JOIN OITM i ON i.ItemCode = w.ItemCode WHERE w.OnHand >= @min AND i.UpdateDate >= @since AND w.WhsCode = @whs ORDER BY 1',
    [['min', TYPES.Decimal, 10.5, { precision: 19, scale: 6 }], ['since', TYPES.DateTime, new Date(Date.UTC(2000, 0, 1))], ['whs', TYPES.VarChar, '01']]);
  out.values = (await run(conn, 'SELECT CAST(12.5 AS numeric(19,6)), CAST(\'20240131 12:00\' AS datetime), CAST(1 AS bit), N\'Café 🎁\', CAST(7 AS bigint), CAST(NULL AS int)', []))[0];
  try {
    await run(conn, 'SELECT * FROM NOPE', []);
    out.error = null;
  } catch (err) {
    out.error = errInfo(err);
  }
  out.afterError = (await run(conn, 'SELECT 1', []))[0];

  // sp_prepare / sp_execute / sp_unprepare.
  out.prepared = await new Promise((resolve, reject) => {
    const rows = [];
    let runs = 0;
    const req = new Request('SELECT ItemCode FROM OITM WHERE ItemCode = @code', (err, rowCount, r) => {
      if (err) return reject(err);
      for (const row of r || []) rows.push(row.map((c) => plain(c.value)));
      runs++;
      // The callback runs after each execute and after the unprepare.
      if (runs === 1) {
        conn.execute(req, { code: 'a-002' });
      } else if (runs === 2) {
        conn.unprepare(req);
      } else {
        resolve({ handle: req.handle, rows });
      }
    });
    req.addParameter('code', TYPES.NVarChar);
    req.on('prepared', () => conn.execute(req, { code: 'A-001' }));
    conn.prepare(req);
  }).catch((err) => ({ error: errInfo(err) }));

  // A transaction through TM requests.
  out.tran = await new Promise((resolve, reject) => {
    conn.beginTransaction((err) => {
      if (err) return reject(err);
      run(conn, 'SELECT @@TRANCOUNT', []).then((rows) => {
        conn.commitTransaction((err2) => (err2 ? reject(err2) : resolve(rows[0])));
      }, reject);
    }, 'tx', 5 /* SNAPSHOT */);
  }).catch((err) => ({ error: errInfo(err) }));

  // Cancel (Attention) in the middle of a result, then go on.
  out.cancel = await new Promise((resolve) => {
    let n = 0;
    const req = new Request('SELECT a.ItemCode, b.ItemCode FROM OITM a CROSS JOIN OITM b CROSS JOIN OITW c', (err) => {
      resolve({ rows: n, code: err ? err.code : null });
    });
    req.on('row', () => {
      n++;
      if (n === 10) conn.cancel();
    });
    conn.execSql(req);
  });
  out.afterCancel = (await run(conn, 'SELECT COUNT(*) FROM OWHS', []))[0];
  conn.close();

  if (cfg.encryptToo) {
    const tlsConn = await connect(true);
    out.encrypted = (await run(tlsConn, 'SELECT COUNT(*) FROM OITM WHERE ItemCode LIKE @p', [['p', TYPES.NVarChar, 'a-00%']]))[0];
    tlsConn.close();
  }
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
}

main().catch((err) => {
  // Exit at once: an open connection would keep Node running.
  process.stdout.write(JSON.stringify({ fatal: String(err && err.stack || err), info: err && errInfo(err) }), () => process.exit(1));
});
