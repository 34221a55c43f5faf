import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { clusterS3Clients, makeTestCluster, startClusterNode } from '../helpers/cluster.js';

/**
 * Two real `nimbus server` nodes on one PostgreSQL schema with `--blobs postgres`: S3 objects'
 * bytes are chunked rows of the shared store (PgObjectFiles), so an object one node stored the
 * other serves, whole and by range, and neither node's data dir holds it.
 */
describe('two nodes with S3 object bytes in PostgreSQL', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  test('an object put via node 1 is read whole and by range via node 2', async () => {
    const cluster = await makeTestCluster();
    cleanups.push(() => cluster.close());
    const start = (name: string) =>
      startClusterNode(cluster, name, ['--mqtt-port', 'off', '--blobs', 'postgres']);
    // One after the other: the first migrates the fresh schema.
    const n1 = await start('n1');
    const n2 = await start('n2');

    const [s3n1, s3n2] = await clusterS3Clients(cluster, [n1, n2], 's3 objects in postgres');
    cleanups.push(async () => {
      s3n1.destroy();
      s3n2.destroy();
    });
    const client = new pg.Client({ connectionString: cluster.pgUrl });
    await client.connect();
    cleanups.push(() => client.end());
    const rowsIn = async (table: string) =>
      Number(
        (await client.query(`select count(*) as n from "${cluster.schema}".${table}`)).rows[0].n,
      );

    await s3n1.send(new CreateBucketCommand({ Bucket: 'photos' }));
    // Over two 1 MiB chunk rows, so whole reads and ranges cross chunk boundaries.
    const body = randomBytes(2 * 1024 * 1024 + 12_345);
    await s3n1.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b.bin', Body: body }));
    assert.equal(await rowsIn('s3_object_blobs'), 1);
    assert.equal(await rowsIn('s3_object_chunks'), 3);

    const got = await s3n2.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/b.bin' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    const from = 1024 * 1024 - 10;
    const to = 2 * 1024 * 1024 + 5;
    const ranged = await s3n2.send(
      new GetObjectCommand({ Bucket: 'photos', Key: 'a/b.bin', Range: `bytes=${from}-${to}` }),
    );
    assert.equal(ranged.ContentRange, `bytes ${from}-${to}/${body.length}`);
    assert.deepEqual(
      Buffer.from(await ranged.Body!.transformToByteArray()),
      body.subarray(from, to + 1),
    );

    // A copy made through node 2 is read through node 1; deletes through either empty the tables.
    await s3n2.send(
      new CopyObjectCommand({ Bucket: 'photos', Key: 'copy.bin', CopySource: 'photos/a/b.bin' }),
    );
    const copied = await s3n1.send(new GetObjectCommand({ Bucket: 'photos', Key: 'copy.bin' }));
    assert.deepEqual(Buffer.from(await copied.Body!.transformToByteArray()), body);
    assert.equal(await rowsIn('s3_object_blobs'), 2);
    await s3n1.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'copy.bin' }));
    await s3n2.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'a/b.bin' }));
    assert.equal(await rowsIn('s3_object_blobs'), 0);
    assert.equal(await rowsIn('s3_object_chunks'), 0);
  });
});
