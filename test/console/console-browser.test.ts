import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { type Browser, launchChromium } from '../helpers/chromium.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitForValue } from '../helpers/wait-for.js';

/** Screenshots of every page, kept as test artifacts (git-ignored), not committed. */
const artifacts = join(repoRoot, 'test-artifacts', 'console');
const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">';

/**
 * The console in a real headless Chromium against a real platform: what an operator does, in
 * order, on one signed-in page.
 */
describe('console in headless Chromium', () => {
  let platform: RunningPlatform;
  let browser: Browser;
  let page: Page;
  let cwd: string;
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;

  const cli = (...args: string[]) => runCli(args, { cwd, env });
  const shot = (name: string) =>
    page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  const invokeEvent = async (name: string, payload: unknown): Promise<string> => {
    const res = await fetch(`${platform.url}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'x-amz-invocation-type': 'Event' },
      body: JSON.stringify(payload),
    });
    assert.equal(res.status, 202);
    return res.headers.get('x-amzn-requestid')!;
  };
  const reaches = (id: string, status: string, ms = 20_000) =>
    waitForValue(
      async () => ((await platform.records.get(id))?.status === status ? true : undefined),
      `${id} ${status}`,
      ms,
    );
  const writeService = (memorySize: number) =>
    writeFile(
      join(cwd, 'serverless.yml'),
      [
        'service: shop',
        'provider: { name: aws, runtime: nodejs20.x }',
        'functions:',
        '  echo:',
        '    handler: handler.echo',
        `    memorySize: ${memorySize}`,
        '    events:',
        '      - httpApi: GET /hello',
        '  bad:',
        '    handler: handler.bad',
        '    maximumRetryAttempts: 0',
        '  retried:',
        '    handler: handler.bad',
        '    maximumRetryAttempts: 2',
        '',
      ].join('\n'),
    );

  before(async () => {
    await mkdir(artifacts, { recursive: true });
    const tmp = await makeTempDir();
    cwd = join(tmp.dir, 'svc');
    await mkdir(cwd);
    await writeService(128);
    await writeFile(
      join(cwd, 'handler.js'),
      [
        "exports.echo = async (e) => { console.log('echo ' + (e && e.msg)); return { echoed: e }; };",
        "exports.bad = async () => { throw new RangeError('always'); };",
        '',
      ].join('\n'),
    );
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
      // Retries wait long enough for the test to stop one while it waits.
      asyncRetryDelayMs: 120_000,
    });
    env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('dialog', (d) => void d.accept());
    cleanup = async () => {
      await browser.close();
      await platform.close();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  test('without a session every page shows the sign-in form and no data', async (t) => {
    for (const hash of ['', '#/platform', '#/tasks', '#/functions/x']) {
      await page.goto(`${platform.url}/console/${hash}`);
      await page.getByLabel('Admin token').waitFor();
      assert.equal(await page.locator('nav').count(), 0);
    }
    await shot('sign-in');
    // First paint on the loopback, the browser already running. The target is 300 ms (measured
    // 292 ms at load average 18 on 2 cores); the test holds a looser bound so a busy CI machine
    // does not fail it, while a render-blocking regression (seconds) still does.
    await page.reload();
    await page.getByLabel('Admin token').waitFor();
    const firstPaint = await page.evaluate<number>(
      "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1",
    );
    t.diagnostic(`first contentful paint ${Math.round(firstPaint)} ms`);
    assert.ok(firstPaint > 0 && firstPaint < 1000, `first paint took ${firstPaint} ms`);
  });

  test('sign in: an HttpOnly, SameSite=Strict session cookie; the token is nowhere in the page', async () => {
    await page.goto(`${platform.url}/console/#/`);
    await page.getByLabel('Admin token').fill('wrong-token-of-enough-length');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('wrong admin token').waitFor();
    await page.getByLabel('Admin token').fill(platform.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Services' }).waitFor();
    const cookies = await browser.context.cookies(`${platform.url}/console/`);
    assert.equal(cookies.length, 1);
    const [cookie] = cookies;
    assert.equal(cookie!.name, 'nimbus_console');
    assert.equal(cookie!.httpOnly, true);
    assert.equal(cookie!.sameSite, 'Strict');
    assert.equal(cookie!.path, '/console');
    assert.notEqual(cookie!.value, platform.adminToken);
    assert.equal(await page.evaluate('document.cookie'), '');
    assert.ok(!(await page.content()).includes(platform.adminToken));
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...localStorage, ...sessionStorage })',
    );
    assert.ok(!stored.includes(platform.adminToken));
  });

  test('a service deployed through the CLI appears, with clickable endpoints and functions', async () => {
    await page.getByText('No service is deployed yet').waitFor();
    const deployed = await cli('deploy');
    assert.equal(deployed.code, 0, deployed.stderr);
    await page.reload();
    const card = page.locator('[data-service="shop"]');
    await card.waitFor();
    const endpoint = card.getByRole('link', { name: /GET - http:\/\/.*\/hello$/ }).first();
    assert.match((await endpoint.getAttribute('href'))!, /^http:\/\/.*\/hello$/);
    await shot('services');
    await card.getByRole('link', { name: 'shop dev', exact: true }).click();
    await page.getByRole('heading', { name: 'Deployments' }).waitFor();
  });

  test('deployment history: a diff of two deployments, and a rollback', async () => {
    await writeService(256);
    const again = await cli('deploy');
    assert.equal(again.code, 0, again.stderr);
    await page.reload();
    const boxes = page.getByRole('checkbox');
    await waitForValue(async () => ((await boxes.count()) === 2 ? true : undefined), 'two rows');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    const diff = page.getByLabel('deployment diff');
    await diff.getByText('definition.functions.echo.memorySize').waitFor();
    assert.match((await diff.textContent()) ?? '', /128\s*256/);
    await shot('deployments');
    await page.getByRole('button', { name: 'Roll back to this' }).click();
    await page.getByText(/^Rolled back to/).waitFor();
    const current = await fetch(`${platform.url}/v1/functions/shop-dev-echo`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    const view = (await current.json()) as {
      versions: { version: number; config: { memorySize: number } }[];
      function: { version: number };
    };
    const live = view.versions.find((v) => v.version === view.function.version)!;
    assert.equal(live.config.memorySize, 128);
  });

  test('function page: invoke from the console and watch the log line arrive live, escaped', async () => {
    await page.goto(`${platform.url}/console/#/functions/shop-dev-echo`);
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    const logs = page.getByLabel('live logs');
    await logs.getByText('live').waitFor();
    await page.getByLabel('Payload (JSON)').fill(JSON.stringify({ msg: hostile }));
    await page.getByLabel('event name').fill('hostile');
    await page.getByRole('button', { name: 'Save event' }).click();
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    const result = page.getByTestId('invoke-result');
    await result.getByText('Status 200').waitFor();
    assert.match((await result.textContent()) ?? '', /succeeded/);
    const line = page.getByTestId('log-lines').getByText(`echo ${hostile}`);
    await line.waitFor({ timeout: 15_000 });
    // Rendered as text: no element came out of the line, and nothing of it ran.
    assert.equal(await page.getByTestId('log-lines').locator('script, img').count(), 0);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    // The saved test event is in this browser's storage.
    const saved = await page.evaluate<string>(
      "localStorage.getItem('nimbus.console.testEvents.shop-dev-echo')",
    );
    assert.match(saved!, /hostile/);
    await logs.getByLabel('filter log lines').fill('no-such-text');
    await logs.getByText('No lines yet.').waitFor();
    await logs.getByLabel('filter log lines').fill('echo');
    await line.waitFor();
  });

  test('charts render the rollups with data', async () => {
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    const invocations = page.locator('figure[data-chart="Invocations"]');
    await invocations.getByText(/total [1-9]/).waitFor();
    const tall = await invocations
      .locator('rect.bar')
      .evaluateAll((bars) => bars.filter((b) => Number(b.getAttribute('height')) > 0).length);
    assert.ok(tall >= 1, 'at least one invocations bar has height');
    assert.equal(await page.locator('figure.chart svg').count(), 6);
    // The invocation made from the console is listed from its REPORT line.
    const runs = page.getByRole('table', { name: 'recent invocations' });
    await page
      .getByRole('heading', { name: /^Recent invocations/ })
      .getByRole('button', { name: 'Refresh' })
      .click();
    await runs.locator('tr[data-status="ok"]').first().waitFor();
    await shot('function');
  });

  test('async tasks: stop a task waiting to retry, redrive a dead letter', async () => {
    const waiting = await invokeEvent('shop-dev-retried', {});
    await reaches(waiting, 'Retrying');
    await page.goto(`${platform.url}/console/#/tasks/${waiting}`);
    await page.getByTestId('task-status').getByText('Retrying').waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('task-status').getByText('Stopped').waitFor();
    assert.equal((await platform.records.get(waiting))?.status, 'Stopped');
    await shot('task');

    const dead = await invokeEvent('shop-dev-bad', {});
    await reaches(dead, 'Failed');
    const failedAt = (await platform.records.get(dead))!.updatedAt;
    await page.goto(`${platform.url}/console/#/tasks`);
    await page.getByLabel('Function').selectOption('shop-dev-bad');
    const letters = page.getByLabel('dead letters');
    await letters.locator('[data-dead-letter]').first().waitFor();
    await shot('tasks');
    await letters.getByRole('button', { name: 'Redrive', exact: true }).click();
    await page.getByText('Redrove 1 dead letter.').waitFor();
    // Redriven, its record is reopened and it runs again (this handler fails again).
    await waitForValue(
      async () => ((await platform.records.get(dead))!.updatedAt > failedAt ? true : undefined),
      'the redriven event to be reopened',
    );
  });

  test('platform page: instances by state and queue depths from /metrics', async () => {
    // A warm instance to count, however long the tests before took (idle ones are reaped).
    await platform.invoker.invoke('shop-dev-echo', undefined, { payload: '{}' });
    await page.goto(`${platform.url}/console/#/platform`);
    const instances = page.getByLabel('instances');
    await instances.locator('dd[data-state="idle"]').waitFor();
    // The card shows zeros until /metrics has answered: wait for the echo instance to count.
    await waitForValue(async () => {
      const total = await instances
        .locator('dd')
        .evaluateAll((dds) => dds.reduce((n, d) => n + Number(d.textContent), 0));
      return total >= 1 ? true : undefined;
    }, 'the echo instance to be counted');
    await page.getByRole('heading', { name: 'Circuit breakers' }).waitFor();
    assert.equal(await page.locator('dd[data-metric="rate-limited"]').textContent(), '0');
    // The deployed code and the log lines of the invocations above take room on disk.
    assert.match(
      (await page.locator('dd[data-disk="blobs"]').textContent()) ?? '',
      /^[1-9][\d.]* (B|KiB|MiB)$/,
    );
    assert.match(
      (await page.locator('dd[data-disk="logs"]').textContent()) ?? '',
      /^[1-9][\d.]* (B|KiB|MiB)$/,
    );
    await page.getByRole('heading', { name: 'Event source lag' }).waitFor();
    await shot('platform');
  });

  test('keyboard: the navigation is reachable with Tab and followed with Enter', async () => {
    await page.goto(`${platform.url}/console/#/platform`);
    await page.getByRole('heading', { name: 'Platform' }).waitFor();
    let reached = false;
    for (let i = 0; i < 6 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate<boolean>(
        "document.activeElement?.textContent === 'Async tasks'",
      );
    }
    assert.ok(reached, 'Async tasks link reached by Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Async tasks' }).waitFor();
  });

  test('a phone-sized screen gets one column and no sideways page scroll', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${platform.url}/console/#/functions/shop-dev-echo`);
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await shot('function-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  test('sign out: the form is back and the old cookie opens nothing', async () => {
    const [cookie] = await browser.context.cookies(`${platform.url}/console/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    const res = await fetch(`${platform.url}/console/api/v1/services`, {
      headers: { cookie: `nimbus_console=${cookie!.value}` },
    });
    assert.equal(res.status, 401);
    assert.deepEqual(await browser.context.cookies(`${platform.url}/console/`), []);
  });

  test('a read-only access key: the pages show, the buttons that change things do not', async () => {
    const made = await fetch(`${platform.url}/v1/keys`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ description: 'viewer', scope: { readOnly: true } }),
    });
    const { key } = (await made.json()) as { key: { id: string; secret: string } };
    await page.goto(`${platform.url}/console/#/functions/shop-dev-echo`);
    await page.getByLabel('read-only access key', { exact: true }).check();
    await page.getByLabel('Access key id').fill(key.id);
    await page.getByLabel('Secret access key').fill(key.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    await page.getByText('read-only', { exact: true }).waitFor();
    assert.equal(await page.getByRole('article', { name: 'test invoke' }).count(), 0);
    assert.ok(!(await page.content()).includes(key.secret));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
  });
});
