import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { WalFlusher } from '../../src/store/sqlite-wal-flusher.js';
import { makeTempDir } from '../helpers/temp-dir.js';

test('WAL flusher: callers arriving while a sync runs share the next one', async () => {
  const tmp = await makeTempDir('nimbus-wal-flush-');
  try {
    const file = join(tmp.dir, 'nimbus.db');
    await writeFile(`${file}-wal`, 'frames');
    const flusher = new WalFlusher(file);
    // The first starts a sync at once; the four after it may have written after that sync
    // began, so one more sync answers all four.
    await Promise.all([1, 2, 3, 4, 5].map(() => flusher.flush()));
    assert.deepEqual(flusher.stats, { syncs: 2, callers: 5 });
    await flusher.flush();
    assert.deepEqual(flusher.stats, { syncs: 3, callers: 6 });
    await flusher.close();
  } finally {
    await tmp.cleanup();
  }
});

test('WAL flusher: a failed sync rejects its callers (not durable is an error)', async () => {
  const tmp = await makeTempDir('nimbus-wal-flush-');
  try {
    const flusher = new WalFlusher(join(tmp.dir, 'missing.db'));
    await assert.rejects(flusher.flush(), (error: Error & { code: string; cause: unknown }) => {
      assert.equal(error.code, 'NIMBUS_STORE_SYNC_FAILED');
      assert.equal((error.cause as { code: string }).code, 'ENOENT');
      return true;
    });
    await flusher.close();
  } finally {
    await tmp.cleanup();
  }
});
