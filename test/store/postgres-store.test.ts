import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore } from '../../src/store/postgres.js';
import { makeTestSchema } from '../helpers/postgres.js';
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
