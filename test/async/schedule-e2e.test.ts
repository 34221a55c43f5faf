import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The aws-node-scheduled-cron service shape on a real platform. The platform's clock is set to
 * 6 s before a minute boundary, so `rate(1 minute)` and `cron(* * * * ? *)` are due within
 * seconds instead of within a minute, with room for a slow deploy on a loaded machine (a deploy
 * that landed after the boundary would wait for the next minute).
 */
test('rate and cron schedules fire on time with the EventBridge scheduled event', async () => {
  const tmp = await makeTempDir();
  const realNow = Date.now();
  const offset = Math.ceil(realNow / 60_000) * 60_000 + 60_000 - 6000 - realNow;
  const platform = await startPlatform({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(tmp.dir, 'data'),
    logger: pino({ level: 'silent' }),
    clock: { now: () => Date.now() + offset },
  });
  try {
    const cwd = join(tmp.dir, 'svc');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      [
        'service: cron',
        'provider: { name: aws, runtime: nodejs20.x }',
        'functions:',
        '  rateHandler:',
        '    handler: handler.run',
        '    events:',
        '      - schedule: rate(1 minute)',
        '  cronHandler:',
        '    handler: handler.run',
        '    events:',
        '      - schedule:',
        "          rate: 'cron(* * * * ? *)'",
        '          input: { from: cron }',
        '',
      ].join('\n'),
    );
    await writeFile(join(cwd, 'handler.js'), 'exports.run = async (event) => event;\n');
    const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);

    const firstResult = async (fn: string) => {
      const deadline = Date.now() + 25_000;
      for (;;) {
        const [done] = await platform.records.list(fn, { status: 'Succeeded', limit: 1 });
        if (done) return JSON.parse(done.result!);
        if (Date.now() > deadline) throw new Error(`${fn} never fired`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const scheduled = await firstResult('cron-dev-rateHandler');
    assert.equal(scheduled['detail-type'], 'Scheduled Event');
    assert.equal(scheduled.source, 'aws.events');
    assert.match(scheduled.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
    assert.equal(new Date(scheduled.time).getTime() % 60_000, 0, 'fired for the minute slot');
    assert.deepEqual(
      await firstResult('cron-dev-cronHandler'),
      { from: 'cron' },
      'input replaces the event',
    );
  } finally {
    await platform.close();
    await tmp.cleanup();
  }
});
