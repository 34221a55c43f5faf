import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../store/schema.js';
import type { AsyncQueueGauge } from './prom-metrics.js';

/**
 * Depth and oldest age of every async queue (one per function) in one grouped read of the work
 * queue's table, at scrape time. Dead letters are not waiting: they are counted elsewhere.
 */
export async function asyncQueueGauges(
  db: Kysely<Database>,
  now: number,
): Promise<AsyncQueueGauge[]> {
  const { rows } = await sql<{ queue: string; depth: unknown; oldest: unknown }>`
    select queue, count(*) as depth, min(enqueued_at) as oldest
    from work_jobs where state <> 'dead' group by queue`.execute(db);
  return rows.map((r) => ({
    functionName: r.queue,
    depth: Number(r.depth),
    oldestAgeSeconds: Math.max(0, (now - Number(r.oldest)) / 1000),
  }));
}

/**
 * The same gauges when the queue is outside the store (NATS JetStream): read from the task
 * records instead, the events accepted and not yet final (Enqueued, Running, Retrying). The
 * store's index on (function_name, created_at) serves it; dead letters are final (Failed).
 */
export async function asyncRecordGauges(
  db: Kysely<Database>,
  now: number,
): Promise<AsyncQueueGauge[]> {
  const { rows } = await sql<{ queue: string; depth: unknown; oldest: unknown }>`
    select function_name as queue, count(*) as depth, min(created_at) as oldest
    from async_invocations where status in ('Enqueued', 'Running', 'Retrying')
    group by function_name`.execute(db);
  return rows.map((r) => ({
    functionName: r.queue,
    depth: Number(r.depth),
    oldestAgeSeconds: Math.max(0, (now - Number(r.oldest)) / 1000),
  }));
}
