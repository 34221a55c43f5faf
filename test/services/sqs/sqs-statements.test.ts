/**
 * The SQS hot statements on SQLite find their rows the cheap way: a batch delete by primary key,
 * not by reading every message of the queue (which SQLite's planner chose for `queue = ?` with
 * no statistics: 1 ms per batch with a backlog), and a claim off the (queue, visible_at, seq)
 * index without sorting.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CompiledQuery, type Kysely } from 'kysely';
import { type SqsTables, sqsStatements } from '../../../src/services/sqs/sqs-statements.js';
import { databaseVariants } from '../../helpers/store-variants.js';

const sqlite = databaseVariants.find((v) => v.name === 'sqlite')!;
let db: Kysely<SqsTables>;
let cleanup: () => Promise<void>;
before(async () => {
  const opened = await sqlite.open();
  db = opened.db as unknown as Kysely<SqsTables>;
  cleanup = opened.cleanup;
});
after(() => cleanup());

/** SQLite's plan of a statement, its parameters bound to placeholders' stand-ins. */
async function plan(text: string): Promise<string> {
  const placeholders = text.split('?').length - 1;
  const result = await db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${text}`, Array(placeholders).fill(1)),
  );
  return result.rows.map((r) => r.detail).join(' | ');
}

test('SQLite: a batch delete finds its messages by primary key, at every batch size', async () => {
  const statements = sqsStatements(db, 'sqlite');
  for (const n of [1, 5, 10]) {
    const detail = await plan(statements.deleteLeased(n).sql);
    assert.match(detail, /sqlite_autoindex_sqs_messages_1 \(id=\?\)/, `${n}: ${detail}`);
    assert.doesNotMatch(detail, /sqs_messages_queue_idx/, `${n}: ${detail}`);
  }
});

test('SQLite: a lease finds its messages by primary key', async () => {
  const detail = await plan(sqsStatements(db, 'sqlite').lease(10).sql);
  assert.match(detail, /sqlite_autoindex_sqs_messages_1 \(id=\?\)/, detail);
});

test('SQLite: a standard claim reads the queue index in order, without a sort', async () => {
  const compiled = sqsStatements(db, 'sqlite').standardCandidates.bind({
    queue: 'q',
    now: 1,
    sentAfter: 0,
    max: 10,
  });
  const detail = await plan(compiled.sql);
  assert.match(detail, /sqs_messages_queue_idx/, detail);
  assert.doesNotMatch(detail, /TEMP B-TREE/, detail);
});
