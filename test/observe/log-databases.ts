import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

export interface DatabaseVariant {
  name: string;
  open(): Promise<{ db: Kysely<Database>; cleanup: () => Promise<void> }>;
}

/** The migrated handle on both dialects, as the composition root gets it from openDatabase. */
export const databaseVariants: DatabaseVariant[] = [
  {
    name: 'sqlite',
    async open() {
      const tmp = await makeTempDir();
      const db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
      return {
        db,
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
