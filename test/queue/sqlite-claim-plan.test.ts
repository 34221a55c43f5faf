import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery, type Kysely } from 'kysely';
import { claimJobs, listDeadJobs, readyQueues } from '../../src/queue/sql-work-queue-statements.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// SQLite uses a partial index only when the query repeats its predicate term for term; a
// reworded predicate would silently turn every claim into a table scan. These plans catch that.
describe('SQLite query plans of the WorkQueue', () => {
  let db: Kysely<Database>;
  let cleanup: () => Promise<void>;

  before(async () => {
    const tmp = await makeTempDir('nimbus-queue-plan-');
    db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
    cleanup = async () => {
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(async () => {
    await cleanup();
  });

  async function plan(compiled: CompiledQuery): Promise<string> {
    const explain = CompiledQuery.raw(`explain query plan ${compiled.sql}`, [
      ...compiled.parameters,
    ]);
    const { rows } = await db.executeQuery<{ detail: string }>(explain);
    return rows.map((r) => r.detail).join('\n');
  }

  it('claims through work_jobs_claim_idx by queue and run_at', async () => {
    const q = claimJobs(db, 'sqlite', {
      queue: 'a',
      now: 1,
      max: 5,
      leaseToken: 't',
      leaseUntil: 2,
    });
    const text = await plan(q.compile());
    assert.match(text, /USING INDEX work_jobs_claim_idx \(queue=\? AND run_at<\?\)/);
    assert.doesNotMatch(text, /SCAN work_jobs/);
  });

  it('finds ready queues by index probes', async () => {
    const text = await plan(readyQueues(1).compile(db));
    assert.doesNotMatch(text, /SCAN work_jobs(?! USING)/);
    assert.match(
      text,
      /SEARCH j EXISTS USING INDEX work_jobs_claim_idx \(queue=\? AND run_at<\?\)/,
    );
  });

  it('lists dead letters through work_jobs_dead_idx', async () => {
    const text = await plan(listDeadJobs(db, 'a', 10).compile());
    assert.match(text, /USING INDEX work_jobs_dead_idx/);
  });
});
