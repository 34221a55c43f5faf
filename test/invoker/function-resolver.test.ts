import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FunctionResolver } from '../../src/platform/invoker/function-resolver.js';
import { FunctionNotFoundError } from '../../src/platform/invoker/invoker-port.js';
import type { StoreReader } from '../../src/store/store.js';

/** A store that knows one function once `deployed` is set, and counts its lookups. */
function fakeStore() {
  const state = { deployed: false, lookups: 0 };
  const store = {
    findFunctionByName: async (name: string) => {
      state.lookups += 1;
      return state.deployed && name === 'svc-dev-fn'
        ? { id: 1, stageId: 7, name, key: 'fn' }
        : undefined;
    },
    listStages: async () => [{ id: 7, service: 'svc', stage: 'dev', region: 'us-east-1' }],
    listVersions: async () => [{ version: 1, config: {}, codeSha256: 'abc' }],
    listAliases: async () => [{ name: 'dev', version: 1 }],
  } as unknown as StoreReader;
  return { state, store };
}

describe('FunctionResolver', () => {
  test('a miss is not cached: a function deployed after it is found by the next call', async () => {
    const { state, store } = fakeStore();
    const resolver = new FunctionResolver({ store, region: 'us-east-1' });
    await assert.rejects(resolver.resolve('svc-dev-fn', undefined), FunctionNotFoundError);
    state.deployed = true;
    const found = await resolver.resolve('svc-dev-fn', 'dev');
    assert.equal(found.version, '1');
  });

  test('a hit is cached until invalidated', async () => {
    const { state, store } = fakeStore();
    state.deployed = true;
    const resolver = new FunctionResolver({ store, region: 'us-east-1' });
    await resolver.resolve('svc-dev-fn', undefined);
    await resolver.resolve('svc-dev-fn', 'dev');
    assert.equal(state.lookups, 1);
    resolver.invalidate('svc-dev-fn');
    await resolver.resolve('svc-dev-fn', undefined);
    assert.equal(state.lookups, 2);
  });
});
