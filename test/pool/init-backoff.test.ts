/** Init failures in the pool, on stand-in instances and a hand-moved clock: no sleeping. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  FunctionErrorBody,
  FunctionTarget,
  InvokeRequest,
  InvokeResult,
} from '../../src/model/invocation.js';
import { INIT_BACKOFF_MAX_MS } from '../../src/platform/pool/init-backoff.js';
import { InstancePool, type PoolInstance } from '../../src/platform/pool/instance-pool.js';
import { InstanceStartError } from '../../src/platform/pool/pool-errors.js';

const IMPORT_ERROR: FunctionErrorBody = {
  errorType: 'Runtime.ImportModuleError',
  errorMessage: "Error: Cannot find module 'serverless-http'",
};

function target(version = '1', functionName = 'svc-dev-api'): FunctionTarget {
  return {
    functionName,
    version,
    runtime: 'nodejs20.x',
    runtimeFamily: 'nodejs',
    handler: 'app.handler',
    memorySize: 128,
    timeout: 3,
    environment: {},
    region: 'us-east-1',
    codeDir: '/nonexistent',
  };
}

/** An instance as startInstance gives it: idle, or dead with its init error not yet told. */
class StubInstance implements PoolInstance {
  state: PoolInstance['state'];
  #pending: boolean;
  constructor(
    readonly id: string,
    readonly initError: FunctionErrorBody | undefined,
  ) {
    this.state = initError ? 'dead' : 'idle';
    this.#pending = initError !== undefined;
  }
  async invoke(req: InvokeRequest): Promise<InvokeResult> {
    if (this.initError && this.#pending) {
      this.#pending = false;
      return { outcome: { status: 'error', error: this.initError }, ...rest(req) };
    }
    if (this.state !== 'idle') throw new Error(`${this.id} is ${this.state}`);
    return { outcome: { status: 'ok', payload: `"${this.id}"` }, ...rest(req) };
  }
  async stop(): Promise<void> {
    this.state = 'dead';
  }
}

function rest(_req: InvokeRequest) {
  return { executedVersion: '1', durationMs: 1, maxMemoryUsedMb: 10 };
}

type Behaviour = 'ok' | 'fail' | 'hold' | FunctionErrorBody | Error;

function harness() {
  let now = 1_000_000;
  let behaviour: Behaviour = 'fail';
  const starts: { version: string; at: number }[] = [];
  const held: (() => void)[] = [];
  const pool = new InstancePool({
    clock: { now: () => now },
    idleTimeoutMs: 60_000,
    maxInstances: 100,
    // Bursts here are counted in starts; CPU-aware holding is tested in instance-pool.test.ts.
    holdMs: 0,
    factory: async (t) => {
      starts.push({ version: t.version, at: now });
      const id = `i${starts.length}`;
      const b = behaviour;
      if (b instanceof Error) throw b;
      if (typeof b === 'object')
        throw Object.assign(new Error('no bootstrap'), { functionError: b });
      if (b === 'hold') {
        return new Promise((resolve) =>
          held.push(() => resolve(new StubInstance(id, IMPORT_ERROR))),
        );
      }
      return new StubInstance(id, b === 'fail' ? IMPORT_ERROR : undefined);
    },
  });
  let n = 0;
  const req = (overrides: Partial<InvokeRequest> = {}): InvokeRequest => ({
    requestId: `r${n++}`,
    payload: '{}',
    deadlineMs: now + 3000,
    ...overrides,
  });
  return {
    pool,
    starts,
    req,
    held,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (b: Behaviour) => {
      behaviour = b;
    },
    /** `count` requests at once; every one must be answered. */
    burst: (count: number, t = target()) =>
      Promise.all(Array.from({ length: count }, () => pool.invoke(t, req()))),
  };
}

function errorType(result: InvokeResult): string {
  assert.equal(result.outcome.status, 'error', JSON.stringify(result.outcome));
  return (result.outcome as { error: FunctionErrorBody }).error.errorType;
}

