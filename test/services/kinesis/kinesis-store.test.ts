/**
 * The Kinesis store on SQLite and PostgreSQL: appends from many concurrent callers get gapless,
 * increasing positions per shard in the order each caller gave them; the retention trim deletes
 * exactly the records older than their stream's period; deleting a stream takes its records.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KinesisStore } from '../../../src/services/kinesis/kinesis-store.js';
import { openDatabase } from '../../../src/store/open-store.js';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const hour = 3_600_000;

for (const variant of awsPlatformVariants)
  describe(`kinesis store on ${variant.name}`, () => {
    test('positions, trim and delete', async () => {
      const tmp = await makeTempDir();
      const target = await variant.databaseUrl();
      const db = await openDatabase(target.url ?? 'sqlite:', { dataDir: tmp.dir });
      try {
        const store = new KinesisStore(db);
        const stream = (name: string, retentionHours: number) =>
          store.createStream({
            name,
            mode: 'PROVISIONED',
            shardCount: 2,
            retentionHours,
            tags: {},
            createdAt: 0,
          });
        assert.equal(await stream('a', 24), true);
        assert.equal(await stream('a', 24), false, 'a name is taken once');
        assert.equal(await stream('b', 48), true);
        const rec = (shardIndex: number, key: string) => ({
          shardIndex,
          partitionKey: key,
          data: Buffer.from(key),
        });
        // Ten callers at once, each putting three records in shard 0 and one in shard 1.
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, c) =>
            store.append(
              'a',
              [rec(0, `${c}-x`), rec(1, `${c}-y`), rec(0, `${c}-z`), rec(0, `${c}-w`)],
              1000,
            ),
          ),
        );
        const shard0 = await store.read('a', 0, 0, 100, 0);
        assert.deepEqual(
          shard0.map((r) => r.position),
          Array.from({ length: 30 }, (_, i) => i + 1),
          'gapless and increasing',
        );
        for (const [c, positions] of results.entries()) {
          const [x, , z, w] = positions;
          assert.ok(x! < z! && z! < w!, 'a caller keeps its order within a shard');
          assert.equal(shard0.find((r) => r.position === x)?.partitionKey, `${c}-x`);
        }
        assert.equal(await store.lastPosition('a', 1), 10);

        await store.append('a', [rec(1, 'late')], 30 * hour);
        await store.append('b', [rec(0, 'kept')], 1000);
        await store.trim(26 * hour);
        assert.deepEqual(
          (await store.read('a', 1, 0, 100, 0)).map((r) => r.partitionKey),
          ['late'],
          'older than 24 hours: trimmed',
        );
        assert.equal((await store.read('a', 0, 0, 100, 0)).length, 0);
        assert.equal((await store.read('b', 0, 0, 100, 0)).length, 1, 'b keeps 48 hours');
        assert.equal(await store.lastPosition('a', 1), 11, 'positions go on after a trim');

        assert.equal(await store.deleteStream('a'), true);
        assert.equal(await store.findStream('a'), undefined);
        assert.equal((await store.read('a', 1, 0, 100, 0)).length, 0);
        await assert.rejects(store.append('a', [rec(0, 'gone')], 1), /no longer exists/);
      } finally {
        await db.destroy();
        await target.drop();
        await tmp.cleanup();
      }
    });
  });
