import { join } from 'node:path';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { makeTestSchema } from './postgres.js';
import { makeTempDir } from './temp-dir.js';

export interface StoreVariant {
  name: string;
  open(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

/** Both dialects, so behaviour tests prove the same thing on SQLite and PostgreSQL. */
export const storeVariants: StoreVariant[] = [
  {
    name: 'sqlite',
    async open() {
      const tmp = await makeTempDir();
      const store = await openSqliteStore({ file: join(tmp.dir, 'nimbus.db') });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await tmp.cleanup();
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await makeTestSchema();
      const store = await openPostgresStore({ url: schema.url, schema: schema.schema });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await schema.drop();
        },
      };
    },
  },
];
