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
