import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FsBlobStore } from '../../src/blob/fs-blob-store.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { blobStoreContract } from './blob-store-contract.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('FsBlobStore', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let blobs: FsBlobStore;

  beforeEach(async () => {
    ({ dir: root, cleanup } = await makeTempDir('nimbus-blob-'));
    blobs = new FsBlobStore(join(root, 'blobs'));
  });
  afterEach(() => cleanup());

  blobStoreContract('fs', () => blobs);

  it('puts, then has, size, get, stream and delete', async () => {
    const data = Buffer.from('hello blob');
    const key = sha(data);
    assert.equal(await blobs.has(key), false);
    assert.equal(await blobs.size(key), undefined);

    await blobs.put(key, data);
    assert.equal(await blobs.has(key), true);
    assert.equal(await blobs.size(key), data.length);
    assert.deepEqual(await blobs.get(key), data);
    assert.deepEqual(await buffer(blobs.stream(key)), data);

    await blobs.delete(key);
    assert.equal(await blobs.has(key), false);
    await blobs.delete(key); // absent: still fine
  });

  it('lays files out at sha256/<2 hex>/<hex> with mode 0644 and no temp files', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const key = sha(data);
    await blobs.put(key, data);
    const dir = join(root, 'blobs', 'sha256', key.slice(0, 2));
    assert.deepEqual(await readdir(dir), [key]);
    assert.equal((await stat(join(dir, key))).mode & 0o777, 0o644);
    assert.deepEqual(await buffer(blobs.stream(key)), data);
  });

  it('takes concurrent and repeated puts of the same blob', async () => {
    const data = Buffer.from('same bytes');
    const key = sha(data);
    await Promise.all(Array.from({ length: 8 }, () => blobs.put(key, data)));
    await blobs.put(key, data);
    assert.deepEqual(await blobs.get(key), data);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256', key.slice(0, 2))), [key]);
  });

  it('refuses bytes that do not match the hash and leaves nothing behind', async () => {
    const claimed = sha(Buffer.from('what the caller said'));
    await assert.rejects(blobs.put(claimed, Buffer.from('something else')), {
      code: 'NIMBUS_BLOB_HASH_MISMATCH',
    });
    assert.equal(await blobs.has(claimed), false);
    assert.deepEqual(await listFiles(root), []);
  });

  it('refuses keys that are not 64 lower-case hex digits, before touching the disk', async () => {
    const data = Buffer.from('x');
    const bad = [
      '../../etc/passwd',
      sha(data).toUpperCase(),
      sha(data).slice(0, 63),
      '',
      `${sha(data)}/`,
    ];
    for (const key of bad) {
      const refused = { code: 'NIMBUS_BLOB_BAD_KEY' };
      await assert.rejects(blobs.put(key, data), refused, key);
      await assert.rejects(blobs.get(key), refused, key);
      await assert.rejects(blobs.has(key), refused, key);
      await assert.rejects(blobs.size(key), refused, key);
      await assert.rejects(blobs.delete(key), refused, key);
      assert.throws(() => blobs.stream(key), refused, key);
    }
    assert.deepEqual(await listFiles(root), []);
  });

  it('reports a missing blob as BlobNotFoundError from get and stream', async () => {
    const key = sha(Buffer.from('never stored'));
    await assert.rejects(blobs.get(key), { code: 'NIMBUS_BLOB_NOT_FOUND' });
    await assert.rejects(buffer(blobs.stream(key)), { code: 'NIMBUS_BLOB_NOT_FOUND' });
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}
