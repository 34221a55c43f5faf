import { join } from 'node:path';
import { SqlWorkQueue } from '../../src/queue/sql-work-queue.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { runWorkQueueContract } from './work-queue-contract.js';

runWorkQueueContract('sqlite', async (clock) => {
  const tmp = await makeTempDir('nimbus-queue-');
  const file = join(tmp.dir, 'nimbus.db');
  const db = await openSqliteDatabase({ file });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.destroy();
  };
  return {
    queue: new SqlWorkQueue(db, { flavor: 'sqlite', clock }),
    // A second better-sqlite3 handle on the same file: what another process would have.
    async connect() {
      const other = await openSqliteDatabase({ file });
      return {
        queue: new SqlWorkQueue(other, { flavor: 'sqlite', clock }),
        close: () => other.destroy(),
      };
    },
    close,
    async cleanup() {
      await close();
      await tmp.cleanup();
    },
  };
});
