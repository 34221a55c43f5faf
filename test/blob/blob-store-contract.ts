/**
 * What every BlobStore adapter must do (local disk, PostgreSQL, S3, and the cache in front of a
 * shared one): each adapter's test file runs this suite on it, next to its own specifics.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { it } from 'node:test';
import type { BlobStore } from '../../src/blob/blob-store.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function blobStoreContract(name: string, store: () => BlobStore): void {
  it(`${name}: puts, then has, size, get, stream and delete; delete of an absent blob is fine`, async () => {
    const blobs = store();
    const data = Buffer.from(`contract blob of ${name}`);
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
    await blobs.delete(key);
  });

  it(`${name}: keeps an empty blob and a 3 MiB one, streamed back whole`, async () => {
    const blobs = store();
    const empty = Buffer.alloc(0);
    await blobs.put(sha(empty), empty);
    assert.equal(await blobs.size(sha(empty)), 0);
    assert.deepEqual(await blobs.get(sha(empty)), empty);
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await blobs.put(sha(big), big);
    const back = await buffer(blobs.stream(sha(big)));
    assert.equal(sha(back), sha(big));
    await blobs.delete(sha(big));
    await blobs.delete(sha(empty));
  });

  it(`${name}: takes concurrent and repeated puts of the same blob`, async () => {
    const blobs = store();
    const data = Buffer.from(`same bytes of ${name}`);
    const key = sha(data);
    await Promise.all(Array.from({ length: 4 }, () => blobs.put(key, data)));
    await blobs.put(key, data);
    assert.deepEqual(await blobs.get(key), data);
    await blobs.delete(key);
  });

  it(`${name}: refuses bytes that do not match their hash, leaving nothing`, async () => {
    const blobs = store();
    const claimed = sha(Buffer.from(`what the caller said to ${name}`));
    await assert.rejects(blobs.put(claimed, Buffer.from('something else')), {
      code: 'NIMBUS_BLOB_HASH_MISMATCH',
    });
    assert.equal(await blobs.has(claimed), false);
  });

  it(`${name}: refuses keys that are not 64 lower-case hex digits`, async () => {
    const blobs = store();
    const data = Buffer.from('x');
    for (const key of ['../../etc/passwd', sha(data).toUpperCase(), sha(data).slice(0, 63), '']) {
      const refused = { code: 'NIMBUS_BLOB_BAD_KEY' };
      await assert.rejects(blobs.put(key, data), refused, key);
      await assert.rejects(blobs.get(key), refused, key);
      await assert.rejects(blobs.has(key), refused, key);
      await assert.rejects(blobs.size(key), refused, key);
      await assert.rejects(blobs.delete(key), refused, key);
      assert.throws(() => blobs.stream(key), refused, key);
    }
  });

  it(`${name}: reports a missing blob as BlobNotFoundError from get and stream`, async () => {
    const blobs = store();
    const key = sha(Buffer.from(`never stored in ${name}`));
    await assert.rejects(blobs.get(key), { code: 'NIMBUS_BLOB_NOT_FOUND' });
    await assert.rejects(buffer(blobs.stream(key)), { code: 'NIMBUS_BLOB_NOT_FOUND' });
  });
}
