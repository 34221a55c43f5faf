/** Bounds that hold whatever asks: the platform cap, starts at once, dead idle instances. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { FunctionTarget, InvokeResult } from '../../src/model/invocation.js';
import { InstancePool, type PoolInstance } from '../../src/platform/pool/instance-pool.js';
import { StartGate } from '../../src/platform/pool/start-gate.js';
import { startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

const target: FunctionTarget = {
  functionName: 'svc-dev-fn',
  version: '1',
  runtime: 'nodejs20.x',
  runtimeFamily: 'nodejs',
  handler: 'handler.fn',
  memorySize: 128,
  timeout: 3,
  environment: {},
  region: 'us-east-1',
  codeDir: '/nonexistent',
};

class Idle implements PoolInstance {
  state: PoolInstance['state'] = 'idle';
  alive = true;
  invoked = 0;
  constructor(readonly id: string) {}
  async invoke(): Promise<InvokeResult> {
    this.invoked++;
    return {
      outcome: { status: 'ok', payload: `"${this.id}"` },
      executedVersion: '1',
      durationMs: 1,
      maxMemoryUsedMb: 1,
    };
  }
  async stop(): Promise<void> {
    this.state = 'dead';
  }
}

describe('pool bounds', () => {
  test('provisioned concurrency never passes the platform cap, and starts run 4 at a time', async () => {
    let running = 0;
    let peak = 0;
    let made = 0;
    const pool = new InstancePool({
      clock: { now: () => 0 },
      idleTimeoutMs: 60_000,
      holdMs: 0,
      maxInstances: 30,
      factory: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return new Idle(`i${made++}`);
      },
    });
    await pool.provision(target, 100_000);
    assert.equal(pool.countFor('svc-dev-fn', '1'), 30);
    assert.equal(made, 30);
    assert.equal(peak, 4);
    assert.equal(pool.peakConcurrentStarts, 4);
    await pool.close();
  });

  test('the start gate hands slots on in order and never runs more than its limit', async () => {
    const gate = new StartGate(2);
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        gate.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 1));
          order.push(i);
          running--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('an idle instance whose process is gone is dropped, not handed the request', async () => {
    const made: Idle[] = [];
    const pool = new InstancePool({
      clock: { now: () => 0 },
      idleTimeoutMs: 60_000,
      holdMs: 0,
      maxInstances: 10,
      factory: async () => {
        const i = new Idle(`i${made.length}`);
        made.push(i);
        return i;
      },
    });
    const req = () => ({ requestId: 'r', payload: '{}', deadlineMs: Date.now() + 10_000 });
    await pool.invoke(target, req());
    made[0]!.alive = false; // exited, `state` not yet told
    const second = await pool.invoke(target, req());
    assert.deepEqual(second.outcome, { status: 'ok', payload: '"i1"' });
    assert.equal(made[0]!.invoked, 1);
    await pool.close();
  });

  test('a real handler that exits after answering: every request succeeds', async () => {
    const tmp = await makeTempDir();
    const platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
    });
    try {
      const cwd = join(tmp.dir, 'svc');
      await mkdir(cwd);
      await writeFile(
        join(cwd, 'serverless.yml'),
        'service: quitter\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  once:\n    handler: handler.once\n',
      );
      await writeFile(
        join(cwd, 'handler.js'),
        'exports.once = async () => { setTimeout(() => process.exit(0), 0); return process.pid; };\n',
      );
      const env = {
        HOME: tmp.dir,
        NIMBUS_ENDPOINT: platform.url,
        NIMBUS_TOKEN: platform.adminToken,
      };
      assert.equal((await runCli(['deploy'], { cwd, env })).code, 0);
      for (let i = 0; i < 3; i++) {
        const res = await platform.invoker.invoke('quitter-dev-once', undefined, { payload: '{}' });
        assert.equal(
          res.result.outcome.status,
          'ok',
          `request ${i}: ${JSON.stringify(res.result.outcome)}`,
        );
        const pid = Number((res.result.outcome as { payload: string }).payload);
        // The process is gone (reaped by the platform) before the next request, which must not be
        // given to it. Before the liveness check every second request failed with ExitError.
        await waitUntil(() => !existsSync(`/proc/${pid}`), `pid ${pid} reaped`);
      }
    } finally {
      await platform.close();
      await tmp.cleanup();
    }
  });
});
