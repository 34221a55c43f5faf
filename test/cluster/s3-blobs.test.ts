import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  clusterS3Clients,
  makeTestCluster,
  startClusterNode,
  writeClusterService,
} from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait-for.js';
import { startS3Platform } from '../services/s3/s3-platform.js';

/**
 * Two real `nimbus server` nodes on one PostgreSQL schema with `--blobs s3://...`: artifacts and
 * S3 objects live in a bucket of an S3-compatible endpoint (here a third Nimbus's S3 service,
 * reached over HTTP with SigV4), so what one node stored the other serves.
 */
describe('two nodes with their blobs in an S3-compatible bucket', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  test('deploy through node 1, invoke through node 2; an S3 object put via 1 is read via 2', async () => {
    const cluster = await makeTestCluster();
    cleanups.push(() => cluster.close());
    const bucketHost = await startS3Platform();
    cleanups.push(bucketHost.close);
    const hostClient = bucketHost.client();
    cleanups.push(async () => hostClient.destroy());
    await hostClient.send(new CreateBucketCommand({ Bucket: 'nimbus-shared' }));

    // The bucket's keys reach the nodes from the environment only (never a flag).
    Object.assign(cluster.env, {
      NIMBUS_BLOBS_ACCESS_KEY_ID: bucketHost.key.id,
      NIMBUS_BLOBS_SECRET_ACCESS_KEY: bucketHost.key.secret,
    });
    const start = (name: string) =>
      startClusterNode(cluster, name, [
        '--mqtt-port',
        'off',
        '--blobs',
        's3://nimbus-shared/c1',
        '--blobs-endpoint',
        bucketHost.platform.url,
      ]);
    // One after the other: the first migrates the fresh schema.
    const n1 = await start('n1');
    const n2 = await start('n2');
    assert.match(n1.output(), /Blobs: S3 s3:\/\/nimbus-shared\/c1\/ at http:\/\/127\.0\.0\.1:\d+/);

    const svc = await writeClusterService(cluster, n1, [
      'service: s3b',
      'provider: { name: aws, runtime: nodejs20.x }',
      'functions:',
      '  hello:',
      '    handler: handler.hello',
      '    events: [{ httpApi: { path: /hello, method: get } }]',
    ]);
    await svc.write({
      'handler.js': "exports.hello = async () => ({ statusCode: 200, body: 'from the bucket' });\n",
    });
    const deployed = await svc.deploy();
    assert.equal(deployed.code, 0, deployed.stderr);
    await waitUntil(async () => {
      const res = await fetch(`${n2.url}/s3b-dev/hello`);
      return `${res.status} ${await res.text()}` === '200 from the bucket';
    }, 'node 2 to serve the function deployed through node 1');

    // The artifact is in the bucket, and node 2 cached it by content hash from there.
    const listed = await hostClient.send(
      new ListObjectsV2Command({ Bucket: 'nimbus-shared', Prefix: 'c1/sha256/' }),
    );
    const inBucket = (listed.Contents ?? []).map((o) => o.Key!.slice('c1/sha256/'.length));
    assert.ok(inBucket.length >= 1, 'the artifact is in the bucket');
    const cached = await readdir(join(cluster.dir, 'n2', 'blobs', 'sha256'), { recursive: true });
    assert.ok(
      cached.some((f) => inBucket.some((sha) => f.endsWith(sha))),
      'node 2 cached an artifact of the bucket',
    );

    // S3 objects: written through node 1's S3 service, read through node 2's.
    const [s3n1, s3n2] = await clusterS3Clients(cluster, [n1, n2], 's3 blobs');
    cleanups.push(async () => {
      s3n1.destroy();
      s3n2.destroy();
    });
    await s3n1.send(new CreateBucketCommand({ Bucket: 'photos' }));
    const body = Buffer.alloc(300_000, 'nimbus ');
    await s3n1.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b.txt', Body: body }));
    const got = await s3n2.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/b.txt' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    const ranged = await s3n2.send(
      new GetObjectCommand({ Bucket: 'photos', Key: 'a/b.txt', Range: 'bytes=7-13' }),
    );
    assert.equal(await ranged.Body!.transformToString(), 'nimbus ');
    const objectsInBucket = async () =>
      (
        await hostClient.send(
          new ListObjectsV2Command({ Bucket: 'nimbus-shared', Prefix: 'c1/objects/' }),
        )
      ).KeyCount ?? 0;
    assert.equal(await objectsInBucket(), 1);
    // A copy made through node 2 is read through node 1; deletes through either empty the bucket.
    await s3n2.send(
      new CopyObjectCommand({ Bucket: 'photos', Key: 'copy.txt', CopySource: 'photos/a/b.txt' }),
    );
    const copied = await s3n1.send(new GetObjectCommand({ Bucket: 'photos', Key: 'copy.txt' }));
    assert.deepEqual(Buffer.from(await copied.Body!.transformToByteArray()), body);
    assert.equal(await objectsInBucket(), 2);
    await s3n1.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'copy.txt' }));
    await s3n2.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'a/b.txt' }));
    assert.equal(await objectsInBucket(), 0);

    for (const n of [n1, n2]) assert.doesNotMatch(n.output(), new RegExp(bucketHost.key.secret));
  });
});
