/**
 * ObjectFiles (the default: object bytes on this node's disk): small bodies written as they came,
 * large ones through 1 MiB slabs hashed on the MD5 worker thread, uploads side by side kept apart,
 * and a body that fails or passes its cap leaving nothing in tmp/ or objects/.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { BlobTooLargeError, ObjectFiles } from '../../../src/services/s3/object-files.js';

const MiB = 1024 * 1024;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 11)) & 0xff;
  return out;
}

async function* pieces(data: Buffer, sizes: number[], failAt?: number): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    if (failAt !== undefined && at >= failAt) throw new Error('client went away');
    const n = sizes[i % sizes.length]!;
    // A copy, as a socket hands out fresh buffers: the writer must not depend on their reuse.
    yield Buffer.from(data.subarray(at, at + n));
    at += n;
  }
}

describe('ObjectFiles: S3 object bytes on local disk', () => {
  let root: string;
  let files: ObjectFiles;
  const leftovers = async () => {
    const objects: string[] = [];
    for (const dir of await readdir(join(root, 'objects'))) {
      objects.push(...(await readdir(join(root, 'objects', dir))));
    }
    return { tmp: await readdir(join(root, 'tmp')), objects };
  };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nimbus-object-files-'));
    files = new ObjectFiles(root);
    await files.start();
  });
  after(async () => {
    await files?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('writes a small body as it came, an empty one too', async () => {
    const data = Buffer.from('a small object, in a few pieces');
    const written = await files.write(pieces(data, [3, 10, 1]), 1000);
    assert.deepEqual(
      { size: written.size, md5Hex: written.md5Hex },
      { size: 31, md5Hex: md5(data) },
    );
    assert.deepEqual(await buffer(files.read(written.blobId)), data);
    const empty = await files.write(pieces(Buffer.alloc(0), [1]), 1000);
    assert.deepEqual(
      { size: empty.size, md5Hex: empty.md5Hex },
      { size: 0, md5Hex: md5(Buffer.alloc(0)) },
    );
    await files.remove(written.blobId);
    await files.remove(empty.blobId);
    assert.deepEqual(await leftovers(), { tmp: [], objects: [] });
  });

  it('writes large bodies through slabs, side by side, byte for byte', async () => {
    // Uneven pieces so slab edges fall inside them; a body of many tiny pieces takes slabs early.
    const a = bytes(3 * MiB + 12_345, 1);
    const b = bytes(2 * MiB - 1, 2);
    const c = bytes(5000, 3);
    const [wa, wb, wc] = await Promise.all([
      files.write(pieces(a, [65_536, 1, 100_000, 7]), 10 * MiB),
      files.write(pieces(b, [MiB + 3, 40_000]), 10 * MiB),
      files.write(pieces(c, [10]), 10 * MiB),
    ]);
    assert.deepEqual([wa!.md5Hex, wb!.md5Hex, wc!.md5Hex], [md5(a), md5(b), md5(c)]);
    assert.deepEqual([wa!.size, wb!.size, wc!.size], [a.length, b.length, c.length]);
    assert.ok((await buffer(files.read(wa!.blobId))).equals(a));
    assert.ok((await buffer(files.read(wb!.blobId))).equals(b));
    assert.ok((await buffer(files.read(wc!.blobId))).equals(c));
    assert.ok(
      (await buffer(files.read(wa!.blobId, { start: MiB - 2, end: 2 * MiB + 5 }))).equals(
        a.subarray(MiB - 2, 2 * MiB + 6),
      ),
    );
    for (const w of [wa!, wb!, wc!]) await files.remove(w.blobId);
    assert.deepEqual(await leftovers(), { tmp: [], objects: [] });
  });

  it('takes pieces that are views at any byte offset, as aws-chunked decoding hands out', async () => {
    // Each piece is a view 1..7 bytes into a larger buffer (past a chunk header), so the copy
    // into a slab is unaligned, and slab edges fall inside pieces.
    const data = bytes(2 * MiB + 777, 5);
    async function* views(): AsyncGenerator<Buffer> {
      const sizes = [65_531, 8_190, 1, 131_075];
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = Math.min(sizes[i % sizes.length]!, data.length - at);
        const skew = (i % 7) + 1;
        const frame = Buffer.alloc(n + skew + 2, 0xee);
        data.copy(frame, skew, at, at + n);
        yield frame.subarray(skew, skew + n);
        at += n;
      }
    }
    const written = await files.write(views(), 10 * MiB);
    assert.deepEqual(
      { size: written.size, md5Hex: written.md5Hex },
      { size: data.length, md5Hex: md5(data) },
    );
    assert.ok((await buffer(files.read(written.blobId))).equals(data));
    await files.remove(written.blobId);
  });

  it('leaves nothing when a large body fails midway or passes its cap', async () => {
    const data = bytes(4 * MiB, 4);
    await assert.rejects(
      files.write(pieces(data, [70_000], Math.floor(2.5 * MiB)), 10 * MiB),
      /client went away/,
    );
    await assert.rejects(files.write(pieces(data, [70_000]), 3 * MiB), BlobTooLargeError);
    await assert.rejects(files.write(pieces(data.subarray(0, 100), [1]), 99), BlobTooLargeError);
    assert.deepEqual(await leftovers(), { tmp: [], objects: [] });
    // The worker thread is still there for the next upload.
    const next = await files.write(pieces(data, [MiB]), 10 * MiB);
    assert.equal(next.md5Hex, md5(data));
    await files.remove(next.blobId);
  });
});
