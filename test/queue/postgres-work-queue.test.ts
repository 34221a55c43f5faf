import { SqlWorkQueue } from '../../src/queue/sql-work-queue.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { runWorkQueueContract } from './work-queue-contract.js';

// A schema per test: no test sees another's rows, and dropping it removes everything.
runWorkQueueContract('postgres', async (clock) => {
  const pg = await makeTestSchema();
  const db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.destroy();
  };
  return {
    queue: new SqlWorkQueue(db, { flavor: 'postgres', clock }),
    // A pool of its own: claims from it race the others' as another node's would.
    async connect() {
      const other = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
      return {
        queue: new SqlWorkQueue(other, { flavor: 'postgres', clock }),
        close: () => other.destroy(),
      };
    },
    close,
    async cleanup() {
      await close();
      await pg.drop();
    },
  };
});
