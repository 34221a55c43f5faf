import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { CachedBlobStore } from '../../src/blob/cached-blob-store.js';
import { FsBlobStore } from '../../src/blob/fs-blob-store.js';
import {
  checkS3Bucket,
  openS3BlobsClient,
  parseS3BlobsUrl,
  S3BlobStore,
  type S3BlobsOptions,
} from '../../src/blob/s3-blob-store.js';
import { S3ObjectFiles } from '../../src/services/s3/s3-object-files.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { type S3Platform, startS3Platform } from '../services/s3/s3-platform.js';
import { blobStoreContract } from './blob-store-contract.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The S3 adapter against a real S3-compatible endpoint: a second Nimbus platform's own S3
 * service, reached over HTTP with SigV4 by the AWS SDK, as any bucket would be.
 */
describe('S3BlobStore on an S3-compatible endpoint', () => {
  let endpoint: S3Platform;
  let client: S3Client;
  let options: S3BlobsOptions;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    endpoint = await startS3Platform();
    tmp = await makeTempDir('nimbus-s3blob-');
    options = {
      kind: 's3',
      bucket: 'nimbus-blobs',
      prefix: 'cluster-a/',
      endpoint: endpoint.platform.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: endpoint.key.id, secretAccessKey: endpoint.key.secret },
    };
    client = openS3BlobsClient(options);
    await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
  });
  after(async () => {
    client?.destroy();
    await endpoint?.close();
    await tmp?.cleanup();
  });

  blobStoreContract('s3', () => new S3BlobStore(client, options));
  blobStoreContract(
    's3 behind the disk cache',
    () =>
      new CachedBlobStore(new S3BlobStore(client, options), new FsBlobStore(join(tmp.dir, 'c'))),
  );

  it('parses s3://bucket[/prefix] and refuses what is not one', () => {
    assert.deepEqual(parseS3BlobsUrl('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3BlobsUrl('s3://my.bucket/a/b/'), {
      bucket: 'my.bucket',
      prefix: 'a/b/',
    });
    for (const bad of ['s3://', 's3://UPPER', 's3://a', 'http://b/c', 's3://bucket/../x']) {
      assert.equal(parseS3BlobsUrl(bad), undefined, bad);
    }
  });

  it('lays blobs out at <prefix>sha256/<hex>; checks the bucket at start', async () => {
    const blobs = new S3BlobStore(client, options);
    const data = Buffer.from('laid out');
    await blobs.put(sha(data), data);
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: options.bucket, Prefix: 'cluster-a/sha256/' }),
    );
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      [`cluster-a/sha256/${sha(data)}`],
    );
    await blobs.delete(sha(data));
    await checkS3Bucket(client, options);
    await assert.rejects(checkS3Bucket(client, { ...options, bucket: 'no-such-bucket' }), {
      code: 'NIMBUS_BLOBS_UNAVAILABLE',
      message:
        /s3:\/\/no-such-bucket\/cluster-a\/ at http:\/\/127\.0\.0\.1:\d+: the bucket does not exist/,
    });
    const wrongKey = openS3BlobsClient({
      ...options,
      credentials: { accessKeyId: endpoint.key.id, secretAccessKey: 'not-the-secret' },
    });
    try {
      const error = await checkS3Bucket(wrongKey, options).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.match(String(error?.message), /access denied/);
      assert.doesNotMatch(String(error?.message), /not-the-secret/);
    } finally {
      wrongKey.destroy();
    }
  });

  it('one node stores, another fetches it from the bucket once, then serves it from disk', async () => {
    const shared = new S3BlobStore(client, options);
    const node1 = new CachedBlobStore(shared, new FsBlobStore(join(tmp.dir, 'n1')));
    const node2 = new CachedBlobStore(shared, new FsBlobStore(join(tmp.dir, 'n2')));
    const data = Buffer.alloc(100_000, 9);
    const key = sha(data);
    await node1.put(key, data);
    assert.equal(await node2.has(key), true);
    assert.deepEqual(await buffer(node2.stream(key)), data);
    assert.deepEqual(await readdir(join(tmp.dir, 'n2', 'sha256', key.slice(0, 2))), [key]);
    await shared.delete(key);
    assert.deepEqual(await node2.get(key), data);
  });

  it("S3 objects' bytes: streamed in, ranged out, copied, removed; an oversize body leaves nothing", async () => {
    const files = new S3ObjectFiles(client, { ...options, stagingDir: join(tmp.dir, 'stage') });
    await files.start();
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(64 * 1024, i);
    }
    const written = await files.write(pieces(), 10 * 64 * 1024);
    assert.equal(written.size, 640 * 1024);
    const whole = await buffer(files.read(written.blobId));
    assert.equal(whole.length, written.size);
    assert.equal(createHash('md5').update(whole).digest('hex'), written.md5Hex);
    const range = await buffer(
      files.read(written.blobId, { start: 64 * 1024 - 1, end: 64 * 1024 }),
    );
    assert.deepEqual([...range], [0, 1]);
    const copy = await files.copy(written.blobId);
    assert.deepEqual(await buffer(files.read(copy)), whole);
    await files.remove(written.blobId);
    await files.remove(written.blobId);
    await assert.rejects(buffer(files.read(written.blobId)));
    assert.deepEqual(await buffer(files.read(copy)), whole);
    await files.remove(copy);
    const empty = await files.write((async function* () {})(), 10);
    assert.deepEqual(await buffer(files.read(empty.blobId)), Buffer.alloc(0));
    await files.remove(empty.blobId);

    await assert.rejects(files.write(pieces(), 100_000), { code: 'NIMBUS_S3_TOO_LARGE' });
    const left = await client.send(
      new ListObjectsV2Command({ Bucket: options.bucket, Prefix: 'cluster-a/objects/' }),
    );
    assert.equal(left.KeyCount ?? 0, 0);
    assert.deepEqual(await readdir(join(tmp.dir, 'stage', 'tmp')), []);
    await files.stop();
  });
});
