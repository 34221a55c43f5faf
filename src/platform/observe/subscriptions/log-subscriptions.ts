/**
 * `cloudwatchLog` events (docs/logs.md#subscriptions): every pass reads each subscription's
 * source function's new log events from the LogStore after its durable cursor, keeps the ones
 * its filter pattern matches and hands them to the AsyncInvoker in the CloudWatch Logs
 * subscription shape (`{awslogs: {data}}`: base64 of gzip of a DATA_MESSAGE), one message per
 * log stream. The cursor moves only after the events are accepted, so a crash repeats a batch
 * rather than losing it (at least once); the idempotency key of a batch (its subscription and
 * event ids) makes a repeat within the async idempotency window, or a second cluster node
 * reading the same batch, a no-op.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { FunctionDefinition } from '../../../model/service-definition.js';
import type { LogStore, StoredLogEvent } from '../log-store.js';
import type { LogMatcher } from './filter-pattern.js';
import { logSubscriptionOf } from './log-subscription-config.js';

interface CursorTables {
  log_subscription_cursors: {
    id: string;
    owner: string;
    last_event_id: number | string | bigint;
    updated_at: number;
  };
  log_events: { id: number; function_name: string };
}

export interface LogSubscription {
  id: string;
  /** Deployed name and qualifier of the subscriber. */
  target: string;
  qualifier: string;
  sourceFunction: string;
  logGroup: string;
  filterName: string;
  matches: LogMatcher;
}

export interface LogSubscriptionsOptions {
  db: unknown;
  logs: Pick<LogStore, 'query'>;
  accept: (
    functionName: string,
    qualifier: string,
    event: string,
    idempotencyKey: string,
  ) => Promise<unknown>;
  accountId: string;
  clock: { now(): number };
  logger: Pick<Logger, 'error'>;
  /** Events read per subscription and pass. */
  batchSize?: number;
}

/** Raw JSON per delivered message: base64(gzip) of it stays well under the 256 KB async limit. */
const maxMessageJsonBytes = 150 * 1024;

export class LogSubscriptions {
  readonly #o: LogSubscriptionsOptions;
  readonly #db: Kysely<CursorTables>;
  readonly #byStage = new Map<string, LogSubscription[]>();

  constructor(options: LogSubscriptionsOptions) {
    this.#o = options;
    this.#db = options.db as Kysely<CursorTables>;
  }

