/**
 * An SQS queue as a queue source of the event-source-mapping engine
 * (src/platform/event-sources/source-port.ts): receives claim messages the way ReceiveMessage
 * does (the queue's visibility timeout, its redrive to the dead-letter queue), wait on the
 * same long-poll waiters, and records come out in the shape Lambda delivers them.
 * Every node of a cluster may poll the same queue: a claim is a conditional update, so one
 * message is leased to one poller at a time, as SQS receives are.
 */
import { performance } from 'node:perf_hooks';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import { parsedOrRaw } from '../../platform/event-sources/filter-pattern.js';
import type { QueueSource, SourceRecord } from '../../platform/event-sources/source-port.js';
import { parseRedrivePolicy } from './queue-attributes.js';
import type { QueueWaiters } from './queue-waiters.js';
import type { MessageRow, SqsStore } from './sqs-store.js';

export interface SqsSourceDeps {
  store: SqsStore;
  waiters: QueueWaiters;
  clock: Clock;
}

/** SQS answers at most 10 messages per receive; the engine asks again for more. */
const maxPerReceive = 10;

export function sqsEventSource(
  deps: SqsSourceDeps,
  queue: string,
  arn: string,
  region: string,
): QueueSource {
  return {
    kind: 'queue',
    async receive(max, waitMs, signal) {
      const deadline = performance.now() + waitMs;
      for (;;) {
        const row = await deps.store.findQueue(queue);
        // Thrown, so the engine backs off and tries again: the queue may be created later.
        if (!row) throw new Error(`queue ${queue} does not exist`);
        const redrive = row.attributes.RedrivePolicy
          ? parseRedrivePolicy(row.attributes.RedrivePolicy)
          : undefined;
        const claimed = await deps.store.claim(queue, {
          now: deps.clock.now(),
          max: Math.min(max, maxPerReceive),
          visibilityMs: Number(row.attributes.VisibilityTimeout) * 1000,
          retentionMs: Number(row.attributes.MessageRetentionPeriod) * 1000,
          fifo: row.attributes.FifoQueue === 'true',
          ...(redrive && (await deps.store.findQueue(redrive.deadLetterQueue)) ? { redrive } : {}),
        });
        const left = deadline - performance.now();
        if (claimed.length > 0 || left <= 0 || signal.aborted) {
          return claimed.map((m) => sqsRecord(m, arn, region));
        }
        // Once the waiters have stopped they answer at once; the engine is stopping too, so
        // its signal is waited for instead of asking again and again.
        if (deps.waiters.stopped) await abortedOrAfter(signal, left);
        else await deps.waiters.wait(queue, left, signal);
      }
    },
    async remove(records) {
      await deps.store.deleteLeased(
        queue,
        records.map((r) => receiptOf.get(r) ?? (r.record.receiptHandle as string)),
      );
    },
  };
}

/** The receipt each record was received with, without building its record object. */
const receiptOf = new WeakMap<SourceRecord, string>();

/**
 * The record as Lambda puts it in `event.Records` (attribute names and casing as Lambda's). Its
 * JSON text, which is what the function is sent, is written directly; the object is built only
 * when something reads it (filter patterns, tests).
 */
export function sqsRecord(m: MessageRow, arn: string, region: string): SourceRecord {
  let built: Record<string, unknown> | undefined;
  const record = () => {
    built ??= recordObject(m, arn, region);
    return built;
  };
  const source: SourceRecord = {
    id: m.id,
    get record() {
      return record();
    },
    json: recordText(m, arn, region),
    // Built on first read: only mappings with filter patterns read it, and parsing a body that
    // is not JSON throws, which costs more than the rest of the record.
    get filterView() {
      return { ...record(), body: parsedOrRaw(m.body) };
    },
    arrivedAt: m.sentAt,
  };
  if (m.receipt !== undefined) receiptOf.set(source, m.receipt);
  return source;
}

function systemAttributes(m: MessageRow): Record<string, string> {
  const attributes: Record<string, string> = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: NIMBUS_ACCOUNT_ID,
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
  };
  if (m.groupId !== undefined) {
    attributes.SequenceNumber = String(m.seq).padStart(20, '0');
    attributes.MessageGroupId = m.groupId;
    if (m.dedupId !== undefined) attributes.MessageDeduplicationId = m.dedupId;
  }
  return attributes;
}

/** Message attributes in Lambda's casing. */
function lambdaMessageAttributes(m: MessageRow): Record<string, Record<string, unknown>> {
  const messageAttributes: Record<string, Record<string, unknown>> = {};
  for (const [name, v] of Object.entries(m.messageAttributes)) {
    messageAttributes[name] = {
      ...(v.StringValue === undefined ? {} : { stringValue: v.StringValue }),
      ...(v.BinaryValue === undefined ? {} : { binaryValue: v.BinaryValue }),
      stringListValues: [],
      binaryListValues: [],
      dataType: v.DataType,
    };
  }
  return messageAttributes;
}

function recordObject(m: MessageRow, arn: string, region: string): Record<string, unknown> {
  return {
    messageId: m.id,
    receiptHandle: m.receipt,
    body: m.body,
    attributes: systemAttributes(m),
    messageAttributes: lambdaMessageAttributes(m),
    md5OfBody: m.md5Body,
    ...(m.md5Attributes === undefined ? {} : { md5OfMessageAttributes: m.md5Attributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/** `JSON.stringify(recordObject(m, arn, region))`, key for key, without the object. */
function recordText(m: MessageRow, arn: string, region: string): string {
  const q = JSON.stringify;
  const attributes =
    m.groupId === undefined
      ? `{"ApproximateReceiveCount":"${m.receiveCount}","SentTimestamp":"${m.sentAt}",` +
        `"SenderId":"${NIMBUS_ACCOUNT_ID}","ApproximateFirstReceiveTimestamp":"${m.firstReceivedAt ?? m.sentAt}"}`
      : q(systemAttributes(m));
  const messageAttributes = hasAny(m.messageAttributes) ? q(lambdaMessageAttributes(m)) : '{}';
  const md5Attributes =
    m.md5Attributes === undefined ? '' : `,"md5OfMessageAttributes":${q(m.md5Attributes)}`;
  return (
    `{"messageId":${q(m.id)},${m.receipt === undefined ? '' : `"receiptHandle":${q(m.receipt)},`}` +
    `"body":${q(m.body)},"attributes":${attributes},"messageAttributes":${messageAttributes},` +
    `"md5OfBody":${q(m.md5Body)}${md5Attributes},"eventSource":"aws:sqs",` +
    `"eventSourceARN":${q(arn)},"awsRegion":${q(region)}}`
  );
}

function hasAny(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function abortedOrAfter(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
