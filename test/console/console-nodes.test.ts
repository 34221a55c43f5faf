import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { type Browser, launchChromium } from '../helpers/chromium.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { repoRoot } from '../helpers/repo-root.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const artifacts = join(repoRoot, 'test-artifacts', 'console');

/**
 * The console's node view in a real headless Chromium, on a two-node cluster (one PostgreSQL
 * schema): the platform page lists both nodes as `nimbus cluster status` does, through the
 * console's proxy to `GET /v1/cluster/nodes`.
 */
describe('console: the nodes of a two-node PostgreSQL cluster', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let n1: RunningPlatform;
  let n2: RunningPlatform;
  let browser: Browser;
  before(async () => {
    await mkdir(artifacts, { recursive: true });
    const tmp = await makeTempDir();
    const pg = await makeTestSchema();
    cleanups.push(tmp.cleanup, pg.drop);
    const shared = {
      adminToken: randomBytes(24).toString('hex'),
      masterKey: randomBytes(32).toString('base64'),
    };
    const start = async (name: string) => {
      const node = await startPlatform({
        host: '127.0.0.1',
        port: 0,
        dataDir: join(tmp.dir, name),
        databaseUrl: `${pg.url}?schema=${pg.schema}`,
        nodeName: name,
        logger: pino({ level: 'silent' }),
        ...shared,
        instanceFactory: async () => {
          throw new Error('this test runs no functions');
        },
      });
      cleanups.push(() => node.close());
      return node;
    };
    // One after the other: the first migrates the fresh schema.
    n1 = await start('node-one');
    n2 = await start('node-two');
    browser = await launchChromium();
    cleanups.push(() => browser.close());
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  test('the platform page lists both nodes, then shows the one stopped', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${n1.url}/console/#/platform`);
    await page.getByLabel('Admin token').fill(n1.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('heading', { name: /^Nodes \(cluster, answered by node-one\)$/ })
      .waitFor();
    const table = page.getByRole('table', { name: 'nodes' });
    const row = (name: string) => table.locator(`tr[data-node="${name}"]`);
    await row('node-two').waitFor();
    for (const name of ['node-one', 'node-two']) {
      assert.equal(await row(name).getAttribute('data-health'), 'up', name);
      assert.match((await row(name).textContent()) ?? '', /up\d+\.\d+\.\d+/);
      assert.match(
        (await row(name).locator('td[data-load="instances"]').textContent()) ?? '',
        /^\d+$/,
      );
    }
    assert.match((await row('node-one').textContent()) ?? '', /\(this node\)/);
    assert.match(
      (await row('node-two').textContent()) ?? '',
      new RegExp(n2.url.replace(/\./g, '\\.')),
    );
    await page.screenshot({ path: join(artifacts, 'nodes.png'), fullPage: true });

    // A clean stop marks the node stopped in the shared table; Refresh shows it.
    await n2.close();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await table.locator('tr[data-node="node-two"][data-health="stopped"]').waitFor();
    assert.equal(await row('node-one').getAttribute('data-health'), 'up');
    await page.close();
  });
});