  /**
   * A stage's subscriptions (a reconciler reaction). A new one starts at the end of its source's
   * log, as a new AWS subscription filter does; a removed one's cursor goes.
   */
  async setStage(
    state: { service: string; stage: string; functions: readonly FunctionDefinition[] },
    onProblem: (fn: string, message: string) => void,
  ): Promise<void> {
    const owner = `${state.service}/${state.stage}`;
    const subs: LogSubscription[] = [];
    for (const fn of state.functions) {
      for (const [index, event] of fn.events.entries()) {
        if (event.kind !== 'cloudwatchLog') continue;
        const config = (event as { config: Record<string, unknown> }).config;
        let parsed: ReturnType<typeof logSubscriptionOf>;
        try {
          parsed = logSubscriptionOf(config, fn.name);
        } catch (error) {
          onProblem(fn.key, `events[${index}].cloudwatchLog: ${(error as Error).message}`);
          continue;
        }
        const id = createHash('sha256')
          .update(`${owner}\0${fn.key}\0${index}\0${parsed.logGroup}\0${parsed.filter}`)
          .digest('hex')
          .slice(0, 32);
        subs.push({
          id,
          target: fn.name,
          qualifier: state.stage,
          sourceFunction: parsed.sourceFunction,
          logGroup: parsed.logGroup,
          filterName: `${fn.name}-cloudwatchLog-${index}`,
          matches: parsed.matches,
        });
      }
    }
    const now = this.#o.clock.now();
    for (const sub of subs) {
      const last = await this.#db
        .selectFrom('log_events')
        .select((eb) => eb.fn.max('id').as('max'))
        .where('function_name', '=', sub.sourceFunction)
        .executeTakeFirst();
      await this.#db
        .insertInto('log_subscription_cursors')
        .values({ id: sub.id, owner, last_event_id: Number(last?.max ?? 0), updated_at: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
    let stale = this.#db.deleteFrom('log_subscription_cursors').where('owner', '=', owner);
    if (subs.length > 0)
      stale = stale.where(
        'id',
        'not in',
        subs.map((s) => s.id),
      );
    await stale.execute();
    if (subs.length === 0) this.#byStage.delete(owner);
    else this.#byStage.set(owner, subs);
  }

  /** One pass over every subscription; a failing one does not hold up the others. */
  async run(): Promise<void> {
    for (const subs of [...this.#byStage.values()]) {
      for (const sub of subs) {
        try {
          // A full batch means there may be more: keep reading until the log is caught up.
          while (await this.#pass(sub)) {}
        } catch (error) {
          this.#o.logger.error(
            { err: error, subscription: sub.filterName },
            'log subscription delivery failed; retrying',
          );
        }
      }
    }
  }

  async #pass(sub: LogSubscription): Promise<boolean> {
    const row = await this.#db
      .selectFrom('log_subscription_cursors')
      .select('last_event_id')
      .where('id', '=', sub.id)
      .executeTakeFirst();
    if (!row) return false;
    const after = Number(row.last_event_id);
    const limit = this.#o.batchSize ?? 500;
    const events = await this.#o.logs.query({ functionName: sub.sourceFunction, after, limit });
    if (events.length === 0) return false;
    const matching = events.filter((e) => sub.matches(e.message));
    for (const message of this.#messages(sub, matching)) {
      const first = message.events[0] as StoredLogEvent;
      const last = message.events[message.events.length - 1] as StoredLogEvent;
      const body = {
        messageType: 'DATA_MESSAGE',
        owner: this.#o.accountId,
        logGroup: sub.logGroup,
        logStream: message.stream,
        subscriptionFilters: [sub.filterName],
        logEvents: message.events.map((e) => ({
          id: String(e.id).padStart(20, '0'),
          timestamp: e.timestamp,
          message: e.message,
        })),
      };
      const data = gzipSync(JSON.stringify(body)).toString('base64');
      await this.#o.accept(
        sub.target,
        sub.qualifier,
        JSON.stringify({ awslogs: { data } }),
        `logsub:${sub.id}:${first.id}-${last.id}`,
      );
    }
    const lastId = (events[events.length - 1] as StoredLogEvent).id;
    await this.#db
      .updateTable('log_subscription_cursors')
      .set({ last_event_id: lastId, updated_at: this.#o.clock.now() })
      .where('id', '=', sub.id)
      .where('last_event_id', '<', lastId)
      .execute();
    return events.length === limit;
  }

  /** Groups by log stream (one stream per AWS message), split to stay within the size cap. */
  *#messages(
    _sub: LogSubscription,
    events: StoredLogEvent[],
  ): Generator<{ stream: string; events: StoredLogEvent[] }> {
    const byStream = new Map<string, StoredLogEvent[]>();
    for (const e of events) {
      const list = byStream.get(e.logStream) ?? [];
      list.push(e);
      byStream.set(e.logStream, list);
    }
    for (const [stream, list] of byStream) {
      let chunk: StoredLogEvent[] = [];
      let bytes = 0;
      for (const e of list) {
        const size = Buffer.byteLength(e.message) + 64;
        if (chunk.length > 0 && bytes + size > maxMessageJsonBytes) {
          yield { stream, events: chunk };
          chunk = [];
          bytes = 0;
        }
        chunk.push(e);
        bytes += size;
      }
      if (chunk.length > 0) yield { stream, events: chunk };
    }
  }
}
