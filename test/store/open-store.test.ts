import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openStore, parseStoreUrl } from '../../src/store/open-store.js';
import { makeTestSchema, testPgUrl } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dataDir = '/var/lib/nimbus';

describe('parseStoreUrl', () => {
  it('reads the sqlite forms', () => {
    assert.deepEqual(parseStoreUrl('sqlite:', { dataDir }), {
      kind: 'sqlite',
      file: '/var/lib/nimbus/nimbus.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:/srv/state.db', { dataDir }), {
      kind: 'sqlite',
      file: '/srv/state.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:///srv/state.db', { dataDir }), {
      kind: 'sqlite',
      file: '/srv/state.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:sub/state.db', { dataDir }), {
      kind: 'sqlite',
      file: '/var/lib/nimbus/sub/state.db',
    });
  });

  it('reads the postgres forms, lifting ?schema= out of the URL', () => {
    assert.deepEqual(parseStoreUrl('postgres://u:p@db:5432/nimbus', { dataDir }), {
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/nimbus',
    });
    assert.deepEqual(
      parseStoreUrl('postgresql://u@db/nimbus?schema=tenant_a&sslmode=require', { dataDir }),
      { kind: 'postgres', url: 'postgresql://u@db/nimbus?sslmode=require', schema: 'tenant_a' },
    );
  });

  it('refuses anything else with NIMBUS_STORE_BAD_URL, never echoing credentials', () => {
    for (const url of [
      '',
      'sqlite',
      'mysql://root:s3cret@db/x',
      'sqlite://host/x.db',
      'x:s3cret',
    ]) {
      assert.throws(
        () => parseStoreUrl(url, { dataDir }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'NIMBUS_STORE_BAD_URL', url);
          assert.match(err.message, /sqlite:|postgres/);
          assert.doesNotMatch(err.message, /s3cret/);
          return true;
        },
      );
    }
  });
});

describe('openStore', () => {
  it('opens <dataDir>/nimbus.db for sqlite:, creating the directory', async () => {
    const tmp = await makeTempDir();
    try {
      const dir = join(tmp.dir, 'data');
      const store = await openStore('sqlite:', { dataDir: dir });
      await store.close();
      assert.ok(existsSync(join(dir, 'nimbus.db')));
    } finally {
      await tmp.cleanup();
    }
  });

  it('rejects a bad URL', async () => {
    await assert.rejects(openStore('redis://localhost', { dataDir }), {
      code: 'NIMBUS_STORE_BAD_URL',
    });
  });

  it('opens postgres in the ?schema= schema, creating it when missing', async () => {
    const pgSchema = await makeTestSchema();
    // A schema name the helper made unique, but not the one it created: openStore must create it.
    const schema = `${pgSchema.schema}_x`;
    const admin = new pg.Client({ connectionString: testPgUrl });
    await admin.connect();
    try {
      const store = await openStore(`${testPgUrl}?schema=${schema}`, { dataDir });
      await store.transaction((tx) =>
        tx.upsertStage({ service: 's', stage: 'd', region: 'r', now: 'n' }),
      );
      await store.close();
      const tables = await admin.query(
        'select table_name from information_schema.tables where table_schema = $1 order by 1',
        [schema],
      );
      // Every migration's tables land in the asked schema (the list grows with each service, so
      // only the core ones are named here).
      const names = new Set(tables.rows.map((r) => r.table_name as string));
      for (const core of ['kysely_migration', 'stages', 'functions', 'deployments', 'work_jobs']) {
        assert.ok(names.has(core), `${core} in ${schema}: ${[...names].join(', ')}`);
      }
      const migrations = await admin.query(
        `select count(*)::int as n from "${schema}".kysely_migration`,
      );
      assert.ok(migrations.rows[0].n >= 20, 'every migration ran in the schema');
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      await pgSchema.drop();
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(openStore(`${testPgUrl}?schema=a%22%3Bdrop`, { dataDir }), {
      code: 'NIMBUS_STORE_BAD_SCHEMA',
    });
  });
});
