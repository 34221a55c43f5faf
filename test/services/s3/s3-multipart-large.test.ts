/**
 * UploadPartCopy and a 100 MB multipart upload through @aws-sdk/lib-storage, round-tripped byte
 * for byte, with the process's RSS sampled throughout (the platform runs in this process). On
 * SQLite (bytes on disk), PostgreSQL (bytes as chunked rows, PgObjectFiles) and with the bytes
 * in an S3 bucket (S3ObjectFiles).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  failure,
  type S3Platform,
  s3Variants,
  startS3Platform,
  startS3PlatformOnBucket,
} from './s3-platform.js';

const MiB = 1024 * 1024;

/** Deterministic bytes: block i, regenerated to compare without holding the whole body. */
function block(i: number, size: number): Buffer {
  const seed = createHash('sha256').update(`block ${i}`).digest();
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += seed.length) seed.copy(out, at);
  out.writeUInt32BE(i, 0);
  return out;
}

function blocks(count: number, size: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      this.push(i < count ? block(i++, size) : null);
    },
  });
}

const starts: { name: string; start: () => Promise<S3Platform> }[] = [
  ...s3Variants.map((v) => ({ name: v.name, start: () => startS3Platform(v) })),
  { name: 'object bytes in an S3 bucket', start: startS3PlatformOnBucket },
];

for (const variant of starts)
  describe(`S3 large multipart and UploadPartCopy on ${variant.name}`, () => {
    let s3: S3Platform;
    let client: S3Client;

    before(async () => {
      s3 = await variant.start();
      client = s3.client();
      await client.send(new CreateBucketCommand({ Bucket: 'big' }));
    });
    after(async () => {
      await s3?.close();
    });

    test('UploadPartCopy copies ranges of an object into parts', async () => {
      const source = Buffer.concat([block(0, 3 * MiB), block(1, 3 * MiB)]);
      await client.send(new PutObjectCommand({ Bucket: 'big', Key: 'src.bin', Body: source }));
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: 'big', Key: 'assembled.bin' }),
      );
      const first = await client.send(
        new UploadPartCopyCommand({
          Bucket: 'big',
          Key: 'assembled.bin',
          UploadId,
          PartNumber: 1,
          CopySource: 'big/src.bin',
          CopySourceRange: `bytes=0-${5 * MiB - 1}`,
        }),
      );
      const expectedFirst = createHash('md5')
        .update(source.subarray(0, 5 * MiB))
        .digest('hex');
      assert.equal(first.CopyPartResult?.ETag, `"${expectedFirst}"`);
      assert.ok(first.CopyPartResult?.LastModified instanceof Date);
      const whole = await client.send(
        new UploadPartCopyCommand({
          Bucket: 'big',
          Key: 'assembled.bin',
          UploadId,
          PartNumber: 2,
          CopySource: '/big/src.bin',
        }),
      );
      // The last part may be small.
      const last = await client.send(
        new UploadPartCopyCommand({
          Bucket: 'big',
          Key: 'assembled.bin',
          UploadId,
          PartNumber: 3,
          CopySource: 'big/src.bin',
          CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
        }),
      );

      const outOfRange = await failure(() =>
        client.send(
          new UploadPartCopyCommand({
            Bucket: 'big',
            Key: 'assembled.bin',
            UploadId,
            PartNumber: 5,
            CopySource: 'big/src.bin',
            CopySourceRange: `bytes=0-${6 * MiB}`,
          }),
        ),
      );
      assert.equal(outOfRange.name, 'InvalidRequest');
      const missing = await failure(() =>
        client.send(
          new UploadPartCopyCommand({
            Bucket: 'big',
            Key: 'assembled.bin',
            UploadId,
            PartNumber: 5,
            CopySource: 'big/nothing.bin',
          }),
        ),
      );
      assert.equal(missing.name, 'NoSuchKey');
      const unmet = await failure(() =>
        client.send(
          new UploadPartCopyCommand({
            Bucket: 'big',
            Key: 'assembled.bin',
            UploadId,
            PartNumber: 5,
            CopySource: 'big/src.bin',
            CopySourceIfMatch: '"not-the-etag"',
          }),
        ),
      );
      assert.equal(unmet.$metadata.httpStatusCode, 412);

      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'big',
          Key: 'assembled.bin',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: first.CopyPartResult!.ETag! },
              { PartNumber: 2, ETag: whole.CopyPartResult!.ETag! },
              { PartNumber: 3, ETag: last.CopyPartResult!.ETag! },
            ],
          },
        }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: 'big', Key: 'assembled.bin' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.ok(
        bytes.equals(
          Buffer.concat([source.subarray(0, 5 * MiB), source, source.subarray(5 * MiB)]),
        ),
      );
      assert.match(got.ETag!, /-3"$/);
    });

    test('a 100 MB upload through lib-storage round-trips byte for byte', async (t) => {
      const blockSize = MiB;
      const count = 100;
      let peakRss = 0;
      const baseline = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 50);
      try {
        const upload = new Upload({
          client,
          params: { Bucket: 'big', Key: 'hundred.bin', Body: blocks(count, blockSize) },
          partSize: 8 * MiB,
          queueSize: 2,
        });
        const done = await upload.done();
        assert.match(String(done.ETag), /-13"$/);

        const got = await client.send(new GetObjectCommand({ Bucket: 'big', Key: 'hundred.bin' }));
        assert.equal(got.ContentLength, count * blockSize);
        const expected = createHash('sha256');
        for (let i = 0; i < count; i++) expected.update(block(i, blockSize));
        const actual = createHash('sha256');
        for await (const piece of got.Body as Readable) actual.update(piece as Buffer);
        assert.equal(actual.digest('hex'), expected.digest('hex'));
      } finally {
        clearInterval(sampler);
      }
      const growthMiB = Math.round((peakRss - baseline) / MiB);
      t.diagnostic(
        `RSS: baseline ${Math.round(baseline / MiB)} MiB, peak ${Math.round(peakRss / MiB)} MiB ` +
          `(+${growthMiB} MiB) for a 100 MiB object, client and platform in one process`,
      );
      // lib-storage holds queueSize parts of 8 MiB in flight; the platform streams. Holding
      // the object whole anywhere would add at least 100 MiB.
      assert.ok(growthMiB < 100, `RSS grew by ${growthMiB} MiB`);
    });
  });
