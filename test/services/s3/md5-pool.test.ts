/**
 * Md5Pool: concurrent sessions spread over its worker threads, each hashed right whatever the
 * interleaving, and a pool of any size at least one thread.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { defaultPoolSize, Md5Pool } from '../../../src/services/s3/md5-pool.js';

const slabBytes = 64 * 1024;

function slabOf(data: Buffer): SharedArrayBuffer {
  const slab = new SharedArrayBuffer(slabBytes);
  data.copy(Buffer.from(slab));
  return slab;
}

describe('Md5Pool', () => {
  const pool = new Md5Pool(3);
  after(() => pool.stop());

  it('sizes itself from the cores, 1 to 4 threads', () => {
    assert.ok(defaultPoolSize() >= 1 && defaultPoolSize() <= 4);
    assert.equal(new Md5Pool(0).size, 1);
  });

  it('hashes sessions side by side, interleaved slab by slab, each right', async () => {
    const bodies = [0, 1, 2, 3, 4].map((seed) =>
      Array.from({ length: 6 }, (_, i) => Buffer.alloc(slabBytes - seed * 100, seed * 16 + i)),
    );
    const sessions = bodies.map(() => pool.session('crc32'));
    for (let i = 0; i < 6; i++) {
      await Promise.all(
        sessions.map((s, n) => s.update(slabOf(bodies[n]![i]!), bodies[n]![i]!.length)),
      );
    }
    const digests = await Promise.all(sessions.map((s) => s.digest()));
    digests.forEach((d, n) => {
      assert.equal(d.md5Hex, createHash('md5').update(Buffer.concat(bodies[n]!)).digest('hex'));
      assert.equal(typeof d.checksum, 'string');
    });
    // A forgotten session does not hold its thread busy for the next.
    const forgotten = pool.session();
    forgotten.forget();
    const next = pool.session();
    await next.update(slabOf(Buffer.from('abc')), 3);
    assert.equal((await next.digest()).md5Hex, createHash('md5').update('abc').digest('hex'));
  });
});
