// Does a rate limit hold its configured rate under load, and recover? A platform in process on
// SQLite, one function behind an httpApi route limited to RATE requests/second for everyone
// (custom.nimbus.rateLimits), loaded with 16 connections for 6 s: admitted requests per second
// should be RATE ± 10%, the rest 429; after the load stops, the next second admits again.
// `npm run build` first, then `node bench/rate-limit-hold.mjs [rate]`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import pino from 'pino';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const { startPlatform } = await import(`${root}/dist/src/platform/server.js`);
const rate = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(tmpdir(), 'nimbus-bench-rate-'));
const platform = await startPlatform({
  host: '127.0.0.1',
  port: 0,
  dataDir: join(dir, 'data'),
  logger: pino({ level: 'silent' }),
  isolation: process.getuid?.() === 0 ? 'uids' : 'none',
});
try {
  const svc = join(dir, 'svc');
  await mkdir(svc, { recursive: true });
  await writeFile(
    join(svc, 'serverless.yml'),
    `service: limited\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  hello:\n    handler: handler.hello\n    events:\n      - httpApi: GET /\ncustom:\n  nimbus:\n    rateLimits:\n      - function: hello\n        per: all\n        rate: ${rate}\n`,
  );
  await writeFile(
    join(svc, 'handler.js'),
    "exports.hello = async () => ({ statusCode: 200, body: 'ok' });\n",
  );
  // Not execFileSync: the platform answering the deploy runs in this very process.
  await promisify(execFile)(process.execPath, [join(root, 'bin/nimbus.js'), 'deploy'], {
    cwd: svc,
    env: {
      ...process.env,
      HOME: dir,
      NIMBUS_ENDPOINT: platform.url,
      NIMBUS_TOKEN: platform.adminToken,
    },
  });
  const url = `${platform.url}/limited-dev/`;
  const perSecond = new Map();
  const started = Date.now();
  const result = await new Promise((resolve, reject) => {
    const run = autocannon({ url, connections: 16, duration: 6 }, (e, r) =>
      e ? reject(e) : resolve(r),
    );
    run.on('response', (_c, status) => {
      if (status !== 200) return;
      const second = Math.floor((Date.now() - started) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    });
  });
  // Whole seconds only: the first and last are partial.
  const full = [...perSecond.entries()].filter(([s]) => s >= 1 && s <= 4).map(([, n]) => n);
  const mean = full.reduce((a, b) => a + b, 0) / full.length;
  await new Promise((r) => setTimeout(r, 1100));
  const after = await fetch(url);
  console.log(
    JSON.stringify({
      configuredRate: rate,
      admittedPerSecond: full,
      meanAdmitted: Math.round(mean),
      withinTenPercent: Math.abs(mean - rate) <= rate * 0.1,
      refused429: result.non2xx,
      totalRequests: result.requests.total,
      recoveredStatus: after.status,
    }),
  );
} finally {
  await platform.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
