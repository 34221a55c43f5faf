import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openPostgresDatabase, openPostgresStore } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase, openSqliteStore } from '../../src/store/sqlite.js';
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

export interface DatabaseVariant {
  name: string;
  open(): Promise<{
    db: Kysely<Database>;
    /** SQLite's database file (its WAL is `<file>-wal`): what a test reads the bytes of. */
    file?: string;
    cleanup: () => Promise<void>;
  }>;
}

export type OpenedDatabase = Awaited<ReturnType<DatabaseVariant['open']>>;

/** The migrated handle on both dialects, as the composition root gets it from openDatabase. */
export const databaseVariants: DatabaseVariant[] = [
  {
    name: 'sqlite',
    async open() {
      const tmp = await makeTempDir();
      const file = join(tmp.dir, 'nimbus.db');
      const db = await openSqliteDatabase({ file });
      return {
        db,
        file,
        cleanup: async () => {
          await db.destroy();
          await tmp.cleanup();
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await makeTestSchema();
      const db = await openPostgresDatabase({ url: schema.url, schema: schema.schema });
      return {
        db,
        cleanup: async () => {
          await db.destroy();
          await schema.drop();
        },
      };
    },
  },
];
