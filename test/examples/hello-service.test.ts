import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The shipped example, deployed for real: every runtime, behind both kinds of route. */
describe('examples/hello-service on a real platform', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;
  let base: string;

  before(async () => {
    const tmp = await makeTempDir();
    const serviceDir = join(tmp.dir, 'hello-service');
    await cp(join(repoRoot, 'examples', 'hello-service'), serviceDir, { recursive: true });
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
    });
    const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    const deployed = await runCli(['deploy'], { cwd: serviceDir, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    base = `${platform.url}/hello-dev`;
    cleanup = async () => {
      await platform.close();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  const cases: [string, RegExp][] = [
    ['cjs', /Hello from CommonJS/],
    ['esm', /Hello from an ES module/],
    ['users/42', /"name":"user-42"/],
    ['python', /Hello from Python/],
    ['shell', /Hello from a shell script/],
  ];
  for (const [path, expected] of cases) {
    test(`GET ${path} answers on the httpApi route and the http route`, async () => {
      for (const url of [`${base}/${path}`, `${base}/rest/${path}`]) {
        const res = await fetch(url);
        const text = await res.text();
        assert.equal(res.status, 200, `${url}: ${text}`);
        assert.match(text, expected, url);
      }
    });
  }

  test('module state is kept between invocations of a warm instance', async () => {
    const first = (await (await fetch(`${base}/cjs`)).json()) as { calls: number };
    const second = (await (await fetch(`${base}/cjs`)).json()) as { calls: number };
    assert.equal(second.calls, first.calls + 1);
  });

  test('query strings reach the function; unknown routes are 404', async () => {
    const res = (await (await fetch(`${base}/esm?a=1&a=2&b=x`)).json()) as { query: Record<string, string> };
    assert.deepEqual(res.query, { a: '1,2', b: 'x' });
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { message: 'Not Found' });
  });
});
