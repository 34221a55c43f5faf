/**
 * ObjectFiles (the default: object bytes on this node's disk): small bodies written as they came,
 * large ones through 1 MiB slabs hashed on the MD5 worker thread, uploads side by side kept apart,
 * and a body that fails or passes its cap leaving nothing in tmp/ or objects/.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { createServer, get, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { BlobTooLargeError, ObjectFiles } from '../../../src/services/s3/object-files.js';

const MiB = 1024 * 1024;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const crc32Base64 = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
};

/** What `send` writes to a real HTTP response, as the client receives it (or the error it gets). */
async function received(send: (res: ServerResponse) => Promise<void>): Promise<Buffer> {
  const server = createServer((_req, res) => {
    res.writeHead(200);
    send(res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<Buffer>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        buffer(res).then(resolve, reject);
      }).on('error', reject);
    });
  } finally {
    server.close();
  }
}

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

  it('computes the asked-for checksum beside the MD5, small or large, and checks before keeping', async () => {
    for (const data of [bytes(3000, 6), bytes(3 * MiB + 5, 7)]) {
      let seen: { md5Hex: string; checksum?: string } | undefined;
      const written = await files.write(pieces(data, [65_536, 3]), 10 * MiB, {
        checksum: 'crc32',
        check: (digests) => {
          seen = digests;
        },
      });
      assert.deepEqual(seen, { md5Hex: md5(data), checksum: crc32Base64(data) });
      assert.equal(written.md5Hex, md5(data));
      await files.remove(written.blobId);
      // A check that throws discards the body: nothing in tmp/ or objects/.
      await assert.rejects(
        files.write(pieces(data, [65_536]), 10 * MiB, {
          checksum: 'sha256',
          check: (digests) => {
            assert.equal(digests.checksum, createHash('sha256').update(data).digest('base64'));
            throw new Error('does not match');
          },
        }),
        /does not match/,
      );
      assert.deepEqual(await leftovers(), { tmp: [], objects: [] });
    }
  });

  it('sends a file to a response whole or by range, and cuts it when the file is short', async () => {
    const data = bytes(3 * MiB + 100, 8);
    const written = await files.write(pieces(data, [MiB]), 10 * MiB);
    const whole = await received((res) =>
      files.sendTo(written.blobId, { start: 0, end: data.length - 1 }, res),
    );
    assert.ok(whole.equals(data));
    const ranged = await received((res) =>
      files.sendTo(written.blobId, { start: MiB - 3, end: 2 * MiB + 9 }, res),
    );
    assert.ok(ranged.equals(data.subarray(MiB - 3, 2 * MiB + 10)));
    const [dir, name] = [written.blobId.slice(0, 2), written.blobId];
    await truncate(join(root, 'objects', dir, name), MiB + 1);
    await assert.rejects(
      received((res) => files.sendTo(written.blobId, { start: 0, end: data.length - 1 }, res)),
    );
    await files.remove(written.blobId);
  });
});
