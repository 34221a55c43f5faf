/**
 * S3Metadata.completeUpload with composed parts (ObjectFiles.compose): the parts the object is
 * made of are not handed back as unreferenced, and a part replaced since it was composed rolls the
 * whole completion back (the upload and its parts stay, no object row), on a real SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Metadata } from '../../../src/services/s3/s3-metadata.js';
import { openDatabase } from '../../../src/store/open-store.js';

describe('S3Metadata.completeUpload with composed parts', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof openDatabase>>;
  let meta: S3Metadata;
  const object = (blobId: string) => ({
    bucket: 'b',
    key: 'k',
    blobId,
    size: 10,
    etag: '"x-2"',
    lastModified: 2,
    headers: {},
    userMetadata: {},
  });
  const part = (uploadId: string, partNumber: number, blobId: string) => ({
    uploadId,
    partNumber,
    blobId,
    size: 5,
    etag: `"${blobId}"`,
    lastModified: 1,
  });
  const upload = async (id: string) => {
    await meta.createUpload({
      id,
      bucket: 'b',
      key: 'k',
      initiatedAt: 1,
      headers: {},
      userMetadata: {},
    });
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimbus-s3-meta-'));
    db = await openDatabase('sqlite:', { dataDir: dir });
    meta = new S3Metadata(db);
    await meta.createBucket({ name: 'b', region: 'us-east-1', createdAt: 0 });
  });
  after(async () => {
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the composed parts out of unreferenced, hands back the others and the old object', async () => {
    await upload('u1');
    for (const [n, blob] of [
      [1, 'a1'],
      [2, 'a2'],
      [3, 'a3'],
    ] as const)
      await meta.putPart(part('u1', n, blob));
    const first = await meta.completeUpload('u1', object('c1.parts'), ['a1', 'a2']);
    assert.deepEqual(first, { stored: true, unreferenced: ['a3'] });
    await upload('u2');
    await meta.putPart(part('u2', 1, 'b1'));
    const second = await meta.completeUpload('u2', object('c2.parts'), ['b1']);
    assert.deepEqual(second, { stored: true, unreferenced: ['c1.parts'] });
    assert.equal((await meta.findObject('b', 'k'))?.blobId, 'c2.parts');
  });

  it('rolls back when a composed part was replaced before the transaction', async () => {
    await upload('u3');
    await meta.putPart(part('u3', 1, 'd1'));
    await meta.putPart(part('u3', 2, 'd2'));
    // Part 2 uploaded again after Complete composed d1 + d2.
    const replaced = await meta.putPart(part('u3', 2, 'd2-new'));
    assert.equal(replaced.replaced, 'd2');
    const outcome = await meta.completeUpload('u3', object('c3.parts'), ['d1', 'd2']);
    assert.deepEqual(outcome, { stored: false, partsChanged: true, unreferenced: [] });
    // Nothing changed: the upload and its parts are there, the object is the earlier one.
    assert.deepEqual(
      (await meta.listParts('u3')).map((p) => p.blobId),
      ['d1', 'd2-new'],
    );
    assert.equal((await meta.findObject('b', 'k'))?.blobId, 'c2.parts');
  });
});
