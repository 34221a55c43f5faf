import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimJobs, readyQueues } from '../../src/queue/sql-work-queue-statements.js';
import type { Database } from '../../src/store/schema.js';
import { compileOnlyKysely } from '../helpers/compile-only-kysely.js';

// Compile-only handles: the builders do no I/O, so their SQL is checked without a database.
const pg = compileOnlyKysely<Database>('postgres');
const lite = compileOnlyKysely<Database>('sqlite');

const args = { queue: "fn'; drop table x", now: 1000, max: 5, leaseToken: 'tok', leaseUntil: 2000 };

describe('claimJobs', () => {
  it('locks the picked rows with SKIP LOCKED in a materialized CTE on PostgreSQL', () => {
    const { sql, parameters } = claimJobs(pg, 'postgres', args).compile();
    assert.match(sql, /^with "next" as materialized \(select "id" from "work_jobs"/);
    assert.match(sql, /limit \$\d+ for update skip locked\)/);
    assert.match(sql, /returning \*$/);
    assert.ok(parameters.includes(args.queue), 'the queue name is bound');
    assert.doesNotMatch(sql, /drop table/);
  });

  it('is one plain UPDATE ... RETURNING on SQLite, repeating the partial index predicate', () => {
    const { sql } = claimJobs(lite, 'sqlite', args).compile();
    assert.doesNotMatch(sql, /for update|materialized/);
    assert.match(sql, /^with "next" as \(select "id" from "work_jobs" where/);
    assert.ok(sql.includes(`state in ('queued', 'leased')`));
    assert.match(sql, /order by "run_at", "id" limit \?\) update "work_jobs"/);
  });
});

describe('readyQueues', () => {
  it('binds the time and never splices it', () => {
    const { sql, parameters } = readyQueues(123456).compile(pg);
    assert.match(sql, /^with recursive qs\(queue\)/);
    assert.deepEqual(parameters, [123456, 123456]);
    assert.doesNotMatch(sql, /123456/);
  });
});
