import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FunctionDefinition } from '../../src/model/service-definition.js';
import {
  type StageReaction,
  StageReconciler,
  type StageState,
  type StageStore,
} from '../../src/platform/reconcile/stage-reconciler.js';
import type { DeploymentRow, StageRow } from '../../src/store/store.js';
import { FakeScheduler } from '../observe/fakes.js';

/** A store holding, per stage, the function names of its current deployment. */
class FakeStages implements StageStore {
  readonly stages = new Map<string, string[]>();
  failReads = 0;

  set(service: string, stage: string, functions: string[] | undefined): void {
    if (functions) this.stages.set(`${service}/${stage}`, functions);
    else this.stages.delete(`${service}/${stage}`);
  }

  async findStage(service: string, stage: string): Promise<StageRow | undefined> {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new Error('store unreachable');
    }
    const id = `${service}/${stage}`;
    return this.stages.has(id) ? ({ id, service, stage } as unknown as StageRow) : undefined;
  }

  async listDeployments(stageId: string | number): Promise<DeploymentRow[]> {
    const names = this.stages.get(String(stageId)) ?? [];
    const functions: Record<string, FunctionDefinition> = {};
    for (const name of names) functions[name] = { name } as FunctionDefinition;
    return [{ definition: { functions } } as unknown as DeploymentRow];
  }

  async listStages(): Promise<StageRow[]> {
    return [...this.stages.keys()].map((id) => {
      const [service, stage] = id.split('/');
      return { id, service, stage } as unknown as StageRow;
    });
  }
}

/** Records every state it sees; fails its next `failures` calls. */
class Recorder implements StageReaction {
  readonly seen: { functions: string[]; removed: string[] }[] = [];
  failures = 0;
  constructor(readonly name: string) {}
  async react(state: StageState): Promise<void> {
    this.seen.push({
      functions: state.functions.map((f) => f.name),
      removed: [...state.removed],
    });
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error(`${this.name} broke`);
    }
  }
}

function setup() {
  const store = new FakeStages();
  const timer = new FakeScheduler();
  const errors: string[] = [];
  const first = new Recorder('first');
  const second = new Recorder('second');
  const reconciler = new StageReconciler({
    store,
    timer,
    reactions: [first, second],
    logger: {
      error: (obj: unknown, msg?: string) => {
        errors.push(`${msg} ${(obj as { reaction?: string }).reaction ?? ''}`.trim());
      },
      warn: () => {},
    } as never,
    retryBaseMs: 100,
    maxRetryMs: 400,
  });
  return { store, timer, errors, first, second, reconciler };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('StageReconciler', () => {
  test('start() reconciles every stage in the store', async () => {
    const { store, first, reconciler } = setup();
    store.set('a', 'dev', ['a-dev-one']);
    store.set('b', 'prod', ['b-prod-x', 'b-prod-y']);
    await reconciler.start();
    assert.deepEqual(first.seen.map((s) => s.functions).sort(), [
      ['a-dev-one'],
      ['b-prod-x', 'b-prod-y'],
    ]);
  });

  test('functions the stage no longer has are passed as removed, once', async () => {
    const { store, first, reconciler } = setup();
    store.set('svc', 'dev', ['svc-dev-a', 'svc-dev-b']);
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    store.set('svc', 'dev', ['svc-dev-a']);
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    store.set('svc', 'dev', undefined);
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    assert.deepEqual(first.seen, [
      { functions: ['svc-dev-a', 'svc-dev-b'], removed: [] },
      { functions: ['svc-dev-a'], removed: ['svc-dev-b'] },
      { functions: [], removed: ['svc-dev-a'] },
      { functions: [], removed: [] },
    ]);
  });

  test('a failing reaction does not stop the others, never rejects, and is retried with backoff', async () => {
    const { store, timer, errors, first, second, reconciler } = setup();
    store.set('svc', 'dev', ['svc-dev-a']);
    first.failures = 3;
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    assert.equal(second.seen.length, 1, 'the reaction after the failing one still ran');
    assert.deepEqual(errors, ['reacting to a stage change failed; will retry first']);
    assert.deepEqual(reconciler.pendingRetries, ['svc/dev']);
    assert.deepEqual(timer.pending, [100]);
    timer.fire(100);
    await flush();
    assert.deepEqual(timer.pending, [200], 'the delay doubles');
    timer.fire(200);
    await flush();
    assert.deepEqual(timer.pending, [400]);
    timer.fire(400);
    await flush();
    assert.equal(first.seen.length, 4);
    assert.deepEqual(timer.pending, [], 'a pass that succeeded schedules nothing');
    assert.deepEqual(reconciler.pendingRetries, []);
  });

  test('the delay stops growing at maxRetryMs, and a new change restarts the backoff', async () => {
    const { store, timer, first, reconciler } = setup();
    store.set('svc', 'dev', ['svc-dev-a']);
    first.failures = 100;
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    for (const ms of [100, 200, 400, 400]) {
      assert.deepEqual(timer.pending, [ms]);
      timer.fire(ms);
      await flush();
    }
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    assert.deepEqual(timer.pending, [100], 'one retry pending, from the base delay');
  });

  test('removed names survive a failed pass until a pass succeeds', async () => {
    const { store, timer, first, reconciler } = setup();
    store.set('svc', 'dev', ['svc-dev-a', 'svc-dev-b']);
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    store.set('svc', 'dev', ['svc-dev-a']);
    first.failures = 1;
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    timer.fire(100);
    await flush();
    assert.deepEqual(first.seen.slice(1), [
      { functions: ['svc-dev-a'], removed: ['svc-dev-b'] },
      { functions: ['svc-dev-a'], removed: ['svc-dev-b'] },
    ]);
  });

  test('a store that cannot be read is logged and retried, not thrown', async () => {
    const { store, timer, errors, first, reconciler } = setup();
    store.set('svc', 'dev', ['svc-dev-a']);
    store.failReads = 1;
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    assert.deepEqual(errors, ['reading the stage to reconcile failed']);
    assert.equal(first.seen.length, 0);
    timer.fire(100);
    await flush();
    assert.equal(first.seen.length, 1);
  });

  test('passes never interleave: each runs after the one before it finished', async () => {
    const store = new FakeStages();
    store.set('svc', 'dev', ['svc-dev-a']);
    const log: string[] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let calls = 0;
    const reconciler = new StageReconciler({
      store,
      timer: new FakeScheduler(),
      logger: { error: () => {}, warn: () => {} } as never,
      reactions: [
        {
          name: 'slow',
          react: async () => {
            const n = ++calls;
            log.push(`begin ${n}`);
            if (n === 1) await gate;
            log.push(`end ${n}`);
          },
        },
      ],
    });
    const one = reconciler.changed({ service: 'svc', stage: 'dev' });
    const two = reconciler.changed({ service: 'svc', stage: 'dev' });
    await flush();
    assert.deepEqual(log, ['begin 1']);
    open();
    await Promise.all([one, two]);
    assert.deepEqual(log, ['begin 1', 'end 1', 'begin 2', 'end 2']);
  });

  test('stop() cancels pending retries and waits for the pass in progress', async () => {
    const { store, timer, first, reconciler } = setup();
    store.set('svc', 'dev', ['svc-dev-a']);
    first.failures = 1;
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    assert.deepEqual(timer.pending, [100]);
    await reconciler.stop();
    assert.deepEqual(timer.pending, []);
    await reconciler.changed({ service: 'svc', stage: 'dev' });
    assert.equal(first.seen.length, 1, 'nothing runs after stop');
  });
});
