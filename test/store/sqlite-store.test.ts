import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { runStoreContract } from './store-contract.js';

runStoreContract('sqlite', async () => {
  const tmp = await makeTempDir('nimbus-store-');
  const store = await openSqliteStore({ file: join(tmp.dir, 'state', 'nimbus.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await tmp.cleanup();
    },
  };
});
