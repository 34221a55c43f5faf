/**
 * Putting a message into a queue on behalf of another part of the platform (SNS subscriptions,
 * EventBridge targets, async destinations): the same digests, FIFO rules and wake-up as a
 * SendMessage, without an HTTP call. FIFO queues need a group; one is made up when the sender
 * has none, and the deduplication id falls back to the body's hash.
 */
import { createHash } from 'node:crypto';
import { NimbusError } from '../../errors/nimbus-error.js';
import type { Clock } from '../../model/clock.js';
import { md5OfAttributes, md5OfBody } from './message-md5.js';
import type { QueueWaiters } from './queue-waiters.js';
import type { MessageAttributeValue, SqsStore } from './sqs-store.js';

export class QueueNotFoundError extends NimbusError {
  constructor(queue: string) {
    super('NIMBUS_NOT_FOUND', `SQS queue ${queue} does not exist`);
  }
}

export interface DeliveredMessage {
  body: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  groupId?: string;
  dedupId?: string;
}

export function queueDelivery(deps: { store: SqsStore; waiters: QueueWaiters; clock: Clock }) {
  return async (queue: string, message: DeliveredMessage): Promise<{ messageId: string }> => {
    const row = await deps.store.findQueue(queue);
    if (!row) throw new QueueNotFoundError(queue);
    const fifo = row.attributes.FifoQueue === 'true';
    const attributes = message.messageAttributes ?? {};
    const md5Attributes = md5OfAttributes(attributes);
    const { id } = await deps.store.send(
      queue,
      {
        body: message.body,
        messageAttributes: attributes,
        md5Body: md5OfBody(message.body),
        ...(md5Attributes ? { md5Attributes } : {}),
        delayMs: fifo ? 0 : Number(row.attributes.DelaySeconds ?? '0') * 1000,
        ...(fifo
          ? {
              groupId: message.groupId ?? 'default',
              dedupId:
                message.dedupId ?? createHash('sha256').update(message.body, 'utf8').digest('hex'),
            }
          : {}),
      },
      deps.clock.now(),
    );
    deps.waiters.wake(queue);
    return { messageId: id };
  };
}