describe('InstancePool: init failures', () => {
  test('20 concurrent requests against code that cannot load: one start, 20 answers', async () => {
    const h = harness();
    const results = await h.burst(20);
    assert.equal(h.starts.length, 1);
    assert.deepEqual(new Set(results.map(errorType)), new Set(['Runtime.ImportModuleError']));
    assert.deepEqual(
      (results[0]!.outcome as { error: FunctionErrorBody }).error,
      IMPORT_ERROR,
      'the error as the runtime reported it',
    );
    assert.equal(h.pool.stats().instances, 0, 'nothing left running');
  });

  test('starts back off, doubling from 100 ms to 30 s; requests in between fail fast', async () => {
    const h = harness();
    await h.burst(5);
    const waits = [100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000];
    for (const wait of waits) {
      const before = h.starts.length;
      h.advance(wait - 1);
      const early = await h.burst(5);
      assert.equal(h.starts.length, before, `no start ${wait - 1} ms after the failure`);
      assert.equal(errorType(early[0]!), 'Runtime.ImportModuleError');
      h.advance(1);
      await h.burst(5);
      assert.equal(h.starts.length, before + 1, `one start ${wait} ms after the failure`);
    }
    assert.equal(waits.at(-1), INIT_BACKOFF_MAX_MS);
  });

  test('a successful init resets the back-off and lets bursts start in parallel again', async () => {
    const h = harness();
    await h.burst(3);
    h.advance(100);
    await h.burst(3);
    h.advance(200);
    h.set('ok');
    const served = await h.burst(10);
    assert.equal(served.filter((r) => r.outcome.status === 'ok').length, 10);
    // One probe, then the other nine together once it was up.
    assert.equal(h.starts.length, 2 + 10);
    h.set('fail');
    const starts = h.starts.length;
    await h.pool.reap();
    h.advance(60_000);
    await h.pool.reap();
    const after = await h.burst(4);
    assert.equal(errorType(after[0]!), 'Runtime.ImportModuleError');
    assert.ok(h.starts.length - starts <= 4);
    h.advance(100);
    await h.burst(1);
    assert.equal(h.starts.length - starts, 4 + 1, 'the back-off starts over at 100 ms');
  });

  test('a new version is a new key; retire and removeFunction forget the failures', async () => {
    const h = harness();
    await h.burst(2, target('1'));
    await h.burst(2, target('1'));
    assert.equal(h.starts.length, 1);
    await h.burst(2, target('2'));
    assert.equal(h.starts.length, 2, 'the deploy of version 2 is tried at once');
    await h.pool.retire('svc-dev-api', new Set(['2']));
    await h.burst(1, target('1'));
    assert.equal(h.starts.length, 3, 'a retired version brought back is tried at once');
    await h.pool.removeFunction('svc-dev-api');
    await h.burst(1, target('2'));
    assert.equal(h.starts.length, 4);
  });

  test('a provided package without a bootstrap is the function’s error, backed off too', async () => {
    const h = harness();
    const invalid = {
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: "Couldn't find valid bootstrap(s): [code/bootstrap]",
    };
    h.set(invalid);
    const results = await h.burst(6);
    assert.equal(h.starts.length, 1);
    for (const r of results) assert.deepEqual((r.outcome as { error: unknown }).error, invalid);
  });

  test('a platform failure to start stays an InstanceStartError, and is not backed off', async () => {
    const h = harness();
    h.set(new Error('spawn ENOENT'));
    await assert.rejects(h.pool.invoke(target(), h.req()), InstanceStartError);
    await assert.rejects(h.pool.invoke(target(), h.req()), InstanceStartError);
    assert.equal(h.starts.length, 2);
  });

  test('a request waiting on an init that does not end is answered at its deadline', async () => {
    const h = harness();
    h.set('hold');
    const started = Date.now();
    // The pool's deadline timers do not hold the process open; a server's sockets would.
    const keepAlive = setInterval(() => {}, 1000);
    const results = await Promise.all([
      h.pool.invoke(target(), h.req({ deadlineMs: h.now() + 50 })),
      h.pool.invoke(target(), h.req({ deadlineMs: h.now() + 80 })),
    ]).finally(() => clearInterval(keepAlive));
    assert.ok(Date.now() - started < 2000);
    for (const r of results) {
      assert.equal(errorType(r), 'Sandbox.Timedout');
      assert.match(
        (r.outcome as { error: FunctionErrorBody }).error.errorMessage,
        /Task timed out after 3\.00 seconds$/,
      );
    }
    assert.equal(h.starts.length, 1, 'one start for both');
    for (const release of h.held.splice(0)) release();
    await new Promise((r) => setImmediate(r));
    assert.equal(h.pool.stats().instances, 0);
  });
});
