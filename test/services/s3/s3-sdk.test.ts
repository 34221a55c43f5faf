/**
 * Every supported S3 operation through the official @aws-sdk/client-s3, against a platform
 * started in-process, on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { wrongSecret } from '../../helpers/wrong-secret.js';
import { failure, type S3Platform, s3Variants, startS3Platform } from './s3-platform.js';

const MiB = 1024 * 1024;

/** Deterministic bytes: block i of a large body, regenerated to compare without holding it. */
function block(i: number, size: number): Buffer {
  const seed = createHash('sha256').update(String(i)).digest();
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += seed.length) seed.copy(out, at);
  return out;
}

for (const variant of s3Variants)
  describe(`S3 through @aws-sdk/client-s3 on ${variant.name}`, () => {
    let s3: S3Platform;
    let client: S3Client;
    /** The headers of every request as it went on the wire. */
    const sent: Record<string, string>[] = [];

    before(async () => {
      s3 = await startS3Platform(variant);
      client = s3.client();
      client.middlewareStack.add(
        (next) => async (args) => {
          sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
          return next(args);
        },
        { step: 'deserialize', name: 'recordSentHeaders' },
      );
    });
    after(() => s3.close());

    const text = async (bucket: string, key: string) => {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return out.Body!.transformToString();
    };

    test('buckets: create, head, location, list, already owned, bad names, delete', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'alpha' }));
      await client.send(
        new CreateBucketCommand({
          Bucket: 'beta.with-dots',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
      const head = await client.send(new HeadBucketCommand({ Bucket: 'alpha' }));
      assert.equal(head.BucketRegion, 'us-east-1');
      const eu = await client.send(new GetBucketLocationCommand({ Bucket: 'beta.with-dots' }));
      assert.equal(eu.LocationConstraint, 'eu-west-1');
      const us = await client.send(new GetBucketLocationCommand({ Bucket: 'alpha' }));
      assert.equal(us.LocationConstraint ?? '', '');
      const list = await client.send(new ListBucketsCommand({}));
      assert.deepEqual(
        list.Buckets?.map((b) => b.Name),
        ['alpha', 'beta.with-dots'],
      );
      assert.ok(list.Buckets![0]!.CreationDate instanceof Date);

      const again = await failure(() => client.send(new CreateBucketCommand({ Bucket: 'alpha' })));
      assert.equal(again.name, 'BucketAlreadyOwnedByYou');
      assert.equal(again.$metadata.httpStatusCode, 409);
      for (const name of [
        'ab',
        'UPPER',
        'a..b',
        '192.168.1.1',
        '-dash',
        'x'.repeat(64),
        'xn--abc',
      ]) {
        const bad = await failure(() => client.send(new CreateBucketCommand({ Bucket: name })));
        assert.equal(bad.name, 'InvalidBucketName', name);
        assert.equal(bad.$metadata.httpStatusCode, 400);
      }
      const missing = await failure(() =>
        client.send(new HeadBucketCommand({ Bucket: 'nope-nope' })),
      );
      assert.equal(missing.$metadata.httpStatusCode, 404);
      await client.send(new DeleteBucketCommand({ Bucket: 'beta.with-dots' }));
      const gone = await failure(() =>
        client.send(new DeleteBucketCommand({ Bucket: 'beta.with-dots' })),
      );
      assert.equal(gone.name, 'NoSuchBucket');
      assert.equal(gone.$metadata.httpStatusCode, 404);
    });

    test('objects: put with default checksums, get, head, metadata and headers kept', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'objects' }));
      const body = 'hello, s3 ☃';
      const put = await client.send(
        new PutObjectCommand({
          Bucket: 'objects',
          Key: 'dir/hello.txt',
          Body: body,
          ContentType: 'text/plain; charset=utf-8',
          CacheControl: 'max-age=60',
          ContentDisposition: 'attachment; filename="hello.txt"',
          ContentEncoding: 'identity',
          ContentLanguage: 'en',
          Metadata: { owner: 'team-a', 'mixed-case': 'Value With Spaces' },
        }),
      );
      const md5 = createHash('md5').update(body).digest('hex');
      assert.equal(put.ETag, `"${md5}"`);
      // The SDK's defaults: a CRC32 checksum, which the platform verified and echoes.
      const putHeaders = sent.at(-1)!;
      assert.ok(
        putHeaders['x-amz-checksum-crc32'] || putHeaders['x-amz-trailer'],
        JSON.stringify(putHeaders),
      );
      assert.ok(put.ChecksumCRC32);

      const got = await client.send(
        new GetObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt', ChecksumMode: 'ENABLED' }),
      );
      assert.equal(await got.Body!.transformToString(), body);
      assert.equal(got.ETag, `"${md5}"`);
      assert.equal(got.ContentType, 'text/plain; charset=utf-8');
      assert.equal(got.CacheControl, 'max-age=60');
      assert.equal(got.ContentDisposition, 'attachment; filename="hello.txt"');
      assert.equal(got.ContentEncoding, 'identity');
      assert.equal(got.ContentLanguage, 'en');
      assert.equal(got.ContentLength, Buffer.byteLength(body));
      assert.deepEqual(got.Metadata, { owner: 'team-a', 'mixed-case': 'Value With Spaces' });
      assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
      assert.ok(got.LastModified instanceof Date);

      const head = await client.send(
        new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }),
      );
      assert.equal(head.ContentLength, Buffer.byteLength(body));
      assert.equal(head.ETag, `"${md5}"`);
      assert.equal(head.Metadata?.owner, 'team-a');

      const noType = await client.send(
        new PutObjectCommand({ Bucket: 'objects', Key: 'bin', Body: new Uint8Array([0, 1, 2]) }),
      );
      assert.ok(noType.ETag);
      const empty = await client.send(
        new PutObjectCommand({ Bucket: 'objects', Key: 'empty', Body: '' }),
      );
      assert.equal(empty.ETag, `"${createHash('md5').digest('hex')}"`);
      assert.equal(await text('objects', 'empty'), '');
    });

    test('overwrite replaces bytes and metadata; delete removes; missing keys and buckets', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'overwrite' }));
      await client.send(
        new PutObjectCommand({ Bucket: 'overwrite', Key: 'k', Body: 'one', Metadata: { v: '1' } }),
      );
      await client.send(new PutObjectCommand({ Bucket: 'overwrite', Key: 'k', Body: 'two' }));
      assert.equal(await text('overwrite', 'k'), 'two');
      const head = await client.send(new HeadObjectCommand({ Bucket: 'overwrite', Key: 'k' }));
      assert.deepEqual(head.Metadata, {});
      // Past US-ASCII: the SDK signs the value as text and sends it as UTF-8 (a no-break space,
      // French typography, is also whitespace to ECMAScript's \s but not to the SDK's signer;
      // Node's HTTP client refuses characters past U+00FF in a header, so none are sent);
      // S3 stores the text and returns it RFC 2047-encoded, which the SDK passes on as it is.
      const nbsp = 'prix\u00a0: 10, crème brûlée';
      await client.send(
        new PutObjectCommand({ Bucket: 'overwrite', Key: 'k', Body: 'three', Metadata: { nbsp } }),
      );
      const withNbsp = await client.send(new HeadObjectCommand({ Bucket: 'overwrite', Key: 'k' }));
      const encoded = `=?UTF-8?B?${Buffer.from(nbsp).toString('base64')}?=`;
      assert.deepEqual(withNbsp.Metadata, { nbsp: encoded });
      // An encoded-word sent in is decoded before it is stored (the same text comes back).
      await client.send(
        new PutObjectCommand({
          Bucket: 'overwrite',
          Key: 'k2',
          Body: 'four',
          Metadata: { nbsp: encoded, plain: 'ascii =? stays' },
        }),
      );
      const again = await client.send(new HeadObjectCommand({ Bucket: 'overwrite', Key: 'k2' }));
      assert.deepEqual(again.Metadata, { nbsp: encoded, plain: 'ascii =? stays' });
      await client.send(new DeleteObjectCommand({ Bucket: 'overwrite', Key: 'k2' }));

      const noKey = await failure(() =>
        client.send(new GetObjectCommand({ Bucket: 'overwrite', Key: 'absent' })),
      );
      assert.equal(noKey.name, 'NoSuchKey');
      assert.equal(noKey.$metadata.httpStatusCode, 404);
      const headMissing = await failure(() =>
        client.send(new HeadObjectCommand({ Bucket: 'overwrite', Key: 'absent' })),
      );
      assert.equal(headMissing.$metadata.httpStatusCode, 404);
      const noBucket = await failure(() =>
        client.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
      );
      assert.equal(noBucket.name, 'NoSuchBucket');
      const putNoBucket = await failure(() =>
        client.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })),
      );
      assert.equal(putNoBucket.name, 'NoSuchBucket');

      const notEmpty = await failure(() =>
        client.send(new DeleteBucketCommand({ Bucket: 'overwrite' })),
      );
      assert.equal(notEmpty.name, 'BucketNotEmpty');
      assert.equal(notEmpty.$metadata.httpStatusCode, 409);

      await client.send(new DeleteObjectCommand({ Bucket: 'overwrite', Key: 'k' }));
      // Deleting what is not there succeeds, as on S3.
      await client.send(new DeleteObjectCommand({ Bucket: 'overwrite', Key: 'k' }));
      const deleted = await failure(() =>
        client.send(new GetObjectCommand({ Bucket: 'overwrite', Key: 'k' })),
      );
      assert.equal(deleted.name, 'NoSuchKey');
      await client.send(new DeleteBucketCommand({ Bucket: 'overwrite' }));
    });

    test('ranges: 206 with Content-Range, suffix and open ranges, 416 InvalidRange', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'ranges' }));
      await client.send(
        new PutObjectCommand({ Bucket: 'ranges', Key: 'digits', Body: '0123456789' }),
      );
      const get = (Range: string) =>
        client.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', Range }));
      const mid = await get('bytes=2-5');
      assert.equal(mid.$metadata.httpStatusCode, 206);
      assert.equal(mid.ContentRange, 'bytes 2-5/10');
      assert.equal(mid.ContentLength, 4);
      assert.equal(await mid.Body!.transformToString(), '2345');
      assert.equal(await (await get('bytes=7-')).Body!.transformToString(), '789');
      assert.equal(await (await get('bytes=-3')).Body!.transformToString(), '789');
      assert.equal(await (await get('bytes=8-100')).Body!.transformToString(), '89');
      const bad = await failure(() => get('bytes=10-20'));
      assert.equal(bad.name, 'InvalidRange');
      assert.equal(bad.$metadata.httpStatusCode, 416);
    });

    test('conditional reads: If-Match 412, If-None-Match 304, If-Modified-Since 304', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'conditions' }));
      const put = await client.send(
        new PutObjectCommand({ Bucket: 'conditions', Key: 'c', Body: 'x' }),
      );
      const get = (input: Record<string, unknown>) =>
        client.send(new GetObjectCommand({ Bucket: 'conditions', Key: 'c', ...input }));
      assert.equal((await get({ IfMatch: put.ETag })).$metadata.httpStatusCode, 200);
      const mismatch = await failure(() => get({ IfMatch: '"0000"' }));
      assert.equal(mismatch.name, 'PreconditionFailed');
      assert.equal(mismatch.$metadata.httpStatusCode, 412);
      const notModified = await failure(() => get({ IfNoneMatch: put.ETag }));
      assert.equal(notModified.$metadata.httpStatusCode, 304);
      assert.equal((await get({ IfNoneMatch: '"0000"' })).$metadata.httpStatusCode, 200);
      const future = new Date(Date.now() + 3600_000);
      const past = new Date(Date.now() - 3600_000);
      assert.equal(
        (await failure(() => get({ IfModifiedSince: future }))).$metadata.httpStatusCode,
        304,
      );
      assert.equal((await get({ IfModifiedSince: past })).$metadata.httpStatusCode, 200);
      const unmodified = await failure(() => get({ IfUnmodifiedSince: past }));
      assert.equal(unmodified.$metadata.httpStatusCode, 412);
      const headMismatch = await failure(() =>
        client.send(new HeadObjectCommand({ Bucket: 'conditions', Key: 'c', IfMatch: '"0000"' })),
      );
      assert.equal(headMismatch.$metadata.httpStatusCode, 412);
    });

    test('CopyObject: COPY keeps metadata, REPLACE takes the new; self-copy needs REPLACE', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'copy-src' }));
      await client.send(new CreateBucketCommand({ Bucket: 'copy-dst' }));
      const put = await client.send(
        new PutObjectCommand({
          Bucket: 'copy-src',
          Key: 'a b/ü.txt',
          Body: 'copied bytes',
          ContentType: 'text/x-original',
          Metadata: { from: 'source' },
        }),
      );
      const copy = await client.send(
        new CopyObjectCommand({
          Bucket: 'copy-dst',
          Key: 'kept',
          CopySource: `copy-src/${encodeURIComponent('a b/ü.txt')}`,
        }),
      );
      assert.equal(copy.CopyObjectResult?.ETag, put.ETag);
      const kept = await client.send(new GetObjectCommand({ Bucket: 'copy-dst', Key: 'kept' }));
      assert.equal(await kept.Body!.transformToString(), 'copied bytes');
      assert.equal(kept.ContentType, 'text/x-original');
      assert.deepEqual(kept.Metadata, { from: 'source' });

      await client.send(
        new CopyObjectCommand({
          Bucket: 'copy-dst',
          Key: 'replaced',
          CopySource: `/copy-src/${encodeURIComponent('a b/ü.txt')}`,
          MetadataDirective: 'REPLACE',
          ContentType: 'text/x-new',
          Metadata: { to: 'target' },
        }),
      );
      const replaced = await client.send(
        new HeadObjectCommand({ Bucket: 'copy-dst', Key: 'replaced' }),
      );
      assert.equal(replaced.ContentType, 'text/x-new');
      assert.deepEqual(replaced.Metadata, { to: 'target' });

      const self = await failure(() =>
        client.send(
          new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'kept', CopySource: 'copy-dst/kept' }),
        ),
      );
      assert.equal(self.name, 'InvalidRequest');
      await client.send(
        new CopyObjectCommand({
          Bucket: 'copy-dst',
          Key: 'kept',
          CopySource: 'copy-dst/kept',
          MetadataDirective: 'REPLACE',
          Metadata: { refreshed: 'yes' },
        }),
      );
      assert.equal(await text('copy-dst', 'kept'), 'copied bytes');
      const missing = await failure(() =>
        client.send(
          new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'x', CopySource: 'copy-src/absent' }),
        ),
      );
      assert.equal(missing.name, 'NoSuchKey');
      const precondition = await failure(() =>
        client.send(
          new CopyObjectCommand({
            Bucket: 'copy-dst',
            Key: 'x',
            CopySource: 'copy-dst/kept',
            CopySourceIfMatch: '"0000"',
          }),
        ),
      );
      assert.equal(precondition.$metadata.httpStatusCode, 412);
    });

    test('ListObjectsV2: prefix, delimiter, max-keys, continuation, start-after; v1 marker', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'listing' }));
      const keys = [
        'a.txt',
        'docs/2024/jan.md',
        'docs/2024/feb.md',
        'docs/readme.md',
        'docs/2025/mar.md',
        'photos/cat.jpg',
        'photos/dog.jpg',
        'z',
        'Zebra',
        'émoji-😀',
      ];
      for (const Key of keys)
        await client.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
      // Byte order of UTF-8, as S3 sorts.
      const byteOrder = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

      const all = await client.send(new ListObjectsV2Command({ Bucket: 'listing' }));
      assert.deepEqual(
        all.Contents?.map((c) => c.Key),
        byteOrder,
      );
      assert.equal(all.KeyCount, keys.length);
      assert.equal(all.IsTruncated, false);
      assert.equal(all.Contents![0]!.Size, Buffer.byteLength(byteOrder[0]!));
      assert.ok(all.Contents![0]!.ETag);

      const top = await client.send(
        new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }),
      );
      assert.deepEqual(
        top.CommonPrefixes?.map((p) => p.Prefix),
        ['docs/', 'photos/'],
      );
      assert.deepEqual(
        top.Contents?.map((c) => c.Key),
        ['Zebra', 'a.txt', 'z', 'émoji-😀'],
      );

      const docs = await client.send(
        new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'docs/', Delimiter: '/' }),
      );
      assert.deepEqual(
        docs.CommonPrefixes?.map((p) => p.Prefix),
        ['docs/2024/', 'docs/2025/'],
      );
      assert.deepEqual(
        docs.Contents?.map((c) => c.Key),
        ['docs/readme.md'],
      );

      // Pages of 3 with a delimiter: common prefixes count as entries and never repeat.
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page: ListObjectsV2CommandOutput = await client.send(
          new ListObjectsV2Command({
            Bucket: 'listing',
            Delimiter: '/',
            MaxKeys: 3,
            ContinuationToken: token,
          }),
        );
        assert.ok((page.KeyCount ?? 0) <= 3);
        seen.push(
          ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
          ...(page.Contents ?? []).map((c) => c.Key!),
        );
        token = page.NextContinuationToken;
        assert.equal(page.IsTruncated, token !== undefined);
      } while (token);
      assert.deepEqual(seen.sort(), ['Zebra', 'a.txt', 'docs/', 'photos/', 'z', 'émoji-😀'].sort());

      const pagedKeys: string[] = [];
      token = undefined;
      do {
        const page: ListObjectsV2CommandOutput = await client.send(
          new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 4, ContinuationToken: token }),
        );
        pagedKeys.push(...(page.Contents ?? []).map((c) => c.Key!));
        token = page.NextContinuationToken;
      } while (token);
      assert.deepEqual(pagedKeys, byteOrder);

      const after = await client.send(
        new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'photos/cat.jpg' }),
      );
      assert.deepEqual(
        after.Contents?.map((c) => c.Key),
        byteOrder.slice(byteOrder.indexOf('photos/cat.jpg') + 1),
      );

      const v1: string[] = [];
      let marker: string | undefined;
      while (true) {
        const page: ListObjectsCommandOutput = await client.send(
          new ListObjectsCommand({ Bucket: 'listing', MaxKeys: 3, Marker: marker }),
        );
        v1.push(...(page.Contents ?? []).map((c) => c.Key!));
        if (!page.IsTruncated) break;
        marker = page.NextMarker ?? page.Contents!.at(-1)!.Key;
      }
      assert.deepEqual(v1, byteOrder);
      const v1Prefixes = await client.send(
        new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/' }),
      );
      assert.deepEqual(
        v1Prefixes.CommonPrefixes?.map((p) => p.Prefix),
        ['docs/', 'photos/'],
      );

      const none = await client.send(
        new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'nothing/' }),
      );
      assert.equal(none.KeyCount, 0);
      assert.equal(none.Contents, undefined);
      const noBucket = await failure(() =>
        client.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })),
      );
      assert.equal(noBucket.name, 'NoSuchBucket');
    });

    test('DeleteObjects: deleted keys reported, Quiet reports none, absent keys count as deleted', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'bulk' }));
      for (const Key of ['a', 'b', 'c', 'd & <e>']) {
        await client.send(new PutObjectCommand({ Bucket: 'bulk', Key, Body: Key }));
      }
      const out = await client.send(
        new DeleteObjectsCommand({
          Bucket: 'bulk',
          Delete: { Objects: [{ Key: 'a' }, { Key: 'd & <e>' }, { Key: 'never' }] },
        }),
      );
      assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ['a', 'd & <e>', 'never']);
      assert.equal(out.Errors, undefined);
      const quiet = await client.send(
        new DeleteObjectsCommand({
          Bucket: 'bulk',
          Delete: { Objects: [{ Key: 'b' }], Quiet: true },
        }),
      );
      assert.equal(quiet.Deleted, undefined);
      const left = await client.send(new ListObjectsV2Command({ Bucket: 'bulk' }));
      assert.deepEqual(
        left.Contents?.map((c) => c.Key),
        ['c'],
      );
    });

    test('hostile keys are names only: round trip, list, nothing outside the data dir', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'hostile' }));
      const keys = [
        '../../../../etc/passwd',
        '/absolute/path',
        '..',
        '.',
        'a/../b',
        'a//b',
        'nul\u0000byte',
        'back\\slash',
        'ctl\u0001\u001f',
        'line\r\nbreak',
        'percent%2Fslash',
        'plus+and space',
        'query?x=1&y=2#frag',
        '<xml>&amp;"quote"\'',
        '\u{1F600}😀 日本語',
        'k'.repeat(1024),
      ];
      for (const Key of keys) {
        await client.send(new PutObjectCommand({ Bucket: 'hostile', Key, Body: `body of ${Key}` }));
        assert.equal(await text('hostile', Key), `body of ${Key}`, JSON.stringify(Key));
        const head = await client.send(new HeadObjectCommand({ Bucket: 'hostile', Key }));
        assert.equal(head.ContentLength, Buffer.byteLength(`body of ${Key}`));
      }
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'hostile' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key).sort(), [...keys].sort());
      const tooLong = await failure(() =>
        client.send(new PutObjectCommand({ Bucket: 'hostile', Key: 'k'.repeat(1025), Body: 'x' })),
      );
      assert.equal(tooLong.name, 'KeyTooLongError');
      assert.equal(tooLong.$metadata.httpStatusCode, 400);
      const multiByte = await failure(() =>
        client.send(new PutObjectCommand({ Bucket: 'hostile', Key: 'é'.repeat(513), Body: 'x' })),
      );
      assert.equal(multiByte.name, 'KeyTooLongError');
      // Every file under the S3 directory is a generated blob id: no key became a path. On
      // PostgreSQL the bytes are rows of the store (PgObjectFiles): there is no such directory.
      if (variant.name === 'postgres') {
        await assert.rejects(readdir(join(s3.dataDir, 's3')), { code: 'ENOENT' });
      } else {
        const files = await listFiles(join(s3.dataDir, 's3'));
        for (const file of files)
          assert.match(file, /^(objects\/[0-9a-f]{2}(\/[0-9a-f]{32})?|tmp)$/, file);
      }
      const outside = await listFiles(s3.dataDir);
      assert.ok(!outside.some((f) => f.includes('passwd') || f.includes('absolute')));
      await client.send(
        new DeleteObjectsCommand({
          Bucket: 'hostile',
          Delete: { Objects: keys.map((Key) => ({ Key })) },
        }),
      );
      const after = await client.send(new ListObjectsV2Command({ Bucket: 'hostile' }));
      assert.equal(after.KeyCount, 0);
    });

    test('a 20 MB streamed PUT and GET match byte for byte', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'large' }));
      const blocks = 20;
      const md5 = createHash('md5');
      for (let i = 0; i < blocks; i++) md5.update(block(i, MiB));
      const body = Readable.from(
        (function* () {
          for (let i = 0; i < blocks; i++) yield block(i, MiB);
        })(),
      );
      const put = await client.send(
        new PutObjectCommand({
          Bucket: 'large',
          Key: 'big.bin',
          Body: body,
          ContentLength: blocks * MiB,
        }),
      );
      assert.equal(put.ETag, `"${md5.digest('hex')}"`);
      const got = await client.send(new GetObjectCommand({ Bucket: 'large', Key: 'big.bin' }));
      assert.equal(got.ContentLength, blocks * MiB);
      let offset = 0;
      for await (const chunk of got.Body as Readable) {
        const piece = chunk as Buffer;
        let at = 0;
        while (at < piece.length) {
          const i = Math.floor(offset / MiB);
          const within = offset % MiB;
          const take = Math.min(piece.length - at, MiB - within);
          const expected = block(i, MiB).subarray(within, within + take);
          assert.ok(piece.subarray(at, at + take).equals(expected), `bytes differ at ${offset}`);
          at += take;
          offset += take;
        }
      }
      assert.equal(offset, blocks * MiB);
    });

    test('a wrong secret is 403 SignatureDoesNotMatch and stores nothing', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'secrets' }));
      const wrong = s3.client({
        credentials: { accessKeyId: s3.key.id, secretAccessKey: wrongSecret(s3.key.secret) },
      });
      const err = await failure(() =>
        wrong.send(new PutObjectCommand({ Bucket: 'secrets', Key: 'k', Body: 'x' })),
      );
      assert.equal(err.name, 'SignatureDoesNotMatch');
      assert.equal(err.$metadata.httpStatusCode, 403);
      const stranger = s3.client({
        credentials: { accessKeyId: 'NIMBAAAAAAAAAAAAAAAA', secretAccessKey: s3.key.secret },
      });
      const unknown = await failure(() => stranger.send(new ListBucketsCommand({})));
      assert.equal(unknown.name, 'InvalidAccessKeyId');
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'secrets' }));
      assert.equal(listed.KeyCount, 0);
      const bad = await failure(() =>
        wrong.send(new CreateBucketCommand({ Bucket: 'never-made' })),
      );
      assert.equal(bad.name, 'SignatureDoesNotMatch');
      const missing = await failure(() =>
        client.send(new HeadBucketCommand({ Bucket: 'never-made' })),
      );
      assert.equal(missing.$metadata.httpStatusCode, 404);
    });

    test('multipart: create, upload parts, list, complete with -N ETag; abort; list uploads', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'multi' }));
      const created = await client.send(
        new CreateMultipartUploadCommand({
          Bucket: 'multi',
          Key: 'assembled.bin',
          ContentType: 'application/x-parts',
          Metadata: { parts: 'two' },
        }),
      );
      const UploadId = created.UploadId!;
      const first = block(1, 5 * MiB);
      const second = Buffer.from('tail');
      const p1 = await client.send(
        new UploadPartCommand({
          Bucket: 'multi',
          Key: 'assembled.bin',
          UploadId,
          PartNumber: 1,
          Body: first,
        }),
      );
      const p2 = await client.send(
        new UploadPartCommand({
          Bucket: 'multi',
          Key: 'assembled.bin',
          UploadId,
          PartNumber: 2,
          Body: second,
        }),
      );
      const parts = await client.send(
        new ListPartsCommand({ Bucket: 'multi', Key: 'assembled.bin', UploadId }),
      );
      assert.deepEqual(
        parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
        [
          [1, first.length, p1.ETag],
          [2, second.length, p2.ETag],
        ],
      );
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: 'multi' }));
      assert.deepEqual(
        uploads.Uploads?.map((u) => [u.Key, u.UploadId]),
        [['assembled.bin', UploadId]],
      );
      const prefixed = await client.send(
        new ListMultipartUploadsCommand({ Bucket: 'multi', Prefix: 'assem' }),
      );
      assert.equal(prefixed.Uploads?.length, 1);
      const other = await client.send(
        new ListMultipartUploadsCommand({ Bucket: 'multi', Prefix: 'b' }),
      );
      assert.equal(other.Uploads, undefined);

      const done = await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'multi',
          Key: 'assembled.bin',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: p1.ETag },
              { PartNumber: 2, ETag: p2.ETag },
            ],
          },
        }),
      );
      const partMd5s = Buffer.concat(
        [first, second].map((b) => createHash('md5').update(b).digest()),
      );
      assert.equal(done.ETag, `"${createHash('md5').update(partMd5s).digest('hex')}-2"`);
      const got = await client.send(
        new GetObjectCommand({ Bucket: 'multi', Key: 'assembled.bin' }),
      );
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.ok(bytes.equals(Buffer.concat([first, second])));
      assert.equal(got.ContentType, 'application/x-parts');
      assert.deepEqual(got.Metadata, { parts: 'two' });
      assert.equal(got.ETag, done.ETag);
      const finished = await client.send(new ListMultipartUploadsCommand({ Bucket: 'multi' }));
      assert.equal(finished.Uploads, undefined);

      // Too small a non-final part, a wrong ETag, then abort.
      const small = await client.send(
        new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'small' }),
      );
      const s1 = await client.send(
        new UploadPartCommand({
          Bucket: 'multi',
          Key: 'small',
          UploadId: small.UploadId,
          PartNumber: 1,
          Body: 'a',
        }),
      );
      const s2 = await client.send(
        new UploadPartCommand({
          Bucket: 'multi',
          Key: 'small',
          UploadId: small.UploadId,
          PartNumber: 2,
          Body: 'b',
        }),
      );
      const tooSmall = await failure(() =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'multi',
            Key: 'small',
            UploadId: small.UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: s1.ETag },
                { PartNumber: 2, ETag: s2.ETag },
              ],
            },
          }),
        ),
      );
      assert.equal(tooSmall.name, 'EntityTooSmall');
      const wrongTag = await failure(() =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'multi',
            Key: 'small',
            UploadId: small.UploadId,
            MultipartUpload: {
              Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }],
            },
          }),
        ),
      );
      assert.equal(wrongTag.name, 'InvalidPart');
      await client.send(
        new AbortMultipartUploadCommand({
          Bucket: 'multi',
          Key: 'small',
          UploadId: small.UploadId,
        }),
      );
      const aborted = await failure(() =>
        client.send(
          new ListPartsCommand({ Bucket: 'multi', Key: 'small', UploadId: small.UploadId }),
        ),
      );
      assert.equal(aborted.name, 'NoSuchUpload');
      assert.equal(aborted.$metadata.httpStatusCode, 404);
      const absent = await failure(() =>
        client.send(new HeadObjectCommand({ Bucket: 'multi', Key: 'small' })),
      );
      assert.equal(absent.$metadata.httpStatusCode, 404);
    });

    test('object tagging: x-amz-tagging on put, put/get/delete tagging', async () => {
      await client.send(new CreateBucketCommand({ Bucket: 'tags' }));
      await client.send(
        new PutObjectCommand({
          Bucket: 'tags',
          Key: 't',
          Body: 'x',
          Tagging: 'team=a&env=dev%20box',
        }),
      );
      const initial = await client.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 't' }));
      assert.deepEqual(initial.TagSet, [
        { Key: 'team', Value: 'a' },
        { Key: 'env', Value: 'dev box' },
      ]);
      const got = await client.send(new GetObjectCommand({ Bucket: 'tags', Key: 't' }));
      assert.equal(got.TagCount, 2);
      await client.send(
        new PutObjectTaggingCommand({
          Bucket: 'tags',
          Key: 't',
          Tagging: { TagSet: [{ Key: 'k', Value: '<v&>' }] },
        }),
      );
      const replaced = await client.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 't' }));
      assert.deepEqual(replaced.TagSet, [{ Key: 'k', Value: '<v&>' }]);
      await client.send(new DeleteObjectTaggingCommand({ Bucket: 'tags', Key: 't' }));
      const cleared = await client.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 't' }));
      assert.deepEqual(cleared.TagSet ?? [], []);
      const tooMany = await failure(() =>
        client.send(
          new PutObjectTaggingCommand({
            Bucket: 'tags',
            Key: 't',
            Tagging: {
              TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
            },
          }),
        ),
      );
      assert.equal(tooMany.name, 'InvalidTag');
      const missing = await failure(() =>
        client.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'nope' })),
      );
      assert.equal(missing.name, 'NoSuchKey');
    });
  });

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const inner = await listFiles(root, path);
      out.push(...(inner.length > 0 ? inner : [path]));
    } else out.push(path);
  }
  return out;
}
