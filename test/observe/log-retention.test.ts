/**
 * Which retention each deployed function's log lines get: its own logRetentionInDays, else its
 * provider's, from each stage's current (newest) deployment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceDefinition } from '../../src/model/service-definition.js';
import { logRetentionOf } from '../../src/platform/observe/log-retention.js';
import type { DeploymentRow, StageRow, Store } from '../../src/store/store.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';

const day = 86_400_000;

function deployment(definition: ServiceDefinition): DeploymentRow {
  return { id: 'd', stageId: 1, timestamp: 1, hash: 'h', definition, functions: {}, artifacts: {} };
}

test("a function's own retention wins over its provider's; without either, none", async () => {
  const current = serviceDef([
    { ...fnDef('own', { name: 'svc-dev-own' }), logRetentionInDays: 1 },
    fnDef('inherits', { name: 'svc-dev-inherits' }),
  ]);
  current.provider.logRetentionInDays = 30;
  const older = serviceDef([{ ...fnDef('own', { name: 'svc-dev-own' }), logRetentionInDays: 365 }]);
  const plain = serviceDef([fnDef('plain', { name: 'other-dev-plain' })]);
  const stages = [{ id: 1 }, { id: 2 }, { id: 3 }] as StageRow[];
  const deployments: Record<number, DeploymentRow[]> = {
    // Newest first, as the store lists them.
    1: [deployment(current), deployment(older)],
    2: [deployment(plain)],
    3: [],
  };
  const store = {
    listStages: async () => stages,
    listDeployments: async (id: number) => deployments[id] ?? [],
  } as unknown as Store;
  assert.deepEqual(
    await logRetentionOf(store),
    new Map([
      ['svc-dev-own', 1 * day],
      ['svc-dev-inherits', 30 * day],
    ]),
  );
});
