/**
 * Issue 9: an Express service deployed before `npm install`. Its module fails at import; the
 * gateway, the Invoke API and `nimbus invoke` must answer with the init error at once, and the
 * platform must not start instances of it in a loop.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../../src/model/clock.js';
import { processInstanceFactory } from '../../src/platform/pool/process-instance-factory.js';
import type { RunningPlatform } from '../../src/platform/server.js';
import { type DeployedService, startWithService } from '../helpers/cli-platform.js';
import { LogCollector, makeTmpRoot, nobody } from '../runtimes/instance-helpers.js';

const BROKEN = [
  "'use strict';",
  "const serverless = require('serverless-http');",
  "const app = require('express')();",
  "app.get('/', (req, res) => res.send('hello'));",
  'exports.handler = serverless(app);',
  '',
].join('\n');

const FIXED =
  "'use strict';\nexports.handler = async () => ({ statusCode: 200, body: 'hello' });\n";

describe('a function that fails at import, on a real platform', () => {
  let svc: DeployedService;
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;
  const serverLog: string[] = [];
  const functionLogs = new LogCollector();
  const starts: number[] = [];
  let base: string;

  before(async () => {
    const instances = await makeTmpRoot();
    const yml = [
      'service: express',
      'provider:',
      '  name: aws',
      '  runtime: nodejs20.x',
      '  timeout: 3',
      'functions:',
      '  api:',
      '    handler: app.handler',
      '    events:',
      '      - http: GET rest',
      '      - httpApi: GET /',
      '',
    ].join('\n');
    const processes = processInstanceFactory({
      tmpRoot: instances.dir,
      logger: pino({ level: 'silent' }),
      clock: systemClock,
      onLog: functionLogs.onLog,
      runAsUser: nobody,
    });
    svc = await startWithService(
      { 'serverless.yml': yml, 'app.js': BROKEN },
      {
        options: {
          logger: pino({ level: 'warn' }, { write: (line: string) => serverLog.push(line) }),
          // The platform's own process factory, counted.
          instanceFactory: (target, kind) => {
            starts.push(Date.now());
            return processes.create(target, kind);
          },
        },
      },
    );
    platform = svc.platform;
    base = `${platform.url}/express-dev`;
    cleanup = async () => {
      await svc.close();
      processes.close();
      await instances.cleanup();
    };
  });
  after(() => cleanup());

  test('the gateway answers at once: 502 on the REST route, 500 on the HTTP API, and logs why', async () => {
    const sent = Date.now();
    const rest = await fetch(`${base}/rest`);
    assert.equal(rest.status, 502);
    assert.deepEqual(await rest.json(), { message: 'Internal server error' });
    const http = await fetch(`${base}/`);
    assert.equal(http.status, 500);
    assert.deepEqual(await http.json(), { message: 'Internal Server Error' });
    assert.ok(Date.now() - sent < 3000, `answered in ${Date.now() - sent} ms`);
    const why = serverLog.find((line) => line.includes('Runtime.ImportModuleError'));
    assert.ok(why, serverLog.join(''));
    assert.match(why, /Cannot find module 'serverless-http'/);
  });

  test('the Invoke API: 200, X-Amz-Function-Error: Unhandled, the init error', async () => {
    const res = await fetch(`${platform.url}/2015-03-31/functions/express-dev-api/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      body: '{}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    const body = (await res.json()) as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, 'Runtime.ImportModuleError');
    assert.match(body.errorMessage, /Cannot find module 'serverless-http'/);
  });

  test('nimbus invoke prints the error and exits non-zero', async () => {
    const res = await svc.cli('invoke', '-f', 'api');
    assert.equal(res.code, 1);
    assert.equal(JSON.parse(res.stdout).errorType, 'Runtime.ImportModuleError');
    assert.match(res.stderr, /Invoked function failed/);
  });

  test('20 clients for 3 s: every request answered, a handful of starts, one Init Error each', async (t) => {
    const began = Date.now();
    const before = starts.length;
    const linesBefore = initErrorLines();
    const statuses = new Map<number, number>();
    let slowest = 0;
    const client = async () => {
      while (Date.now() - began < 3000) {
        const sent = Date.now();
        const res = await fetch(`${base}/rest`);
        await res.arrayBuffer();
        slowest = Math.max(slowest, Date.now() - sent);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await Promise.all(Array.from({ length: 20 }, client));
    const made = starts.slice(before).filter((at) => at - began < 3000).length;
    t.diagnostic(`${made} starts, ${statuses.get(502)} answers, slowest ${slowest} ms`);
    assert.deepEqual([...statuses.keys()], [502]);
    assert.ok(made <= 6, `${made} starts in 3 s`);
    assert.ok(slowest < 3000 + 1500, `slowest answer ${slowest} ms`);
    assert.equal(initErrorLines() - linesBefore, starts.length - before);
  });

  test('a deploy with the fix is a new version: tried at once, served', async () => {
    await writeFile(join(svc.dir, 'app.js'), FIXED);
    const deployed = await svc.cli('deploy');
    assert.equal(deployed.code, 0, deployed.stderr);
    const res = await fetch(`${base}/rest`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello');
  });

  function initErrorLines(): number {
    return functionLogs.events.filter((e) => e.message.includes('\tERROR\tInit Error \t')).length;
  }
});
