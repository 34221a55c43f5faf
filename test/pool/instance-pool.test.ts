import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FunctionTarget, InvokeRequest, InvokeResult } from '../../src/model/invocation.js';
import { InstancePool, type PoolInstance } from '../../src/platform/pool/instance-pool.js';
import { TooManyRequestsError } from '../../src/platform/pool/pool-errors.js';
import { waitUntil } from '../helpers/wait-for.js';

function target(version = '1', functionName = 'svc-dev-fn'): FunctionTarget {
  return {
    functionName,
    version,
    runtime: 'nodejs20.x',
    runtimeFamily: 'nodejs',
    handler: 'handler.fn',
    memorySize: 128,
    timeout: 3,
    environment: {},
    region: 'us-east-1',
    codeDir: '/nonexistent',
  };
}

/** A controllable stand-in for a process-backed instance. */
class FakeInstance implements PoolInstance {
  state: PoolInstance['state'] = 'idle';
  stopped = false;
  readonly pending: { resolve: (r: InvokeResult) => void }[] = [];
  constructor(
    readonly id: string,
    readonly version: string,
  ) {}
  invoke(_req: InvokeRequest): Promise<InvokeResult> {
    this.state = 'busy';
    return new Promise((resolve) => this.pending.push({ resolve }));
  }
  finish(die = false): void {
    this.state = die ? 'dead' : 'idle';
    this.pending.shift()?.resolve({
      outcome: { status: 'ok', payload: `"${this.id}"` },
      executedVersion: this.version,
      durationMs: 1,
      maxMemoryUsedMb: 10,
    });
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'dead';
  }
}

function harness(
  opts: {
    maxInstances?: number;
    idleTimeoutMs?: number;
    maxInstanceAgeMs?: number;
    cpuSlots?: number;
    holdMs?: number;
  } = {},
) {
  let now = 0;
  const made: FakeInstance[] = [];
  const starts: ((i: FakeInstance) => void)[] = [];
  let autoStart = true;
  const pool = new InstancePool({
    clock: { now: () => now },
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    maxInstances: opts.maxInstances ?? 100,
    // The start gate has tests of its own (pool-bounds.test.ts); here starts are instant fakes.
    maxConcurrentStarts: 1000,
    // CPU-aware holding has tests of its own below; elsewhere every waiting request gets a start
    // at once, whatever the host's core count.
    cpuSlots: opts.cpuSlots ?? 1,
    holdMs: opts.holdMs ?? 0,
    ...(opts.maxInstanceAgeMs === undefined ? {} : { maxInstanceAgeMs: opts.maxInstanceAgeMs }),
    factory: async (t) => {
      const inst = new FakeInstance(`i${made.length}`, t.version);
      made.push(inst);
      if (autoStart) return inst;
      return new Promise((resolve) => starts.push(() => resolve(inst)));
    },
  });
  const req = (id = 'r'): InvokeRequest => ({
    requestId: id,
    payload: '{}',
    deadlineMs: Number.MAX_SAFE_INTEGER,
  });
  const tick = () => new Promise((r) => setImmediate(r));
  return {
    pool,
    made,
    req,
    tick,
    advance: (ms: number) => {
      now += ms;
    },
    holdStarts: () => {
      autoStart = false;
    },
    releaseStarts: () => {
      for (const s of starts.splice(0)) s(undefined as never);
    },
  };
}

