// Scenario 3 helpers: Event invocations through the Invoke API, and counting their task records.
// Senders use keep-alive connections on 127.0.0.1; completion is polled from the store file
// read-only in the bench process (so polling costs the server nothing), and the outcome is then
// checked through the control API, record by record.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NIMBUS_ROOT } from './systems.mjs';

/** One HTTP request with a body; resolves {status, headers, body}. */
function send(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * Fires `count` Event invocations of `fnName` from `senders` concurrent senders, each with one
 * keep-alive connection and one request in flight. Returns the accepted request ids, the
 * refusals, and the wall-clock (Date.now) window from the first send to the last 202.
 */
export async function fireEvents(nimbus, fnName, { count, senders, tag }) {
  const agent = new Agent({ keepAlive: true, maxSockets: senders });
  const url = `${nimbus.url}/2015-03-31/functions/${fnName}/invocations`;
  const ids = [];
  const refused = [];
  let next = 0;
  const wallStart = Date.now();
  const t0 = performance.now();
  let lastAccept = t0;
  const latencies = [];
  const sender = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const body = JSON.stringify({ bench: tag, i });
      const sent = performance.now();
      try {
        const r = await send(agent, url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${nimbus.token}`,
            'x-amz-invocation-type': 'Event',
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          body,
        });
        if (r.status === 202 && r.headers['x-amzn-requestid']) {
          ids.push(r.headers['x-amzn-requestid']);
          lastAccept = performance.now();
          latencies.push(lastAccept - sent);
        } else refused.push(`${r.status} ${r.body.slice(0, 200)}`);
      } catch (error) {
        refused.push(String(error?.message ?? error));
      }
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const acceptP99Ms = latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)]
    : Number.NaN;
  return { ids, refused, wallStart, acceptMs: lastAccept - t0, t0, acceptP99Ms };
}

const finalStatuses = ['Succeeded', 'Failed', 'Expired', 'Stopped'];

/** Folds `{status, n, last}` rows into the counts a trial polls for. */
function tally(rows) {
  const out = { total: 0, final: 0, succeeded: 0, lastUpdate: 0, byStatus: {} };
  for (const r of rows) {
    const n = Number(r.n);
    out.byStatus[r.status] = n;
    out.total += n;
    if (finalStatuses.includes(r.status)) out.final += n;
    if (r.status === 'Succeeded') {
      out.succeeded = n;
      out.lastUpdate = Number(r.last);
    }
  }
  return out;
}

/** Read-only view of the platform's SQLite store: record counts by status, cheap to poll. */
export function openRecordCounter(nimbus) {
  const require = createRequire(join(NIMBUS_ROOT, 'package.json'));
  const Database = require('better-sqlite3');
  const db = new Database(join(nimbus.dataDir, 'nimbus.db'), {
    readonly: true,
    fileMustExist: true,
  });
  const byStatus = db.prepare(
    'SELECT status, count(*) AS n, max(updated_at) AS last FROM async_invocations ' +
      'WHERE function_name = ? AND created_at >= ? GROUP BY status',
  );
  return {
    counts: async (fnName, sinceMs) => tally(byStatus.all(fnName, sinceMs)),
    close: async () => db.close(),
  };
}

/**
 * The stores the async scenario runs against, one row set each (table-driven: a store is a
 * system name, what the server is started with, and how the bench polls its records).
 * `prepare()` returns {env, counter(nimbus), drop()}: PostgreSQL gets a schema of its own per
 * run on BENCH_PG_URL (created here, dropped after), polled over one connection of the bench.
 */
export const ASYNC_STORES = [
  {
    store: 'sqlite',
    system: 'Nimbus',
    describe: 'the embedded SQLite store (synchronous=FULL)',
    targets: { accepted: 5000, completed: 3000 },
    prepare: async () => ({
      env: {},
      counter: openRecordCounter,
      drop: async () => {},
    }),
  },
  {
    store: 'postgres',
    system: 'Nimbus on PostgreSQL',
    describe: 'PostgreSQL (the SQL work queue in its own schema)',
    targets: { completed: 1500 },
    prepare: async () => {
      const require = createRequire(join(NIMBUS_ROOT, 'package.json'));
      const pg = require('pg');
      const pgUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const schema = `bench_async_${randomBytes(4).toString('hex')}`;
      const db = new pg.Client({ connectionString: pgUrl });
      await db.connect();
      await db.query(`CREATE SCHEMA "${schema}"`);
      return {
        env: { NIMBUS_DATABASE_URL: `${pgUrl}?schema=${schema}` },
        counter: () => ({
          counts: async (fnName, sinceMs) => {
            const { rows } = await db.query(
              `SELECT status, count(*)::int AS n, max(updated_at) AS last FROM "${schema}".async_invocations ` +
                'WHERE function_name = $1 AND created_at >= $2 GROUP BY status',
              [fnName, sinceMs],
            );
            return tally(rows);
          },
          close: async () => {},
        }),
        drop: async () => {
          await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
          await db.end();
        },
      };
    },
  },
];

/**
 * Checks the outcome through the control API: every accepted id's record
 * (`GET /v1/invocations/{id}`), and the lists of non-final statuses of the function.
 */
export async function verifyThroughApi(nimbus, fnName, ids, { concurrency = 8 } = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const auth = { authorization: `Bearer ${nimbus.token}` };
  const statuses = {};
  let maxUpdatedAt = 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= ids.length) return;
      const r = await send(agent, `${nimbus.url}/v1/invocations/${ids[i]}`, { headers: auth });
      let status = `HTTP ${r.status}`;
      if (r.status === 200) {
        const rec = JSON.parse(r.body);
        status = rec.status;
        maxUpdatedAt = Math.max(maxUpdatedAt, Number(rec.updatedAt) || 0);
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const nonFinal = {};
  for (const s of ['enqueued', 'running', 'retrying', 'failed', 'expired', 'stopped']) {
    const r = await send(
      agent,
      `${nimbus.url}/v1/functions/${fnName}/invocations?status=${s}&limit=1000`,
      {
        headers: auth,
      },
    );
    if (r.status !== 200)
      throw new Error(`GET invocations?status=${s}: ${r.status} ${r.body.slice(0, 200)}`);
    nonFinal[s] = JSON.parse(r.body).invocations.length;
  }
  const page = await send(
    agent,
    `${nimbus.url}/v1/functions/${fnName}/invocations?status=succeeded&limit=1000`,
    {
      headers: auth,
    },
  );
  const succeededPage = page.status === 200 ? JSON.parse(page.body).invocations.length : -1;
  agent.destroy();
  return { statuses, nonFinal, maxUpdatedAt, succeededPage };
}
