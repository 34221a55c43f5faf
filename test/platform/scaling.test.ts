import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningPlatform } from '../../src/platform/server.js';
import { type DeployedService, startWithService } from '../helpers/cli-platform.js';
import { waitUntil as until } from '../helpers/wait-for.js';

/** Real processes: scale to zero, provisioned concurrency, a new version draining the old. */
describe('instances on a real platform', () => {
  let svc: DeployedService;
  let platform: RunningPlatform;

  before(async () => {
    svc = await startWithService(
      {
        'serverless.yml': [
          'service: scale',
          'provider:',
          '  name: aws',
          '  runtime: nodejs20.x',
          'functions:',
          '  idle:',
          '    handler: handler.idle',
          '  warm:',
          '    handler: handler.warm',
          '    provisionedConcurrency: 2',
          '  boom:',
          '    handler: handler.boom',
          '',
        ].join('\n'),
        'handler.js':
          "exports.idle = async () => 'v1';\nexports.warm = async () => 'warm';\nexports.boom = async () => { throw new TypeError('no good'); };\n",
      },
      { options: { idleTimeoutMs: 300 } },
    );
    platform = svc.platform;
  });
  after(() => svc?.close());

  test('provisioned instances start with the deployment and are never reaped', async () => {
    await until(
      () => platform.pool.countFor('scale-dev-warm', '1') === 2,
      'two provisioned instances',
    );
  });

  test('an idle function scales to zero after the idle timeout', async () => {
    const res = await svc.cli('invoke', '-f', 'idle');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '"v1"\n');
    assert.equal(platform.pool.countFor('scale-dev-idle', '1'), 1);
    await until(() => platform.pool.countFor('scale-dev-idle', '1') === 0, 'scale to zero');
    assert.equal(platform.pool.countFor('scale-dev-warm', '1'), 2, 'provisioned ones stay');
  });

  test('a function error: error JSON, non-zero exit', async () => {
    const res = await svc.cli('invoke', '-f', 'boom');
    assert.equal(res.code, 1);
    const body = JSON.parse(res.stdout);
    assert.equal(body.errorType, 'TypeError');
    assert.equal(body.errorMessage, 'no good');
    assert.ok(Array.isArray(body.stackTrace));
    assert.match(res.stderr, /Invoked function failed/);
  });

  test('invoke -t Event queues the event; unknown keys get the list of functions', async () => {
    const event = await svc.cli('invoke', '-f', 'idle', '-t', 'Event', '--json');
    assert.equal(event.code, 0, event.stderr);
    const { requestId } = JSON.parse(event.stdout) as { requestId: string };
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    const unknown = await svc.cli('invoke', '-f', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /the functions of service "scale" are: idle, warm, boom/);
  });

  test('a new version: the next request runs it, old instances drain', async () => {
    await svc.cli('invoke', '-f', 'idle');
    await writeFile(
      join(svc.dir, 'handler.js'),
      "exports.idle = async () => 'v2';\nexports.warm = async () => 'warm';\nexports.boom = async () => { throw new TypeError('no good'); };\n",
    );
    const deployed = await svc.cli('deploy');
    assert.equal(deployed.code, 0, deployed.stderr);
    const res = await svc.cli('invoke', '-f', 'idle');
    assert.equal(res.stdout, '"v2"\n');
    assert.equal(platform.pool.countFor('scale-dev-idle', '1'), 0, 'old version drained');
    await until(
      () => platform.pool.countFor('scale-dev-warm', '2') === 2,
      'provisioned for version 2',
    );
    assert.equal(platform.pool.countFor('scale-dev-warm', '1'), 0);
  });
});
