import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres.js';
import { makeTestSchema, testPgUrl } from '../helpers/postgres.js';
import { runStoreContract } from './store-contract.js';

// A schema per test: no test sees another's rows, and dropping it removes everything.
runStoreContract('postgres', async () => {
  const pg = await makeTestSchema();
  const store = await openPostgresStore({ url: pg.url, schema: pg.schema });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await pg.drop();
    },
  };
});

// Cluster nodes start together against one new schema; before the migration lock, two of them
// creating the same table at once failed with a duplicate key in pg_type.
describe('postgres store: concurrent first start', () => {
  it('four stores opened at once on a schema that does not exist yet all migrate', async () => {
    const pg = await makeTestSchema();
    await pg.drop(); // the stores create it themselves, concurrently
    try {
      const stores = await Promise.all(
        [1, 2, 3, 4].map(() => openPostgresStore({ url: pg.url, schema: pg.schema })),
      );
      for (const store of stores) assert.deepEqual(await store.listStages(), []);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await pg.drop();
    }
  });
});

// Kysely's own introspector listed every schema's tables and failed when another client dropped
// a schema meanwhile ("schema ... does not exist"): the CI flake of suites sharing one database.
describe('postgres store: other schemas come and go while it starts', () => {
  it('opens while other clients drop their schemas', async () => {
    const admin = new pg.Client({ connectionString: testPgUrl });
    await admin.connect();
    try {
      for (let round = 0; round < 3; round++) {
        const others = Array.from({ length: 8 }, (_, i) => `t_churn_${process.pid}_${round}_${i}`);
        for (const name of others) {
          await admin.query(`CREATE SCHEMA "${name}"`);
          await admin.query(`CREATE TABLE "${name}".t (id int primary key, v text)`);
        }
        const mine = await makeTestSchema();
        const dropping = (async () => {
          for (const name of others) await admin.query(`DROP SCHEMA "${name}" CASCADE`);
        })();
        const store = await openPostgresStore({ url: mine.url, schema: mine.schema });
        await dropping;
        await store.close();
        await mine.drop();
      }
    } finally {
      await admin.end();
    }
  });
});
