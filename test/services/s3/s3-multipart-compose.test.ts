/**
 * CompleteMultipartUpload on local disk composes the object of its part files (a manifest, no
 * byte copied): through the SDK v3 client, the object reads whole and by ranges across part
 * boundaries, copies (CopyObject, UploadPartCopy) stay independent of their source, parts left
 * out of Complete are removed, and removing or replacing the object removes its parts. The data
 * dir is checked after each step: what is on disk is exactly the parts and one manifest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { ObjectFiles } from '../../../src/services/s3/object-files.js';
import { failure, type S3Platform, startS3Platform } from './s3-platform.js';

const MiB = 1024 * 1024;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff;
  return out;
}

describe('S3 multipart objects composed of their parts (local disk)', () => {
  let s3: S3Platform;
  let client: S3Client;
  // Two full parts and a short last one.
  const parts = [bytes(5 * MiB, 1), bytes(5 * MiB + 3, 2), bytes(1000, 3)];
  const whole = Buffer.concat(parts);
  const objectsDir = () => join(s3.dataDir, 's3', 'objects');
  /** Every file under objects/, by kind, and their total size. */
  const onDisk = async () => {
    const names: string[] = [];
    let total = 0;
    for (const dir of await readdir(objectsDir())) {
      for (const name of await readdir(join(objectsDir(), dir))) {
        names.push(name);
        total += (await stat(join(objectsDir(), dir, name))).size;
      }
    }
    return {
      manifests: names.filter((n) => n.endsWith('.parts')).length,
      blobs: names.filter((n) => !n.endsWith('.parts')).length,
      blobBytes: total,
    };
  };
  const get = async (key: string, range?: string) => {
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'parts', Key: key, ...(range ? { Range: range } : {}) }),
    );
    return { got, body: Buffer.from(await got.Body!.transformToByteArray()) };
  };
  /** Uploads `data` as parts 1..n (plus `extra` part numbers never completed); completes. */
  const multipart = async (key: string, data: Buffer[], extra: number[] = []) => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'parts', Key: key }),
    );
    const etags = await Promise.all(
      data.map((body, i) =>
        client.send(
          new UploadPartCommand({
            Bucket: 'parts',
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body: body,
          }),
        ),
      ),
    );
    for (const n of extra) {
      await client.send(
        new UploadPartCommand({ Bucket: 'parts', Key: key, UploadId, PartNumber: n, Body: 'x' }),
      );
    }
    return { UploadId, etags: etags.map((e) => e.ETag!) };
  };
  const complete = (key: string, UploadId: string | undefined, etags: string[]) =>
    client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'parts',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );

  before(async () => {
    s3 = await startS3Platform();
    client = s3.client();
    await client.send(new CreateBucketCommand({ Bucket: 'parts' }));
  });
  after(async () => {
    client?.destroy();
    await s3?.close();
  });

  test('Complete writes no byte again; parts left out are removed; ETag is the -N form', async () => {
    const { UploadId, etags } = await multipart('big.bin', parts, [7]);
    const before = await onDisk();
    assert.deepEqual(before, { manifests: 0, blobs: 4, blobBytes: whole.length + 1 });
    const done = await complete('big.bin', UploadId, etags);
    const expected = md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))));
    assert.equal(done.ETag, `"${expected}-3"`);
    const after = await onDisk();
    assert.equal(after.manifests, 1);
    // The three parts, not part 7 and not a second copy of the bytes.
    assert.equal(after.blobs, 3);
    assert.ok(after.blobBytes < whole.length + 4096, `${after.blobBytes} bytes on disk`);
    const { got, body } = await get('big.bin');
    assert.ok(body.equals(whole));
    assert.equal(got.ETag, `"${expected}-3"`);
    assert.equal(got.ContentLength, whole.length);
  });

  test('GetObject ranges across part boundaries, inside one part, and to the end', async () => {
    const cases: [number, number][] = [
      [5 * MiB - 10, 5 * MiB + 9],
      [0, whole.length - 1],
      [5 * MiB - 1, 10 * MiB + 3],
      [10 * MiB + 2, whole.length - 1],
      [100, 200],
      [1, 10 * MiB + 500],
    ];
    for (const [start, end] of cases) {
      const { got, body } = await get('big.bin', `bytes=${start}-${end}`);
      assert.equal(got.ContentRange, `bytes ${start}-${end}/${whole.length}`);
      assert.ok(body.equals(whole.subarray(start, end + 1)), `range ${start}-${end}`);
    }
    const suffix = await get('big.bin', 'bytes=-1500');
    assert.ok(suffix.body.equals(whole.subarray(whole.length - 1500)));
    const beyond = await failure(() => get('big.bin', `bytes=${whole.length}-`));
    assert.equal(beyond.name, 'InvalidRange');
  });

  test('CopyObject and UploadPartCopy of a composed source are copies of their own', async () => {
    await client.send(
      new CopyObjectCommand({ Bucket: 'parts', Key: 'copy.bin', CopySource: 'parts/big.bin' }),
    );
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'spliced.bin' }),
    );
    // A range across the first boundary of the composed source, then all of it.
    const range: [number, number] = [5 * MiB - 7, 10 * MiB - 8];
    const first = await client.send(
      new UploadPartCopyCommand({
        Bucket: 'parts',
        Key: 'spliced.bin',
        UploadId,
        PartNumber: 1,
        CopySource: 'parts/big.bin',
        CopySourceRange: `bytes=${range[0]}-${range[1]}`,
      }),
    );
    const second = await client.send(
      new UploadPartCopyCommand({
        Bucket: 'parts',
        Key: 'spliced.bin',
        UploadId,
        PartNumber: 2,
        CopySource: 'parts/big.bin',
      }),
    );
    await complete('spliced.bin', UploadId, [
      first.CopyPartResult!.ETag!,
      second.CopyPartResult!.ETag!,
    ]);
    // The source goes; its copies keep their bytes.
    await client.send(new DeleteObjectCommand({ Bucket: 'parts', Key: 'big.bin' }));
    assert.ok((await get('copy.bin')).body.equals(whole));
    const spliced = await get('spliced.bin');
    assert.ok(spliced.body.equals(Buffer.concat([whole.subarray(range[0], range[1] + 1), whole])));
    assert.ok(
      (await get('copy.bin', `bytes=${5 * MiB - 2}-${5 * MiB + 1}`)).body.equals(
        whole.subarray(5 * MiB - 2, 5 * MiB + 2),
      ),
    );
    await client.send(new DeleteObjectCommand({ Bucket: 'parts', Key: 'copy.bin' }));
    await client.send(new DeleteObjectCommand({ Bucket: 'parts', Key: 'spliced.bin' }));
    assert.deepEqual(await onDisk(), { manifests: 0, blobs: 0, blobBytes: 0 });
  });

  test('replacing a composed object (PutObject, another Complete) removes its parts', async () => {
    const a = await multipart('again.bin', parts);
    await complete('again.bin', a.UploadId, a.etags);
    const b = await multipart('again.bin', [parts[1]!, parts[2]!]);
    await complete('again.bin', b.UploadId, b.etags);
    assert.deepEqual(await onDisk(), {
      manifests: 1,
      blobs: 2,
      blobBytes: 5 * MiB + 1003 + (await manifestBytes()),
    });
    assert.ok((await get('again.bin')).body.equals(Buffer.concat([parts[1]!, parts[2]!])));
    await client.send(new PutObjectCommand({ Bucket: 'parts', Key: 'again.bin', Body: 'plain' }));
    assert.deepEqual(await onDisk(), { manifests: 0, blobs: 1, blobBytes: 5 });
    await client.send(new DeleteObjectCommand({ Bucket: 'parts', Key: 'again.bin' }));
  });

  test('a crash after the manifest is written but before the row leaves the upload completable', async () => {
    const { UploadId, etags } = await multipart('crash.bin', parts);
    // What a completion that died between its manifest and its transaction leaves behind: a
    // manifest no row names, over the upload's parts. Written by a second ObjectFiles on the
    // same directory, as the process after a restart would find it.
    const files = new ObjectFiles(join(s3.dataDir, 's3'));
    const partBlobs = await s3Parts();
    const orphan = await files.compose(partBlobs);
    await files.uncompose(orphan);
    await files.compose(partBlobs);
    const done = await complete('crash.bin', UploadId, etags);
    assert.match(done.ETag!, /-3"$/);
    assert.ok((await get('crash.bin')).body.equals(whole));
    // Completing again finds no upload, and changes nothing.
    const again = await failure(() => complete('crash.bin', UploadId, etags));
    assert.equal(again.name, 'NoSuchUpload');
    assert.ok((await get('crash.bin')).body.equals(whole));
  });

  test('Complete naming a part with a stale ETag fails and leaves the upload as it was', async () => {
    const { UploadId, etags } = await multipart('stale.bin', parts);
    await client.send(
      new UploadPartCommand({
        Bucket: 'parts',
        Key: 'stale.bin',
        UploadId,
        PartNumber: 2,
        Body: parts[0],
      }),
    );
    const stale = await failure(() => complete('stale.bin', UploadId, etags));
    assert.equal(stale.name, 'InvalidPart');
    const fresh = [etags[0]!, `"${md5(parts[0]!)}"`, etags[2]!];
    await complete('stale.bin', UploadId, fresh);
    assert.ok(
      (await get('stale.bin')).body.equals(Buffer.concat([parts[0]!, parts[0]!, parts[2]!])),
    );
  });

  /** Every blob file on disk: here, the parts of the one upload in flight (order does not matter). */
  async function s3Parts(): Promise<{ blobId: string; size: number }[]> {
    const found: { blobId: string; size: number }[] = [];
    for (const dir of await readdir(objectsDir())) {
      for (const name of await readdir(join(objectsDir(), dir))) {
        if (name.endsWith('.parts')) continue;
        found.push({ blobId: name, size: (await stat(join(objectsDir(), dir, name))).size });
      }
    }
    return found;
  }

  async function manifestBytes(): Promise<number> {
    for (const dir of await readdir(objectsDir())) {
      for (const name of await readdir(join(objectsDir(), dir))) {
        if (name.endsWith('.parts')) return (await stat(join(objectsDir(), dir, name))).size;
      }
    }
    return 0;
  }

  test('a GetObject under way when its object is deleted still gets every byte; the parts go after it', async () => {
    // Larger than what the loopback socket buffers hold, so the server is still sending when
    // the delete lands, with later part files not opened yet.
    const big = [bytes(5 * MiB, 11), bytes(5 * MiB, 12), bytes(5 * MiB, 13), bytes(5 * MiB, 14)];
    const { UploadId, etags } = await multipart('racing.bin', big);
    await complete('racing.bin', UploadId, etags);
    const before = await onDisk();
    const got = await client.send(new GetObjectCommand({ Bucket: 'parts', Key: 'racing.bin' }));
    const stream = got.Body as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    const chunks: Buffer[] = [];
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    chunks.push(first.value as Buffer);
    await client.send(new DeleteObjectCommand({ Bucket: 'parts', Key: 'racing.bin' }));
    // The manifest is gone at once; the parts wait for the read.
    assert.equal((await onDisk()).manifests, before.manifests - 1);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      chunks.push(next.value as Buffer);
    }
    assert.ok(Buffer.concat(chunks).equals(Buffer.concat(big)));
    let now = await onDisk();
    for (let i = 0; i < 100 && now.blobs > before.blobs - big.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      now = await onDisk();
    }
    assert.equal(now.blobs, before.blobs - big.length);
  });
});
