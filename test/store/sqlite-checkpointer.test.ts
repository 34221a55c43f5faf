import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { fallbackAutocheckpointPages } from '../../src/store/sqlite-checkpointer.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

describe('SQLite WAL checkpoints', () => {
  it('are made by the worker, not by a commit on the platform connection', async () => {
    const tmp = await makeTempDir();
    const file = join(tmp.dir, 'nimbus.db');
    const db = await openSqliteDatabase({ file });
    try {
      const pragma = await sql<{
        wal_autocheckpoint: number;
      }>`pragma wal_autocheckpoint`.execute(db);
      assert.equal(pragma.rows[0]?.wal_autocheckpoint, fallbackAutocheckpointPages);

      await sql`create table filler (body text not null)`.execute(db);
      // Far below the connection's own bound: only the worker copies these pages into the file.
      const sizeBefore = statSync(file).size;
      for (let i = 0; i < 20; i++) {
        await sql`insert into filler (body) values (${'x'.repeat(8000)})`.execute(db);
      }
      await waitUntil(
        () => statSync(file).size >= sizeBefore + 20 * 8000,
        'the worker to checkpoint the WAL into the database file',
      );
    } finally {
      await db.destroy();
      await tmp.cleanup();
    }
  });
});
