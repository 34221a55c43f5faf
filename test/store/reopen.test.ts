import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('reopening a store', () => {
  it('sqlite keeps its data and does not run the migrations again', async () => {
    const tmp = await makeTempDir();
    const file = join(tmp.dir, 'nimbus.db');
    try {
      const first = await openSqliteStore({ file });
      const stage = await first.transaction((tx) =>
        tx.upsertStage({ service: 's', stage: 'd', region: 'r', now: 'n' }),
      );
      await first.close();
      const applied = readMigrations(file);
      const expected = Object.keys(await migrationProvider('sqlite').getMigrations()).sort();
      assert.deepEqual(
        applied.map((m) => m.name),
        expected,
      );

      const second = await openSqliteStore({ file });
      try {
        assert.deepEqual(await second.listStages(), [stage]);
      } finally {
        await second.close();
      }
      assert.deepEqual(readMigrations(file), applied);
    } finally {
      await tmp.cleanup();
    }
  });

  it('sqlite runs with WAL and foreign keys on', async () => {
    const tmp = await makeTempDir();
    try {
      const file = join(tmp.dir, 'nimbus.db');
      const store = await openSqliteStore({ file });
      await store.close();
      const db = new BetterSqlite3(file, { readonly: true });
      try {
        // journal_mode is stored in the file; foreign_keys is per connection, proven by the
        // contract's cascade tests.
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
    } finally {
      await tmp.cleanup();
    }
  });

  it('postgres keeps its data across opens of the same schema', async () => {
    const pg = await makeTestSchema();
    try {
      const first = await openPostgresStore({ url: pg.url, schema: pg.schema });
      const stage = await first.transaction((tx) =>
        tx.upsertStage({ service: 's', stage: 'd', region: 'r', now: 'n' }),
      );
      await first.close();
      const second = await openPostgresStore({ url: pg.url, schema: pg.schema });
      try {
        assert.deepEqual(await second.listStages(), [stage]);
      } finally {
        await second.close();
      }
    } finally {
      await pg.drop();
    }
  });

  it('close() may be called twice', async () => {
    const tmp = await makeTempDir();
    try {
      const store = await openSqliteStore({ file: join(tmp.dir, 'nimbus.db') });
      await store.close();
      await store.close();
    } finally {
      await tmp.cleanup();
    }
  });
});

function readMigrations(file: string): { name: string; timestamp: string }[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db.prepare('select name, timestamp from kysely_migration order by name').all() as {
      name: string;
      timestamp: string;
    }[];
  } finally {
    db.close();
  }
}
