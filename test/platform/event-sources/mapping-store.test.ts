/**
 * Mapping rows on SQLite and PostgreSQL: a stage's sync gives new mappings a UUID and keeps it
 * across redeploys, changes settings in place, drops what the stage no longer has, leaves API
 * mappings alone, and is idempotent (every cluster node runs it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MappingStore,
  type WantedMapping,
} from '../../../src/platform/event-sources/mapping-store.js';
import { openDatabase } from '../../../src/store/open-store.js';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { mapping } from './fakes.js';

const wanted = (fn: string, queue: string, batchSize = 10): WantedMapping => {
  const {
    uuid: _u,
    lastModified: _l,
    origin: _o,
    ...rest
  } = mapping({
    functionName: fn,
    qualifier: 'dev',
    sourceArn: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
    service: 'svc',
    stage: 'dev',
    batchSize,
  });
  return rest;
};

for (const variant of awsPlatformVariants)
  describe(`mapping store on ${variant.name}`, () => {
    test('syncStage keeps UUIDs, updates in place, removes, and repeats harmlessly', async () => {
      const tmp = await makeTempDir();
      const target = await variant.databaseUrl();
      const db = await openDatabase(target.url ?? 'sqlite:', { dataDir: tmp.dir });
      try {
        const store = new MappingStore(db);
        assert.equal(
          await store.syncStage('svc', 'dev', [wanted('a', 'q1'), wanted('b', 'q2')], 1),
          true,
        );
        const first = await store.list();
        assert.equal(first.length, 2);
        assert.equal(
          await store.syncStage('svc', 'dev', [wanted('a', 'q1'), wanted('b', 'q2')], 2),
          false,
        );
        assert.deepEqual(await store.list(), first, 'nothing changed, not even lastModified');

        const api = mapping({
          uuid: '00000000-0000-4000-8000-000000000001',
          functionName: 'c',
          sourceArn: 'arn:aws:sqs:us-east-1:000000000000:q3',
        });
        assert.equal(await store.insert(api), true);
        assert.equal(
          await store.insert({ ...api, uuid: '00000000-0000-4000-8000-000000000002' }),
          false,
          'one per function and source',
        );

        assert.equal(await store.syncStage('svc', 'dev', [wanted('a', 'q1', 5)], 3), true);
        const after = await store.list();
        const a = after.find((m) => m.functionName === 'a')!;
        assert.equal(a.uuid, first.find((m) => m.functionName === 'a')!.uuid, 'UUID kept');
        assert.equal(a.batchSize, 5);
        assert.equal(a.lastModified, 3);
        assert.equal(
          after.some((m) => m.functionName === 'b'),
          false,
          'dropped with its event',
        );
        assert.ok(await store.get(api.uuid), 'API mappings are not the stage sync’s');

        await store.syncStage('svc', 'dev', [], 4);
        assert.deepEqual(
          (await store.list()).map((m) => m.uuid),
          [api.uuid],
        );
      } finally {
        await db.destroy();
        await target.drop();
        await tmp.cleanup();
      }
    });
  });
