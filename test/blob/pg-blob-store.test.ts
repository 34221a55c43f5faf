import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { CachedBlobStore } from '../../src/blob/cached-blob-store.js';
import { FsBlobStore } from '../../src/blob/fs-blob-store.js';
import { PgBlobStore } from '../../src/blob/pg-blob-store.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { blobStoreContract } from './blob-store-contract.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const clock = { now: () => 1_750_000_000_000 };

describe('PgBlobStore and the local cache in front of it', () => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    const pg = await makeTestSchema();
    db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
    drop = pg.drop;
    tmp = await makeTempDir('nimbus-pgblob-');
  });
  after(async () => {
    await db.destroy();
    await drop();
    await tmp.cleanup();
  });

  blobStoreContract('postgres', () => new PgBlobStore(db, { clock }));

  it('stores in chunks and reads back whole, by get and by stream; delete removes all', async () => {
    // 5-byte chunks: 23 bytes make 5 rows, the last one short.
    const blobs = new PgBlobStore(db, { clock, chunkBytes: 5 });
    const data = Buffer.from('chunked rows, streamed!');
    const key = sha(data);
    assert.equal(await blobs.has(key), false);
    await blobs.put(key, data);
    await blobs.put(key, data); // again: already there
    assert.equal(await blobs.size(key), data.length);
    const rows = await db
      .selectFrom('blob_chunks')
      .select('seq')
      .where('sha256', '=', key)
      .execute();
    assert.equal(rows.length, 5);
    assert.deepEqual(await blobs.get(key), data);
    assert.deepEqual(await buffer(blobs.stream(key)), data);
    await blobs.delete(key);
    assert.equal(await blobs.has(key), false);
    assert.equal((await db.selectFrom('blob_chunks').selectAll().execute()).length, 0);
  });

  it('keeps an empty blob', async () => {
    const blobs = new PgBlobStore(db, { clock });
    const key = sha(Buffer.alloc(0));
    await blobs.put(key, Buffer.alloc(0));
    assert.deepEqual(await blobs.get(key), Buffer.alloc(0));
  });

  it('refuses a hash mismatch, leaving nothing, and bad or missing keys', async () => {
    const blobs = new PgBlobStore(db, { clock });
    const wrong = sha(Buffer.from('other'));
    await assert.rejects(blobs.put(wrong, Buffer.from('bytes')), {
      code: 'NIMBUS_BLOB_HASH_MISMATCH',
    });
    assert.equal(await blobs.has(wrong), false);
    await assert.rejects(blobs.has('../../etc/passwd'), { code: 'NIMBUS_BLOB_BAD_KEY' });
    assert.throws(() => blobs.stream('ABC'), { code: 'NIMBUS_BLOB_BAD_KEY' });
    await assert.rejects(blobs.get(wrong), { code: 'NIMBUS_BLOB_NOT_FOUND' });
    await assert.rejects(buffer(blobs.stream(wrong)), { code: 'NIMBUS_BLOB_NOT_FOUND' });
  });

  it('one node stores, another reads it from the database once and then from its disk', async () => {
    const shared = new PgBlobStore(db, { clock, chunkBytes: 1024 });
    const node1 = new CachedBlobStore(shared, new FsBlobStore(join(tmp.dir, 'n1')));
    const node2 = new CachedBlobStore(shared, new FsBlobStore(join(tmp.dir, 'n2')));
    const data = Buffer.alloc(10_000, 7);
    const key = sha(data);
    await node1.put(key, data);
    assert.equal(await node2.has(key), true);
    assert.deepEqual(await buffer(node2.stream(key)), data);
    const cached = await readdir(join(tmp.dir, 'n2', 'sha256', key.slice(0, 2)));
    assert.deepEqual(cached, [key]);
    // Served from the cache even with the shared rows gone behind its back.
    await shared.delete(key);
    assert.deepEqual(await node2.get(key), data);
    await assert.rejects(node1.get(sha(Buffer.from('nowhere'))), {
      code: 'NIMBUS_BLOB_NOT_FOUND',
    });
  });
});