describe('InstancePool', () => {
  test('a warm instance is reused; one request per instance', async () => {
    const h = harness();
    const first = h.pool.invoke(target(), h.req());
    await h.tick();
    h.made[0]!.finish();
    assert.equal((await first).executedVersion, '1');
    const second = h.pool.invoke(target(), h.req());
    await h.tick();
    assert.equal(h.made.length, 1, 'no new instance for a sequential request');
    const third = h.pool.invoke(target(), h.req());
    await h.tick();
    assert.equal(h.made.length, 2, 'a concurrent request gets its own instance');
    h.made[0]!.finish();
    h.made[1]!.finish();
    await Promise.all([second, third]);
  });

  test('a burst of 50 against a cold function starts no more instances than requests in flight', async () => {
    const h = harness();
    h.holdStarts();
    const calls = Array.from({ length: 50 }, (_, i) => h.pool.invoke(target(), h.req(`r${i}`)));
    await h.tick();
    assert.equal(h.made.length, 1, 'a version never initialized starts one instance first');
    h.releaseStarts();
    await h.tick();
    assert.equal(h.made.length, 50, 'once it has, the rest of the burst starts together');
    assert.equal(h.pool.stats().starting, 49);
    h.releaseStarts();
    await h.tick();
    for (const inst of h.made) inst.finish();
    await Promise.all(calls);
    assert.equal(h.pool.stats().idle, 50);
    // A second burst of 50 reuses all of them.
    const again = Array.from({ length: 50 }, (_, i) => h.pool.invoke(target(), h.req(`s${i}`)));
    await h.tick();
    assert.equal(h.made.length, 50);
    for (const inst of h.made) inst.finish();
    await Promise.all(again);
  });

  test('an instance freed during a start serves the waiter; the late start then idles', async () => {
    const h = harness();
    const a = h.pool.invoke(target(), h.req('a'));
    await h.tick();
    h.holdStarts();
    const b = h.pool.invoke(target(), h.req('b'));
    await h.tick();
    assert.equal(h.made.length, 2);
    h.made[0]!.finish(); // b takes instance 0
    await a;
    await h.tick();
    h.made[0]!.finish();
    assert.equal((await b).outcome.status, 'ok');
    h.releaseStarts();
    await h.tick();
    assert.equal(h.pool.stats().idle, 2);
  });

  test('reserved concurrency and the platform cap answer 429', async () => {
    const h = harness({ maxInstances: 2 });
    const a = h.pool.invoke(target(), h.req(), { reservedConcurrency: 1 });
    await h.tick();
    await assert.rejects(
      h.pool.invoke(target(), h.req(), { reservedConcurrency: 1 }),
      (e: unknown) =>
        e instanceof TooManyRequestsError &&
        e.reason === 'ReservedFunctionConcurrentInvocationLimitExceeded',
    );
    const b = h.pool.invoke(target('1', 'other'), h.req());
    await h.tick();
    await assert.rejects(
      h.pool.invoke(target('1', 'third'), h.req()),
      (e: unknown) =>
        e instanceof TooManyRequestsError && e.reason === 'ConcurrentInvocationLimitExceeded',
    );
    h.made[0]!.finish();
    h.made[1]!.finish();
    await Promise.all([a, b]);
    // At the cap with idle instances: the least recently used idle one makes room.
    const c = h.pool.invoke(target('1', 'third'), h.req());
    await h.tick();
    assert.equal(h.made[0]!.stopped, true);
    h.made[2]!.finish();
    await c;
  });

  test('idle instances are reaped after the idle timeout: scale to zero; provisioned ones stay', async () => {
    const h = harness({ idleTimeoutMs: 1000 });
    await h.pool.provision(target(), 1);
    const a = h.pool.invoke(target(), h.req());
    const b = h.pool.invoke(target(), h.req());
    await h.tick();
    for (const inst of h.made) inst.finish();
    await Promise.all([a, b]);
    assert.equal(h.pool.stats().idle, 2);
    h.advance(500);
    assert.equal(await h.pool.reap(), 0);
    h.advance(600);
    assert.equal(await h.pool.reap(), 1);
    assert.equal(h.pool.stats().instances, 1, 'the provisioned instance remains');
  });

  test('past its maximum age an instance takes no new request: idle ones stop, busy ones after their request', async () => {
    const h = harness({ maxInstanceAgeMs: 60_000, idleTimeoutMs: 3_600_000 });
    const run = async () => {
      const p = h.pool.invoke(target(), h.req());
      await h.tick();
      return p;
    };
    const first = run();
    await h.tick();
    h.made[0]!.finish();
    await first;
    h.advance(30_000);
    const second = run();
    await h.tick();
    assert.equal(h.made.length, 1, 'young: reused');
    // It ages out while serving: the request finishes there, then the instance stops.
    h.advance(40_000);
    h.made[0]!.finish();
    await second;
    await h.tick();
    assert.equal(h.made[0]!.stopped, true);
    assert.equal(h.pool.stats().instances, 0);

    const third = run();
    await h.tick();
    assert.equal(h.made.length, 2, 'a new instance for the next request');
    h.made[1]!.finish();
    await third;
    // Aged out while idle, before any reap: not handed the request.
    h.advance(61_000);
    const fourth = run();
    await h.tick();
    assert.equal(h.made[1]!.stopped, true);
    assert.equal(h.made.length, 3);
    h.made[2]!.finish();
    await fourth;
    h.advance(61_000);
    assert.equal(await h.pool.reap(), 0, 'recycled, not counted as reaped for idleness');
    assert.equal(h.made[2]!.stopped, true);
    assert.equal(h.pool.stats().instances, 0);
  });

  test('a provisioned instance past its maximum age is replaced', async () => {
    const h = harness({ maxInstanceAgeMs: 60_000, idleTimeoutMs: 1000 });
    await h.pool.provision(target(), 1);
    assert.equal(h.made.length, 1);
    h.advance(30_000);
    await h.pool.reap();
    assert.equal(h.made[0]!.stopped, false, 'provisioned and young: kept');
    h.advance(31_000);
    await h.pool.reap();
    await h.tick();
    assert.equal(h.made[0]!.stopped, true);
    assert.equal(h.made.length, 2);
    assert.equal(h.made[1]!.stopped, false);
    assert.equal(h.pool.stats().instances, 1, 'its successor is provisioned');
    h.advance(2000);
    await h.pool.reap();
    assert.equal(h.made[1]!.stopped, false, 'the successor is not reaped for idleness');
  });

  test('a maximum instance age under a minute is refused', () => {
    assert.throws(() => harness({ maxInstanceAgeMs: 1000 }), RangeError);
  });

  test('a dead instance is not reused', async () => {
    const h = harness();
    const a = h.pool.invoke(target(), h.req());
    await h.tick();
    h.made[0]!.finish(true);
    await a;
    assert.equal(h.pool.stats().instances, 0);
    const b = h.pool.invoke(target(), h.req());
    await h.tick();
    assert.equal(h.made.length, 2);
    h.made[1]!.finish();
    await b;
  });

  test('retiring an old version: idle instances stop now, busy ones after their request', async () => {
    const h = harness();
    const a = h.pool.invoke(target('1'), h.req());
    const b = h.pool.invoke(target('1'), h.req());
    await h.tick();
    h.made[0]!.finish();
    await a;
    await h.pool.retire('svc-dev-fn', new Set(['2']));
    assert.equal(h.made[0]!.stopped, true, 'idle old instance stopped');
    assert.equal(h.made[1]!.stopped, false, 'busy old instance finishes first');
    h.made[1]!.finish();
    assert.equal((await b).executedVersion, '1');
    assert.equal(h.made[1]!.stopped, true);
    assert.equal(h.pool.countFor('svc-dev-fn', '1'), 0);
  });

  test('CPU-aware: with every core busy, requests wait for a warm instance instead of starting one', async () => {
    // One core, and a hold that never runs out within the test: progress alone serves them.
    const h = harness({ cpuSlots: 1, holdMs: 60_000 });
    const a = h.pool.invoke(target(), h.req('a'));
    await h.tick();
    assert.equal(h.made.length, 1, 'the first request starts an instance');
    const b = h.pool.invoke(target(), h.req('b'));
    const c = h.pool.invoke(target(), h.req('c'));
    await h.tick();
    assert.equal(h.made.length, 1, 'the core is taken: b and c wait for the instance');
    h.made[0]!.finish();
    assert.equal((await a).outcome.status, 'ok');
    await h.tick();
    h.made[0]!.finish();
    await b;
    await h.tick();
    h.made[0]!.finish();
    await c;
    assert.equal(h.made.length, 1, 'three requests, one process');
    assert.equal(h.pool.holdExpiries, 0);
    await h.pool.close();
  });

  test('CPU-aware: a hold with no progress (handlers waiting on I/O) starts instances after all', async () => {
    const h = harness({ cpuSlots: 1, holdMs: 1 });
    const a = h.pool.invoke(target(), h.req('a'));
    await h.tick();
    const waiting = Array.from({ length: 3 }, (_, i) => h.pool.invoke(target(), h.req(`w${i}`)));
    // Nothing finishes: once the hold runs out, each waiting request gets its own instance.
    await waitUntil(() => h.made.length === 4, 'an instance for each waiting request');
    assert.ok(h.pool.holdExpiries >= 1);
    for (const inst of h.made) inst.finish();
    await Promise.all([a, ...waiting]);
    await h.pool.close();
  });

  test('CPU-aware: below the core count a version scales out at once', async () => {
    const h = harness({ cpuSlots: 3, holdMs: 60_000 });
    const calls = Array.from({ length: 3 }, (_, i) => h.pool.invoke(target(), h.req(`r${i}`)));
    await h.tick();
    await h.tick();
    assert.equal(h.made.length, 3);
    const held = h.pool.invoke(target(), h.req('held'));
    await h.tick();
    assert.equal(h.made.length, 3, 'the fourth waits: three cores, three busy instances');
    h.made[1]!.finish();
    await h.tick();
    h.made[1]!.finish();
    for (const i of [0, 2]) h.made[i]!.finish();
    await Promise.all([...calls, held]);
    await h.pool.close();
  });
});
